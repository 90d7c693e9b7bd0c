"""The store factory: embedded by default, a real MongoDB when GOSMED_MONGODB_URL is set."""

import os
import uuid

import pymongo
import pytest

from gosmed.contracts.system import DependencyState
from gosmed.runtime.store import open_store


async def test_embedded_store_works_and_reports_itself(caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(None, "gosmed_test")
    assert store.embedded
    assert "NO MONGODB CONFIGURED" in caplog.text
    await store.database.items.insert_one({"_id": 1, "name": "x"})
    assert await store.database.items.find_one({"_id": 1}) == {"_id": 1, "name": "x"}
    assert (await store.status()).state == DependencyState.DEGRADED
    store.close()


@pytest.mark.skipif(not os.environ.get("GOSMED_MONGODB_URL"), reason="no real MongoDB configured")
async def test_real_mongodb_reports_up() -> None:
    store = open_store(os.environ["GOSMED_MONGODB_URL"], f"gosmed_test_{uuid.uuid4().hex[:8]}")
    assert not store.embedded
    assert (await store.status()).state == DependencyState.UP
    await store.client.drop_database(store.database.name)
    store.close()


async def test_embedded_store_takes_bulk_updates_and_finds_by_primary_key() -> None:
    store = open_store(None, f"gosmed_test_{uuid.uuid4().hex[:8]}")
    items = store.database.items
    await items.insert_many([{"_id": f"k{n:02}", "n": n} for n in range(20)])

    result = await items.bulk_write(
        [
            pymongo.UpdateOne({"_id": "k01", "n": {"$lt": 5}}, {"$set": {"n": 100}}),
            pymongo.UpdateOne({"_id": "k02", "n": {"$gt": 5}}, {"$set": {"n": 100}}),
            pymongo.ReplaceOne({"_id": "k03"}, {"n": 300}),
            pymongo.InsertOne({"_id": "new", "n": -1}),
        ],
        ordered=False,
    )

    assert (result.modified_count, result.inserted_count) == (2, 1)
    wanted = {"_id": {"$in": ["k05", "k01", "missing", "k02", "k01"]}, "n": {"$lt": 50}}
    found = [d async for d in items.find(wanted)]
    assert found == [{"_id": "k02", "n": 2}, {"_id": "k05", "n": 5}]
    assert await items.find_one({"_id": "k03"}) == {"_id": "k03", "n": 300}
    assert await items.count_documents({"_id": "k01", "n": 1}) == 0
    assert await items.count_documents({"_id": {"$in": []}}) == 0
    store.close()
