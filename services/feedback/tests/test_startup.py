"""The clock of the 24-hour moderation limit moves only outside production."""

from pathlib import Path

import pytest

from gosmed.feedback.main import create
from gosmed.feedback.settings import FeedbackSettings
from gosmed.runtime.settings import ConfigurationError


@pytest.mark.parametrize(
    "moved", [{"clock_offset_seconds": 3600.0}, {"clock_offset_file": Path("offset")}]
)
def test_production_refuses_a_moved_clock(moved: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_FEEDBACK_CLOCK_OFFSET"):
        create(settings=FeedbackSettings(env="production", **moved))  # type: ignore[arg-type]


def test_development_may_move_it() -> None:
    runtime = create(settings=FeedbackSettings(clock_offset_seconds=3600.0))
    runtime.store.close()
