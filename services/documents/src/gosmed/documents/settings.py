from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class DocumentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_DOCUMENTS_", extra="ignore", populate_by_name=True
    )
