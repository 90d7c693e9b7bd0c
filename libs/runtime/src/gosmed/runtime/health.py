"""Liveness and readiness of a broker-driven service, as two files for exec probes.

A service serves no HTTP, so while it runs it touches `<dir>/live` every few seconds (its event
loop turns) and `<dir>/ready` while it can work (broker connected, store answering). The probe
`python -m gosmed.runtime.health <dir>/live` exits 1 when the file is missing or older than
MAX_AGE seconds. Standard library only: a probe starts a Python process and nothing more.
"""

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

INTERVAL = 5.0
MAX_AGE = 20.0
LIVE = "live"
READY = "ready"


class Heartbeat:
    """Touches `live` every `interval` seconds, and `ready` while `ready()` says so (removes it
    otherwise)."""

    def __init__(
        self,
        directory: Path,
        ready: Callable[[], Awaitable[bool]],
        interval: float = INTERVAL,
    ) -> None:
        self.directory = directory
        self.ready = ready
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._beat())

    async def stop(self) -> None:
        """Stop beating; a stopping service is no longer ready."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        (self.directory / READY).unlink(missing_ok=True)

    async def _beat(self) -> None:
        while True:
            (self.directory / LIVE).touch()
            if await self.ready():
                (self.directory / READY).touch()
            else:
                (self.directory / READY).unlink(missing_ok=True)
            await asyncio.sleep(self.interval)


def is_fresh(path: Path, max_age: float = MAX_AGE) -> bool:
    try:
        return time.time() - path.stat().st_mtime < max_age
    except FileNotFoundError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gosmed.runtime.health <heartbeat file>", file=sys.stderr)
        return 2
    path = Path(argv[0])
    if is_fresh(path):
        return 0
    print(f"{path} missing or older than {MAX_AGE:g} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
