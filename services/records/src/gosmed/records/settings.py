from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class RecordsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_RECORDS_", extra="ignore", populate_by_name=True
    )
