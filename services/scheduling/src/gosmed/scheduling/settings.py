from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_SCHEDULING_", extra="ignore", populate_by_name=True
    )

    rpc_timeout: float = Field(
        default=3.0, gt=0, le=60, description="Seconds to wait for identity and the registry."
    )
    reminder_lead_seconds: float = Field(
        default=86400,
        gt=0,
        description="How long before the start the SMS reminder goes out (24 h; tests: seconds).",
    )
    reminder_poll_seconds: float = Field(
        default=30, gt=0, le=3600, description="How often due reminders are looked for."
    )
