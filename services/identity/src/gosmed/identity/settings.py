from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gosmed.runtime.mail import SmtpSettings
from gosmed.runtime.settings import ServiceSettings


class IdentitySettings(ServiceSettings, SmtpSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_IDENTITY_", extra="ignore", populate_by_name=True
    )

    jwt_private_key_path: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 key signing access tokens; unset: a key is "
        "generated at start (tokens then die with the process), except in production "
        "(GOSMED_ENV=production), which refuses to start.",
    )
    jwt_accepted_key_paths: list[Path] = Field(
        default_factory=list,
        description="PEM files (public or private) of further Ed25519 keys whose tokens are "
        "accepted and published: the previous signing key during a rotation, or the next one "
        "published ahead of its use.",
    )
    data_keys: SecretStr | None = Field(
        default=None,
        description="Keys sealing TOTP secrets at rest (AES-GCM), `kid:base64key` separated by "
        "commas, the first one sealing (e.g. `k2:<openssl rand -base64 32>,k1:<old>`): the "
        "others still open what they sealed and are re-wrapped to the first at start. Unset: a "
        "key is generated at start (development only; refused when GOSMED_ENV=production).",
    )
    step_up_seconds: int = Field(
        default=600,
        ge=10,
        description="A second factor passed this long ago still counts as fresh: giving a power "
        "of attorney and enrolling a first authenticator app need one this recent (the login "
        "of the session, or a TOTP code sent with the request).",
    )
    delegation_create_limit: int = Field(
        default=10, ge=1, description="Delegations one patient may give per window."
    )
    delegation_create_window_seconds: int = Field(
        default=3600, ge=1, description="The window of `delegation_create_limit`."
    )
    support_requests_per_hour: int = Field(
        default=5,
        ge=1,
        description="Support requests one account (logged in) or one client address (not) "
        "may file per hour.",
    )
    access_token_ttl: int = Field(default=300, ge=10, description="Seconds an access token lives.")
    session_idle_timeout: int = Field(
        default=1800, ge=10, description="Seconds a session lives without a refresh (or login)."
    )
    session_absolute_timeout: int = Field(default=43_200, ge=10, description="Seconds at most.")
    session_sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often idle and expired sessions are ended and SessionEnded events "
        "whose publish failed are published again.",
    )
    login_attempt_ttl: int = Field(default=600, ge=10, description="Seconds to pass the factor.")
    code_ttl: int = Field(default=300, ge=10, description="Seconds an SMS/e-mail code is valid.")
    code_max_tries: int = Field(default=5, ge=1, description="Wrong codes per login attempt.")
    code_resend_interval: int = Field(default=60, ge=0, description="Seconds between resends.")
    lock_after_failures: int = Field(
        default=5,
        ge=1,
        description="Failed login steps of one phone from one client address before that "
        "phone is locked for that address.",
    )
    phone_lock_after_failures: int = Field(
        default=30,
        ge=1,
        description="Failed login steps of one phone from any addresses before the phone is "
        "locked everywhere (higher, so a stranger cannot lock it cheaply).",
    )
    address_lock_after_failures: int = Field(
        default=20, ge=1, description="Failed logins from one client address before it is locked."
    )
    max_open_login_attempts: int = Field(
        default=5,
        ge=1,
        description="Unfinished login attempts (password passed, second factor not yet) one "
        "account may have at a time.",
    )
    failure_window_seconds: int = Field(
        default=900, ge=1, le=43_200, description="Failed logins older than this are forgotten."
    )
    lock_seconds: int = Field(default=900, ge=1, le=43_200, description="How long a lock lasts.")
    slowdown_seconds: float = Field(
        default=0.5, ge=0, description="Extra delay per failure before the lock (capped at 3 s)."
    )
    sms_outbox_path: Path = Field(
        default=Path("var/sms-outbox.jsonl"),
        description="Development SMS gateway: each SMS is appended here as a JSON line.",
    )
    insurer_request_days: int = Field(
        default=7, ge=1, description="Days a patient's confirmation of an insurer's request lasts."
    )
    delivery_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often pending SMS/e-mail deliveries are looked at."
    )
    delivery_retry_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay of a failed delivery; doubles each time."
    )
    delivery_retry_max_seconds: float = Field(
        default=600.0, gt=0, description="Longest delay between delivery retries."
    )
    demo_citizens: int = Field(
        default=0,
        ge=0,
        le=9999,
        description="Extra demo citizens seeded at start (`gosmed.contracts.demo.extra_citizen`: "
        "confirmed, the shared password, an authenticator app), for tests and benchmarks that "
        "need many different patients; refused when GOSMED_ENV=production.",
    )
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds per try.")
    # A login code is waited for: one quick second try; notices are retried by the relay.
    smtp_attempts: int = Field(default=2, ge=1, le=20, description="Tries per e-mail.")
    smtp_retry_delay: float = Field(default=0.5, ge=0, description="Seconds before a retry.")
