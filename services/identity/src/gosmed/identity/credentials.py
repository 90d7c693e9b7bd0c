"""Secrets: argon2id passwords, one-time codes, TOTP steps and signed access tokens."""

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gosmed.contracts.identity.tokens import AccessTokenClaims, Jwks
from gosmed.identity.domain import Account
from gosmed.runtime import tokens
from gosmed.runtime.settings import ConfigurationError

log = logging.getLogger(__name__)

TOTP_ISSUER = "Госуслуги Здоровье"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the phone is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# argon2 takes tens of milliseconds and 64 MiB per hash on purpose: it runs on these threads
# (the C code releases the GIL), so the event loop goes on checking tokens meanwhile, and at
# most two hashes take memory at once however many logins arrive.
_ARGON2 = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_ARGON2, _hasher.hash, password)


async def password_matches(password_hash: str | None, password: str) -> bool:
    """Constant-effort check: an unknown account is verified against a dummy hash."""
    return await asyncio.get_running_loop().run_in_executor(
        _ARGON2, _matches, password_hash, password
    )


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_code() -> str:
    """A six-digit one-time code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(attempt_id: UUID, code: str) -> str:
    """The stored form of a code, bound to its login attempt."""
    return hashlib.sha256(f"{attempt_id}:{code}".encode()).hexdigest()


def codes_equal(digest: str, attempt_id: UUID, code: str) -> bool:
    return hmac.compare_digest(digest, code_digest(attempt_id, code))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=TOTP_ISSUER)


def qr_svg(text: str) -> str:
    """A QR code of `text` as an inline SVG document."""
    svg: str = segno.make(text, error="m").svg_inline(scale=4, title="QR-код для приложения")
    return svg


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to (one step of clock drift allowed), or None."""
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=now, valid_window=1)
    except pyotp.exceptions.OTPVerificationError:
        return None


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _load_key(path: Path) -> Ed25519PrivateKey | Ed25519PublicKey:
    data = path.read_bytes()
    key: object = (
        serialization.load_pem_public_key(data)
        if b"PUBLIC KEY" in data
        else serialization.load_pem_private_key(data, password=None)
    )
    if not isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


class TokenSigner:
    """Signs short-lived EdDSA (Ed25519) access tokens with the current key and verifies them
    with it and the keys still accepted during a rotation; each key is named by its `kid`."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        ttl: int,
        accepted: Sequence[Ed25519PublicKey] = (),
    ) -> None:
        self._key = key
        self.ttl = ttl
        self._jwks = Jwks(
            keys=tuple(dict.fromkeys(tokens.jwk_of(k) for k in (key.public_key(), *accepted)))
        )
        self.kid = self._jwks.keys[0].kid
        self._public = tokens.keys_of(self._jwks)

    @classmethod
    def load(
        cls,
        pem_path: Path | None,
        ttl: int,
        accepted_paths: Sequence[Path] = (),
        *,
        production: bool = False,
    ) -> "TokenSigner":
        """The signer of the configured key; without one, a throwaway key, except in
        production, which refuses to start (`ConfigurationError`)."""
        accepted = [_load_key(path) for path in accepted_paths]
        public = [k.public_key() if isinstance(k, Ed25519PrivateKey) else k for k in accepted]
        if pem_path is None and production:
            raise ConfigurationError(
                "GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH is not set: in production (GOSMED_ENV="
                "production) identity signs access tokens only with a configured Ed25519 key, "
                "never a throwaway one (see deploy/README.md, «Keys and secrets»)"
            )
        if pem_path is None:
            log.warning(
                "no GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH: generated an ephemeral Ed25519 signing "
                "key; access tokens end when this process does"
            )
            return cls(Ed25519PrivateKey.generate(), ttl, public)
        key = _load_key(pem_path)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{pem_path} is not an Ed25519 private key")
        log.info(
            "access tokens signed with the Ed25519 key from %s; %d more keys accepted",
            pem_path,
            len(public),
        )
        return cls(key, ttl, public)

    def jwks(self) -> Jwks:
        return self._jwks

    def sign(self, account: Account, session_id: UUID, now: datetime, expires_at: datetime) -> str:
        """A token of `account` in the session, living `ttl` but never past `expires_at`."""
        claims = AccessTokenClaims(
            sub=account.id,
            sid=session_id,
            roles=account.roles,
            confirmation_level=account.confirmation_level,
            iat=int(now.timestamp()),
            exp=int(min(now + timedelta(seconds=self.ttl), expires_at).timestamp()),
        )
        return tokens.sign(claims, self._key, self.kid)

    def verify(self, token: str, now: datetime) -> AccessTokenClaims | None:
        """The claims of a well-signed, unexpired token, or None."""
        return tokens.verify(token, self._public, now)
