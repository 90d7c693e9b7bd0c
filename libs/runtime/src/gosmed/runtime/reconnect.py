"""Reopening a broker connection after it was lost, with exponential backoff."""

import asyncio
from collections.abc import Awaitable, Callable

from aio_pika.exceptions import AMQPError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential


async def reopen(
    open_connection: Callable[[], Awaitable[None]],
    *,
    max_wait: float,
    stopped: Callable[[], bool],
) -> bool:
    """Call `open_connection` until it succeeds, waiting 0.2 s, 0.4 s… up to `max_wait`
    seconds between broker or network failures; False when `stopped()` turned true first."""
    async for attempt in AsyncRetrying(
        wait=wait_exponential(multiplier=0.2, max=max_wait),
        retry=retry_if_exception_type((OSError, AMQPError, asyncio.TimeoutError)),
    ):
        with attempt:
            if stopped():
                return False
            await open_connection()
    return True
