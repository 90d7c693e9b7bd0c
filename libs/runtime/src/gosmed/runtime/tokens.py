"""EdDSA access tokens: identity signs them, the edge checks them with identity's published
keys (and identity with its own, for `authenticate`). One implementation for both sides."""

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from gosmed.contracts.identity.tokens import (
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    AccessTokenClaims,
    Jwk,
    Jwks,
)

# A token issued this many seconds "in the future" is still taken: the clocks of identity and
# the edge may differ a little. Expiry is exact: a token dying early at the edge is harmless.
CLOCK_SKEW = 5


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_of(public: Ed25519PublicKey) -> Jwk:
    """The key as a JWK; its `kid` is the RFC 7638 thumbprint (the same key, the same id)."""
    x = _b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return Jwk(x=x, kid=_b64url(hashlib.sha256(canonical.encode()).digest()))


def public_key_of(jwk: Jwk) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk.x + "=" * (-len(jwk.x) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


Keys = Mapping[str, Ed25519PublicKey]


def keys_of(jwks: Jwks) -> Keys:
    """The verification keys of a JWK set, by `kid`."""
    return {jwk.kid: public_key_of(jwk) for jwk in jwks.keys}


def sign(claims: AccessTokenClaims, key: Ed25519PrivateKey, kid: str) -> str:
    return jwt.encode(
        claims.model_dump(mode="json"), key, algorithm=ALGORITHM, headers={"kid": kid}
    )


def key_id(token: str) -> str | None:
    """The `kid` a token names (unverified), or None for a malformed token or none named."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        return None
    return kid if isinstance(kid, str) else None


def verify(token: str, keys: Keys, now: datetime) -> AccessTokenClaims | None:
    """The claims of a token signed by the key its `kid` names, issued by identity for
    gosmed's API (`iss`, `aud`), issued (`iat`, give or take `CLOCK_SKEW`) and unexpired at
    `now`, or None."""
    kid = key_id(token)
    key = keys.get(kid) if kid is not None else None
    if key is None:
        return None
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            # The times are checked below, against `now` rather than this process's clock.
            options={
                "require": ["iss", "aud", "exp", "iat", "sub", "sid"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        claims = AccessTokenClaims.model_validate(payload)
    except (jwt.InvalidTokenError, ValidationError):
        return None
    moment = now.timestamp()
    if claims.exp <= moment or claims.iat > moment + CLOCK_SKEW:
        return None
    return claims
