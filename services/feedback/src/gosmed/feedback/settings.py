from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_FEEDBACK_", extra="ignore", populate_by_name=True
    )
