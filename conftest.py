"""Fixtures every test directory shares: the real broker of the tests' own vhost."""

import os

import pytest

TEST_AMQP_URL = os.environ.get(
    "GOSMED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/gosmed-test"
)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return TEST_AMQP_URL
