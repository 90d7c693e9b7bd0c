import uuid
from collections.abc import AsyncIterator

import pytest

from gosmed.runtime.settings import CommonSettings


@pytest.fixture(params=["classic", "quorum"])
def settings(amqp_url: str, request: pytest.FixtureRequest) -> CommonSettings:
    """Both queue types a deployment may choose: classic (one node) and quorum (a cluster)."""
    return CommonSettings(amqp_url=amqp_url, graceful_timeout=2.0, queue_type=request.param)


@pytest.fixture
def queue_name() -> str:
    """A queue name of this test alone, so leftovers of other runs never interfere."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def cleanup_queues(amqp_url: str) -> AsyncIterator[list[str]]:
    """Queues a test declares on the real broker, deleted afterwards."""
    import aio_pika

    names: list[str] = []
    yield names
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(name)
