from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import CommonSettings


class EdgeSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_EDGE_", extra="ignore", populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins of frontend clients allowed by CORS."
    )
    rpc_timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds per RPC.")
    ping_timeout: float = Field(default=1.5, gt=0, le=30, description="Seconds per /readyz ping.")
    readiness_details: bool = Field(
        default=False,
        description="`/readyz` also answers each service's version and dependency states and "
        "the session feed's state; off: only ready or not and the names of what is down.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body.")
    jwks_min_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Least time between two lookups of identity's keys for a token naming an "
        "unknown key; within it, identity checks such a token itself.",
    )
