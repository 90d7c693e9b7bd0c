"""Passwords, codes and access tokens."""

import asyncio
import base64
from datetime import UTC, date, datetime, timedelta
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
from jwt import PyJWK

from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import ConfirmationLevel, Principal
from gosmed.identity import credentials
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.domain import Account
from gosmed.runtime import tokens

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
    token = signer.sign(ACCOUNT, uuid4(), NOW, LATER)
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


ACCOUNT = Account(
    id=uuid4(),
    full_name="Иванова Анна Сергеевна",
    birth_date=date(1985, 3, 14),
    snils="112-233-445 95",
    oms_policy=None,
    phone="+79161000001",
    email=None,
    confirmation_level=ConfirmationLevel.CONFIRMED,
    roles=frozenset({Role.CITIZEN, Role.OPERATOR}),
)
LATER = NOW + timedelta(hours=12)


def test_a_token_signed_with_the_configured_key_verifies_until_it_expires(
    tmp_path: Path,
) -> None:
    key = Ed25519PrivateKey.generate()
    signer = TokenSigner.load(pem(key, tmp_path / "key.pem"), ttl=300)
    session_id = uuid4()
    token = signer.sign(ACCOUNT, session_id, NOW, LATER)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("EdDSA", signer.kid)
    claims = signer.verify(token, NOW + timedelta(seconds=299))
    assert claims is not None
    assert claims.principal() == Principal(
        account_id=ACCOUNT.id,
        session_id=session_id,
        roles=ACCOUNT.roles,
        confirmation_level=ConfirmationLevel.CONFIRMED,
    )
    assert signer.verify(token, NOW + timedelta(seconds=300)) is None
    # anyone with the published key can check it
    [published] = signer.jwks().keys
    assert published.kid == signer.kid
    assert jwt.decode(
        token,
        PyJWK(published.model_dump()).key,
        algorithms=["EdDSA"],
        audience="gosmed-api",
        options={"verify_exp": False, "verify_iat": False},
    )


def test_a_token_never_outlives_its_session() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    token = signer.sign(ACCOUNT, uuid4(), NOW, NOW + timedelta(seconds=60))
    assert signer.verify(token, NOW + timedelta(seconds=59)) is not None
    assert signer.verify(token, NOW + timedelta(seconds=60)) is None


def test_tokens_of_another_key_or_tampered_ones_are_refused() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    stranger = TokenSigner(Ed25519PrivateKey.generate(), ttl=300)
    token = stranger.sign(ACCOUNT, uuid4(), NOW, LATER)
    assert signer.verify(token, NOW) is None
    mine = signer.sign(ACCOUNT, uuid4(), NOW, LATER)
    header, payload, signature = mine.split(".")
    assert signer.verify(f"{header}.{payload}x.{signature}", NOW) is None
    claims = {"sub": str(uuid4()), "sid": str(uuid4()), "iat": NOW, "exp": LATER}
    unsigned = jwt.encode(claims, "", "none", headers={"kid": signer.kid})
    assert signer.verify(unsigned, NOW) is None


def public_pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def test_during_a_rotation_tokens_of_the_accepted_keys_verify_too(tmp_path: Path) -> None:
    previous, current = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = TokenSigner(previous, ttl=300)
    old_token = before.sign(ACCOUNT, uuid4(), NOW, LATER)
    after = TokenSigner.load(
        pem(current, tmp_path / "current.pem"),
        ttl=300,
        accepted_paths=[public_pem(previous, tmp_path / "previous.pub.pem")],
    )
    assert after.verify(old_token, NOW) is not None
    assert jwt.get_unverified_header(after.sign(ACCOUNT, uuid4(), NOW, LATER))["kid"] == after.kid
    assert [k.kid for k in after.jwks().keys] == [after.kid, before.kid]
    retired = TokenSigner.load(pem(current, tmp_path / "current.pem"), ttl=300)
    assert retired.verify(old_token, NOW) is None


def test_the_key_id_is_the_rfc_7638_thumbprint() -> None:
    """RFC 8037, appendix A.3: the thumbprint of its example Ed25519 key."""
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert tokens.jwk_of(key).kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert tokens.public_key_of(tokens.jwk_of(key)) == key


def test_a_key_of_another_kind_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an Ed25519"):
        TokenSigner.load(pem(generate_private_key(SECP256R1()), tmp_path / "ec.pem"), ttl=300)


def test_the_qr_code_is_an_svg_of_the_otpauth_uri() -> None:
    uri = credentials.totp_uri(credentials.new_totp_secret(), "+79161000001")
    assert uri.startswith("otpauth://totp/")
    assert "issuer=" in uri
    assert credentials.qr_svg(uri).startswith("<svg")
