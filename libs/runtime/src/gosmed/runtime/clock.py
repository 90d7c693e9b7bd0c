"""A service clock that tests and demonstrations may move by hand (deadlines, overdue flags)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from gosmed.contracts.base import utc_now
from gosmed.runtime.settings import ConfigurationError


def moved_clock(
    offset_file: Path | None,
    *,
    setting: str,
    production: bool,
    offset_seconds: float = 0.0,
) -> Callable[[], datetime]:
    """The time plus `offset_seconds` plus the seconds in `offset_file` (read at each use, so a
    test moves a running service's clock). Refused in production (`setting` names the knob)."""
    if production and (offset_file is not None or offset_seconds):
        raise ConfigurationError(
            f"{setting} moves the clock for tests and demonstrations only: unset it in "
            "production (GOSMED_ENV=production)"
        )
    fixed = timedelta(seconds=offset_seconds)

    def clock() -> datetime:
        now = utc_now() + fixed
        if offset_file is not None and offset_file.exists():
            now += timedelta(seconds=float(offset_file.read_text().strip() or 0))
        return now

    return clock
