"""The one token codec of identity and the edge: keys by `kid`, times against a given clock."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import ConfirmationLevel
from gosmed.contracts.identity.tokens import AccessTokenClaims
from gosmed.runtime import tokens

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
KID = tokens.jwk_of(KEY.public_key()).kid
KEYS = {KID: KEY.public_key()}


def claims(issued: datetime, lifetime: int = 300) -> AccessTokenClaims:
    return AccessTokenClaims(
        sub=uuid4(),
        sid=uuid4(),
        roles=frozenset({Role.CITIZEN}),
        confirmation_level=ConfirmationLevel.STANDARD,
        iat=int(issued.timestamp()),
        exp=int((issued + timedelta(seconds=lifetime)).timestamp()),
    )


def test_a_token_round_trips_until_it_expires() -> None:
    original = claims(NOW)
    token = tokens.sign(original, KEY, KID)
    assert tokens.key_id(token) == KID
    assert tokens.verify(token, KEYS, NOW + timedelta(seconds=299)) == original
    assert tokens.verify(token, KEYS, NOW + timedelta(seconds=300)) is None


def test_a_token_from_a_clock_slightly_ahead_is_taken_not_one_far_ahead() -> None:
    slightly = tokens.sign(claims(NOW + timedelta(seconds=tokens.CLOCK_SKEW)), KEY, KID)
    assert tokens.verify(slightly, KEYS, NOW) is not None
    far = tokens.sign(claims(NOW + timedelta(seconds=tokens.CLOCK_SKEW + 1)), KEY, KID)
    assert tokens.verify(far, KEYS, NOW) is None


def test_a_token_naming_no_known_key_or_malformed_is_refused() -> None:
    payload = claims(NOW).model_dump(mode="json")
    no_kid = jwt.encode(payload, KEY, algorithm="EdDSA")
    assert tokens.key_id(no_kid) is None
    assert tokens.verify(no_kid, KEYS, NOW) is None
    other = tokens.sign(claims(NOW), Ed25519PrivateKey.generate(), "other")
    assert tokens.verify(other, KEYS, NOW) is None
    forged = tokens.sign(claims(NOW), Ed25519PrivateKey.generate(), KID)  # a known kid, wrong key
    assert tokens.verify(forged, KEYS, NOW) is None
    assert tokens.key_id("not a token") is None
    assert tokens.verify("not a token", KEYS, NOW) is None


def signed(payload: dict[str, object]) -> str:
    return jwt.encode(payload, KEY, algorithm="EdDSA", headers={"kid": KID})


def test_a_token_for_another_audience_or_none_is_refused() -> None:
    payload = claims(NOW).model_dump(mode="json")
    assert payload["aud"] == "gosmed-api"  # what identity signs
    assert tokens.verify(signed(payload), KEYS, NOW) is not None
    assert tokens.verify(signed({**payload, "aud": "gosmed-clinic-portal"}), KEYS, NOW) is None
    assert tokens.verify(signed({**payload, "aud": ["other", "another"]}), KEYS, NOW) is None
    del payload["aud"]
    assert tokens.verify(signed(payload), KEYS, NOW) is None


def test_a_token_without_issue_time_or_issuer_is_refused() -> None:
    payload = claims(NOW).model_dump(mode="json")
    assert (
        tokens.verify(signed({k: v for k, v in payload.items() if k != "iat"}), KEYS, NOW) is None
    )
    assert (
        tokens.verify(signed({k: v for k, v in payload.items() if k != "iss"}), KEYS, NOW) is None
    )
    assert tokens.verify(signed({**payload, "iss": "someone-else"}), KEYS, NOW) is None
