"""The store factory: embedded by default, a real MongoDB when GOSMED_MONGODB_URL is set."""

import os
import uuid

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
