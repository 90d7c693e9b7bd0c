"""The store factory: embedded by default, a real MongoDB when GOSMED_MONGODB_URL is set."""

import os
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

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


async def test_embedded_store_matches_in_and_stores_datetimes_as_mongodb_does() -> None:
    store = open_store(None, f"gosmed_test_{uuid.uuid4().hex[:8]}")
    items = store.database.items
    moscow = timezone(timedelta(hours=3))
    written = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=moscow)
    await items.insert_many(
        [
            {"_id": 1, "tags": ["a", "b"], "at": {"when": [written]}, "pair": ("x", 1)},
            {"_id": 2, "tags": "c", "at": None, "pair": None},
            {"_id": 3, "tags": ["d"], "at": {"when": []}, "pair": None},
        ]
    )

    async def ids(query: dict[str, object]) -> list[int]:
        return [d["_id"] async for d in items.find(query).sort("_id")]

    assert await ids({"tags": {"$in": ["c", "a"]}}) == [1, 2]
    assert await ids({"tags": {"$in": [re.compile("^d"), "c"]}}) == [2, 3]
    assert await ids({"tags": {"$nin": ["b", "d"]}}) == [2]
    assert await ids({"at": {"$in": [None]}}) == [2]
    assert await ids({"missing": {"$in": [None, "x"]}}) == [1, 2, 3]
    await items.update_one({"_id": 1}, {"$pull": {"tags": {"$in": ["a", "z"]}}})
    stored = await items.find_one({"_id": 1})
    assert stored is not None
    assert stored["tags"] == ["b"]
    assert stored["at"] == {"when": [datetime(2026, 5, 1, 9, 30, 15, 123000, tzinfo=UTC)]}  # ms
    assert stored["pair"] == ["x", 1]
    store.close()


async def test_embedded_store_copies_what_it_returns_and_rolls_back_a_refused_update() -> None:
    store = open_store(None, f"gosmed_test_{uuid.uuid4().hex[:8]}")
    items = store.database.items
    await items.create_index("code", unique=True)
    await items.insert_many(
        [{"_id": 1, "code": "a", "tags": [{"n": 1}]}, {"_id": 2, "code": "b", "tags": []}]
    )

    found = await items.find_one({"_id": 1})
    assert found is not None
    found["tags"][0]["n"] = 99  # a change to what was returned is not a change to the store
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await items.update_one({"_id": 2}, {"$set": {"code": "a"}, "$push": {"tags": {"n": 2}}})

    assert await items.find_one({"_id": 1}) == {"_id": 1, "code": "a", "tags": [{"n": 1}]}
    assert await items.find_one({"_id": 2}) == {"_id": 2, "code": "b", "tags": []}
    store.close()
