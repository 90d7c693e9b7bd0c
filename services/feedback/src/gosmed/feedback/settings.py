from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_FEEDBACK_", extra="ignore", populate_by_name=True
    )

    rpc_timeout: float = Field(
        default=3.0, gt=0, le=60, description="Seconds to wait for identity and records."
    )
    clock_offset_seconds: float = Field(
        default=0.0,
        description="Moves the service's clock (moderation limits) by this many seconds; "
        "for demonstrations and tests of the 24-hour limit, never in production.",
    )
    clock_offset_file: Path | None = Field(
        default=None,
        description="A file holding more seconds to move the clock by, read at each use: a "
        "clock moved by hand while the service runs (end-to-end tests of the 24-hour limit).",
    )
