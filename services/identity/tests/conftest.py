"""The embedded store seeded with the demo people, and a clock the tests move by hand."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from gosmed.identity import demo as identity_demo
from gosmed.identity.consents import ConsentService
from gosmed.identity.service import AccessService, Repositories
from gosmed.runtime.store import open_store

from .support import REQUEST_DAYS, Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def database() -> AsyncIterator[Any]:
    """A database of this test alone in the embedded store."""
    store = open_store(None, f"identity_test_{uuid4().hex}")
    yield store.database
    store.close()


@pytest.fixture
async def repos(database: Any, clock: Clock) -> Repositories:
    """Identity's repositories with the demo people and their grants, seeded at `clock`."""
    repositories = Repositories.over(database)
    await repositories.ensure_indexes()
    await identity_demo.seed(repositories, clock())
    return repositories


@pytest.fixture
def access(repos: Repositories, clock: Clock) -> AccessService:
    return AccessService(repos, clock)


@pytest.fixture
def consents(repos: Repositories, clock: Clock) -> ConsentService:
    """Insurers' consents (a confirmed request lasts REQUEST_DAYS) and inspectors' orders."""
    return ConsentService(repos, REQUEST_DAYS, clock)
