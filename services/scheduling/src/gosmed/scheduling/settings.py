from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_SCHEDULING_", extra="ignore", populate_by_name=True
    )
