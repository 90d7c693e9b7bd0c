from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_IDENTITY_", extra="ignore", populate_by_name=True
    )
