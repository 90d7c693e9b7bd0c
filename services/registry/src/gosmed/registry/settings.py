from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_REGISTRY_", extra="ignore", populate_by_name=True
    )
