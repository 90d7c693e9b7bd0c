"""MongoDB through motor, or the embedded in-process store when no URL is configured."""

import logging
from dataclasses import dataclass
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase

from gosmed.contracts.system import DependencyState, DependencyStatus

log = logging.getLogger(__name__)

EMBEDDED_WARNING = (
    "NO MONGODB CONFIGURED: using the embedded in-process store. Data lives only as long as "
    "this process. Set GOSMED_MONGODB_URL for a real MongoDB."
)


@dataclass
class Store:
    """A service's database handle; repositories take `database` and declare their indexes."""

    client: Any
    database: AsyncIOMotorDatabase[Any]
    embedded: bool

    async def status(self) -> DependencyStatus:
        if self.embedded:
            return DependencyStatus(state=DependencyState.DEGRADED, detail="embedded store")
        try:
            await self.database.command("ping")
        except Exception as exc:  # any driver failure means the store is down
            return DependencyStatus(state=DependencyState.DOWN, detail=type(exc).__name__)
        return DependencyStatus(state=DependencyState.UP, detail="mongodb")

    def close(self) -> None:
        self.client.close()


def open_store(mongodb_url: str | None, database: str) -> Store:
    if mongodb_url:
        client: Any = AsyncIOMotorClient(mongodb_url, tz_aware=True, serverSelectionTimeoutMS=2000)
        return Store(client=client, database=client[database], embedded=False)
    from mongomock_motor import AsyncMongoMockClient

    from gosmed.runtime.embedded import patch_embedded_store

    patch_embedded_store()
    log.warning(EMBEDDED_WARNING)
    client = AsyncMongoMockClient(tz_aware=True)
    return Store(client=client, database=client[database], embedded=True)
