"""Helpers the identity tests share: a clock moved by hand and the check of a refusal."""

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError


@dataclass
class Clock:
    """Starts now, whole seconds (the store keeps milliseconds), and moves only when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, *, days: int = 0) -> None:
        self.now += timedelta(days=days, seconds=seconds)


async def refused(call: Awaitable[object], code: ErrorCode) -> str:
    """The Russian message of the ServiceError `call` raises, after checking its code."""
    with pytest.raises(ServiceError) as caught:
        await call
    assert caught.value.code == code
    return caught.value.message
