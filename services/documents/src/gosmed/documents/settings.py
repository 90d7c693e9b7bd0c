from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gosmed.contracts.documents.requests import MAX_FILE_BYTES
from gosmed.runtime.mail import SmtpSettings
from gosmed.runtime.settings import ServiceSettings


class DocumentsSettings(ServiceSettings, SmtpSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_DOCUMENTS_", extra="ignore", populate_by_name=True
    )

    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the edge; QR codes link to {this}/api/v1/verify/{id}.",
    )
    signing_key_path: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 private key; unset: a new key at every start, "
        "except in production (GOSMED_ENV=production), which refuses to start.",
    )
    render_workers: int = Field(default=2, ge=1, le=64, description="Rendering processes.")
    document_ttl_seconds: int = Field(
        default=7 * 24 * 3600, ge=1, description="How long a document can be fetched."
    )
    max_file_bytes: int = Field(
        default=MAX_FILE_BYTES,
        ge=1024,
        le=MAX_FILE_BYTES,
        description="Largest rendered file; files are stored in the database (16 MB documents).",
    )
    rpc_timeout: float = Field(default=15.0, gt=0, description="Seconds per call to records.")
    smtp_sender: str = "Госуслуги: медицинские документы <noreply@gosmed.example>"
