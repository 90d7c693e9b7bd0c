"""Fixtures every test directory shares: the real broker of the tests' own vhost."""

import os
from collections.abc import AsyncIterator

import pytest

from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings
from tests.queues import FixedQueues

TEST_AMQP_URL = os.environ.get(
    "GOSMED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/gosmed-test"
)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The tests' vhost, set up as `make test` does (shared exchanges, platform users)."""
    BrokerAccess(BrokerAccessSettings(amqp_url=TEST_AMQP_URL)).setup()
    return TEST_AMQP_URL


@pytest.fixture
async def fixed_queues(amqp_url: str) -> AsyncIterator[FixedQueues]:
    """Queues with fixed names a test takes: removed before its use and after the test."""
    queues = FixedQueues(amqp_url)
    yield queues
    await queues.delete(queues.names)
