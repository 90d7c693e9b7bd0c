"""Passwords, codes and access tokens."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePrivateKey,
    generate_private_key,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gosmed.identity import credentials
from gosmed.identity.credentials import AccessClaims, TokenSigner

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def pem(key: Ed25519PrivateKey | EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


async def test_passwords_are_argon2id_and_an_unknown_account_never_matches() -> None:
    hashed = await credentials.hash_password("Секрет-2026")
    assert hashed.startswith("$argon2id$")
    assert await credentials.password_matches(hashed, "Секрет-2026")
    assert not await credentials.password_matches(hashed, "секрет-2026")
    assert not await credentials.password_matches(None, "Секрет-2026")
    assert not await credentials.password_matches("not-a-hash", "x")


async def test_token_checks_go_on_while_a_password_is_hashed_or_verified() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    token = signer.sign(AccessClaims(uuid4(), uuid4()), NOW)
    checks = 0

    async def check_tokens() -> None:
        nonlocal checks
        while True:
            assert signer.verify(token, NOW) is not None
            checks += 1
            await asyncio.sleep(0)  # a request handler's await: lets the loop run others

    checking = asyncio.create_task(check_tokens())
    try:
        for password_work in (
            credentials.hash_password("Секрет-2026"),
            credentials.password_matches(None, "Секрет-2026"),
        ):
            before = checks
            await password_work
            # Had argon2 run on the event loop, no token check could run until it returned.
            assert checks > before
    finally:
        checking.cancel()


def test_codes_are_six_digits_and_bound_to_their_attempt() -> None:
    code, attempt = credentials.new_code(), uuid4()
    assert len(code) == 6
    assert code.isdigit()
    digest = credentials.code_digest(attempt, code)
    assert credentials.codes_equal(digest, attempt, code)
    assert not credentials.codes_equal(digest, uuid4(), code)


def test_a_token_signed_with_the_configured_key_verifies_until_it_expires(
    tmp_path: Path,
) -> None:
    key = Ed25519PrivateKey.generate()
    signer = TokenSigner.load(pem(key, tmp_path / "key.pem"), ttl=300)
    claims = AccessClaims(uuid4(), uuid4())
    token = signer.sign(claims, NOW)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert signer.verify(token, NOW + timedelta(seconds=299)) == claims
    assert signer.verify(token, NOW + timedelta(seconds=300)) is None
    # anyone with the public key can check it
    public = serialization.load_pem_public_key(signer.public_key_pem().encode())
    assert isinstance(public, Ed25519PublicKey)
    assert jwt.decode(token, public, algorithms=["EdDSA"], options={"verify_exp": False})


def test_tokens_of_another_key_or_tampered_ones_are_refused() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    stranger = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    token = stranger.sign(AccessClaims(uuid4(), uuid4()), NOW)
    assert signer.verify(token, NOW) is None
    mine = signer.sign(AccessClaims(uuid4(), uuid4()), NOW)
    header, payload, signature = mine.split(".")
    assert signer.verify(f"{header}.{payload}x.{signature}", NOW) is None
    unsigned = jwt.encode({"sub": str(uuid4()), "sid": str(uuid4()), "exp": NOW}, "", "none")
    assert signer.verify(unsigned, NOW) is None


def test_a_key_of_another_kind_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an Ed25519"):
        TokenSigner.load(pem(generate_private_key(SECP256R1()), tmp_path / "ec.pem"), ttl=300)


def test_the_qr_code_is_an_svg_of_the_otpauth_uri() -> None:
    uri = credentials.totp_uri(credentials.new_totp_secret(), "+79161000001")
    assert uri.startswith("otpauth://totp/")
    assert "issuer=" in uri
    assert credentials.qr_svg(uri).startswith("<svg")
