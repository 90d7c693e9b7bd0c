from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gosmed.runtime.settings import ServiceSettings


class RecordsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSMED_RECORDS_", extra="ignore", populate_by_name=True
    )

    rpc_timeout: float = Field(
        default=3.0, gt=0, le=60, description="Seconds to wait for identity and the registry."
    )
    render_timeout: float = Field(
        default=4.5,
        gt=0,
        le=60,
        description="Seconds to wait for documents to render or e-mail a lab result (keep it "
        "below the edge's GOSMED_EDGE_RPC_TIMEOUT).",
    )
    sync_cooldown_seconds: int = Field(
        default=300,
        ge=0,
        description="A clinic is asked to re-send a patient's data at most "
        "once in this time, however often «Обновить» is pressed.",
    )
    sync_answer_seconds: int = Field(
        default=600, ge=1, description="After this, a clinic that has not re-sent is named."
    )
    correction_sweep_seconds: float = Field(
        default=600,
        gt=0,
        description="How often requests past their due day are looked for, to tell the "
        "patient once that the clinic is late.",
    )
    correction_clock_offset_file: Path | None = Field(
        default=None,
        description="A file holding seconds to move the clock of corrections by (due days, "
        "overdue), read at each use: end-to-end tests and demonstrations, never production.",
    )
    lab_sweep_seconds: float = Field(
        default=3600,
        gt=0,
        description="How often lab results past their 12 months are looked for, to erase "
        "their files and values.",
    )
    data_keys: SecretStr | None = Field(
        default=None,
        description="Keys sealing patients' files and lab values at rest (AES-GCM), "
        "`kid:base64key` separated by commas, the first one sealing: the others still open what "
        "they sealed. Unset: a key is generated at start (development only; refused when "
        "GOSMED_ENV=production).",
    )
    emk_max_files: int = Field(
        default=100, ge=1, description="How many uploaded files one patient may keep in the EMK."
    )
    emk_max_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="How many bytes one patient's uploaded EMK files may take together.",
    )
