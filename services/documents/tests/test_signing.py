"""The service's Ed25519 key: loaded from a PEM file or generated, signs and verifies."""

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosmed.documents.signing import Signer

DIGEST = hashlib.sha256(b"%PDF-1.7 document").digest()


def write_pem(path: Path, key: Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_configured_key_signs_the_same_way_after_a_restart(tmp_path: Path) -> None:
    path = write_pem(tmp_path / "documents.pem", Ed25519PrivateKey.generate())
    before, after = Signer.load_or_generate(path), Signer.load_or_generate(path)

    signature = before.sign(DIGEST)

    assert after.key_id == before.key_id
    assert after.verify(DIGEST, signature)
    assert not after.verify(hashlib.sha256(b"altered").digest(), signature)


def test_generated_keys_differ_and_do_not_verify_each_other() -> None:
    first, second = Signer.load_or_generate(None), Signer.load_or_generate(None)

    assert first.key_id != second.key_id
    assert not second.verify(DIGEST, first.sign(DIGEST))


def test_a_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        Signer.load_or_generate(path)
