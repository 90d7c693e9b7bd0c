import json
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gosmed.contracts.documents.requests import MAX_FILE_BYTES
from gosmed.contracts.records.corrections import MAX_ATTACHMENT_BYTES
from gosmed.contracts.records.files import MAX_FILE_BYTES as EMK_FILE_BYTES
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
    max_file_body_bytes: int = Field(
        default=MAX_FILE_BYTES,
        ge=1024,
        description="Largest body of `POST /verify/{id}` (a document file): as large as the "
        "largest document the documents service issues.",
    )
    max_attachment_body_bytes: int = Field(
        default=MAX_ATTACHMENT_BYTES + 64 * 1024,
        ge=1024,
        description="Largest body of `POST /patients/{id}/correction-attachments` (a multipart "
        "file and its form fields); within it, a file over 5 MB is refused as `file_too_large`.",
    )
    max_emk_upload_body_bytes: int = Field(
        default=EMK_FILE_BYTES + 64 * 1024,
        ge=1024,
        description="Largest body of `POST /patients/{id}/emk/files` (a form with the file): "
        "the largest file a patient uploads and room for the form's other fields.",
    )
    jwks_min_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Least time between two lookups of identity's keys for a token naming an "
        "unknown key; within it, identity checks such a token itself.",
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Address ranges (CIDR) of the reverse proxies in front of the edge, whose "
        "X-Forwarded-For is believed; a JSON list or comma-separated. Empty (the default): the "
        "socket peer is the client and X-Forwarded-For is ignored.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_ranges(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value
