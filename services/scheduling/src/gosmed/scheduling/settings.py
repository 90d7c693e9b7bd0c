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
