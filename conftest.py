"""Fixtures every test directory shares: the real broker of the tests' own vhost."""

import os
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from gosmed.runtime.broker_access import (
    BrokerAccess,
    BrokerAccessSettings,
    Permissions,
    vhost_of,
)
from tests.queues import FixedQueues

SHARED_AMQP_URL = os.environ.get(
    "GOSMED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/gosmed-test"
)


def worker_amqp_url(url: str, worker: str | None) -> str:
    """Under pytest-xdist each worker gets its own vhost (`gosmed-test-gw1`), so two workers
    never consume each other's queues."""
    if not worker:
        return url
    return urlunsplit(
        urlsplit(url)._replace(path="/" + quote(f"{vhost_of(url)}-{worker}", safe=""))
    )


TEST_AMQP_URL = worker_amqp_url(SHARED_AMQP_URL, os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The tests' vhost, set up as `make test` does (shared exchanges, platform users)."""
    access = BrokerAccess(BrokerAccessSettings(amqp_url=TEST_AMQP_URL))
    access.setup()
    tester = urlsplit(TEST_AMQP_URL).username or "guest"
    access.admin.put_permissions(access.vhost, tester, Permissions(".*", ".*", ".*"))
    return TEST_AMQP_URL


@pytest.fixture
async def fixed_queues(amqp_url: str) -> AsyncIterator[FixedQueues]:
    """Queues with fixed names a test takes: removed before its use and after the test."""
    queues = FixedQueues(amqp_url)
    yield queues
    await queues.delete(queues.names)
