"""documents refuses to start in production without its document signing key."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosmed.documents.main import create
from gosmed.documents.settings import DocumentsSettings
from gosmed.runtime.settings import ConfigurationError


def test_in_production_without_a_signing_key_documents_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_DOCUMENTS_SIGNING_KEY_PATH"):
        create(settings=DocumentsSettings(env="production"))


def test_in_production_with_a_signing_key_documents_is_built(tmp_path: Path) -> None:
    key = tmp_path / "documents.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    runtime = create(settings=DocumentsSettings(env="production", signing_key_path=key))
    runtime.store.close()
