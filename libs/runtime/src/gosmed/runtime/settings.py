"""Settings shared by every service; each service subclasses with its own env prefix."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A process cannot start with its settings (e.g. a key missing in production); the
    message names the setting to fix."""


class CommonSettings(BaseSettings):
    """Environment-driven settings; shared ones use the bare `GOSMED_` prefix.

    A service subclass sets `env_prefix="GOSMED_<NAME>_"` for its own fields; the shared fields
    below keep their fixed names whatever the prefix.
    """

    model_config = SettingsConfigDict(env_prefix="GOSMED_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = Field(
        default="development",
        validation_alias=AliasChoices("GOSMED_ENV", "env"),
        description="`production` refuses to start without the keys a development process "
        "would generate for itself (signing keys of identity and documents, identity's data keys).",
    )

    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("GOSMED_AMQP_URL", "amqp_url"),
    )
    mongodb_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GOSMED_MONGODB_URL", "mongodb_url"),
        description="MongoDB URL; unset means the embedded in-process store.",
    )
    queue_type: Literal["classic", "quorum"] = Field(
        default="classic",
        validation_alias=AliasChoices("GOSMED_QUEUE_TYPE", "queue_type"),
        description="`quorum` where RabbitMQ runs as a cluster.",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("GOSMED_LOG_LEVEL", "log_level")
    )
    log_format: Literal["json", "text"] = Field(
        default="text", validation_alias=AliasChoices("GOSMED_LOG_FORMAT", "log_format")
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    demo_data: bool = Field(
        default=False,
        validation_alias=AliasChoices("GOSMED_DEMO_DATA", "demo_data"),
        description="Seed the demo data set at start (`make run` sets it).",
    )
    prefetch_count: int = Field(
        default=64,
        ge=1,
        le=10_000,
        validation_alias=AliasChoices("GOSMED_PREFETCH_COUNT", "prefetch_count"),
        description="Unacknowledged messages a service works on at once, per channel.",
    )
    graceful_timeout: float = Field(
        default=15.0,
        gt=0,
        validation_alias=AliasChoices("GOSMED_GRACEFUL_TIMEOUT", "graceful_timeout"),
        description="Seconds a stopping service waits for in-flight messages.",
    )
    rpc_dead_letter_ttl: float = Field(
        default=604_800.0,
        gt=0,
        le=31_536_000,
        validation_alias=AliasChoices("GOSMED_RPC_DEAD_LETTER_TTL", "rpc_dead_letter_ttl"),
        description="Seconds a failed RPC's dead letter (reason and metadata, never the body) "
        "is kept in `<service>.rpc.<method>.dead-letter` before RabbitMQ drops it. Set as each "
        "dead letter's expiration, not as a queue argument: it can change at any time.",
    )

    @property
    def production(self) -> bool:
        """`GOSMED_ENV=production`: no throwaway keys, no development shortcuts."""
        return self.env == "production"


class ServiceSettings(CommonSettings):
    """Settings of a broker-driven service that owns a database."""

    mongodb_database: str = Field(default="", description="Defaults to `gosmed_<service>`.")
    health_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("GOSMED_HEALTH_DIR", "health_dir"),
        description="Where the service keeps its liveness and readiness files for exec probes "
        "(`python -m gosmed.runtime.health <dir>/live`); unset: none.",
    )
    outbox_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("GOSMED_OUTBOX_SWEEP_SECONDS", "outbox_sweep_seconds"),
        description="How often the outbox relay looks for messages a write still owes.",
    )
    outbox_retry_max_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices(
            "GOSMED_OUTBOX_RETRY_MAX_SECONDS", "outbox_retry_max_seconds"
        ),
        description="Longest wait between the relay's tries after a failed publish.",
    )
