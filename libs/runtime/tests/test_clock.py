"""The movable clock: moved by a file read at each use, never in production."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gosmed.runtime.clock import moved_clock
from gosmed.runtime.settings import ConfigurationError


def test_the_file_moves_a_running_clock(tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    clock = moved_clock(offset, setting="X", production=False, offset_seconds=60)
    assert abs(clock() - (datetime.now(UTC) + timedelta(seconds=60))) < timedelta(seconds=5)
    offset.write_text("86400")
    assert clock() - datetime.now(UTC) > timedelta(hours=24)


@pytest.mark.parametrize(("path", "seconds"), [(Path("offset"), 0.0), (None, 5.0)])
def test_production_refuses_a_moved_clock(path: Path | None, seconds: float) -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_X_CLOCK"):
        moved_clock(path, setting="GOSMED_X_CLOCK", production=True, offset_seconds=seconds)
    moved_clock(None, setting="GOSMED_X_CLOCK", production=True)  # unmoved: fine
