"""identity refuses to start in production without its token signing key or its data keys, or
with extra demo citizens."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosmed.identity.main import create
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.settings import ConfigurationError

DATA_KEYS = "k1:" + base64.b64encode(bytes(32)).decode()


def test_in_production_without_a_signing_key_identity_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH"):
        create(settings=IdentitySettings(env="production", data_keys=DATA_KEYS))


def test_in_production_with_a_signing_key_identity_is_built(tmp_path: Path) -> None:
    key = tmp_path / "jwt.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    runtime = create(
        settings=IdentitySettings(env="production", jwt_private_key_path=key, data_keys=DATA_KEYS)
    )
    runtime.store.close()


def test_in_production_extra_demo_citizens_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_IDENTITY_DEMO_CITIZENS"):
        create(settings=IdentitySettings(env="production", demo_citizens=3))


def test_in_development_a_throwaway_key_is_still_generated() -> None:
    runtime = create(settings=IdentitySettings(env="development"))
    runtime.store.close()


def test_the_process_exits_with_the_reason_at_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GOSMED_ENV": "production",
        "GOSMED_IDENTITY_SMS_OUTBOX_PATH": str(tmp_path / "sms.jsonl"),
        "GOSMED_IDENTITY_DATA_KEYS": DATA_KEYS,
    }
    env.pop("GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH", None)
    done = subprocess.run(
        [sys.executable, "-m", "gosmed.identity"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH is not set" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
