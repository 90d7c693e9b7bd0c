"""Sealed values: AES-GCM under a data key wrapped by a key from settings, bound to a context,
re-wrapped under a new key without touching the data."""

import base64

import pytest

from gosmed.runtime.crypto import (
    DataKeyConfigError,
    KeyRing,
    Sealed,
    SealedDataError,
    is_sealed,
)

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()


def test_a_sealed_value_opens_only_with_its_key_and_context() -> None:
    ring = KeyRing.parse(f"a:{KEY_A}")
    stored = ring.seal_text("JBSWY3DPEHPK3PXP", "account-1:totp")
    assert is_sealed(stored)
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert Sealed.parse(stored).kid == "a"
    assert ring.open_text(stored, "account-1:totp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SealedDataError):
        ring.open_text(stored, "account-2:totp")  # copied to another account
    with pytest.raises(SealedDataError):
        KeyRing.parse(f"a:{KEY_B}").open_text(stored, "account-1:totp")
    with pytest.raises(SealedDataError):
        KeyRing.parse(f"b:{KEY_A}").open_text(stored, "account-1:totp")  # unknown kid
    tampered = Sealed.parse(stored)
    flipped = Sealed(tampered.kid, tampered.wrapped_key, tampered.ciphertext[:-1] + b"\0")
    with pytest.raises(SealedDataError):
        ring.open(flipped, b"account-1:totp")


def test_two_seals_of_one_value_differ() -> None:
    ring = KeyRing.generated()
    assert ring.seal_text("x", "c") != ring.seal_text("x", "c")


def test_legacy_plaintext_reads_as_is_and_is_resealed_under_the_current_key() -> None:
    old = KeyRing.parse(f"old:{KEY_A}")
    under_old = old.seal_text("secret", "ctx")
    rotated = KeyRing.parse(f"new:{KEY_B}, old:{KEY_A}")
    assert rotated.current == "new"
    assert rotated.open_text(under_old, "ctx") == "secret"
    assert rotated.open_text("plain-legacy", "ctx") == "plain-legacy"
    assert not rotated.is_current(under_old)
    assert not rotated.is_current("plain-legacy")

    for stored in (under_old, "plain-legacy"):
        resealed = rotated.reseal_text(stored, "ctx")
        assert rotated.is_current(resealed)
        assert KeyRing.parse(f"new:{KEY_B}").open_text(resealed, "ctx") == rotated.open_text(
            stored, "ctx"
        )
    # re-wrapping keeps the data: only the wrapped key changes
    assert Sealed.parse(rotated.reseal_text(under_old, "ctx")).ciphertext == (
        Sealed.parse(under_old).ciphertext
    )
    with pytest.raises(SealedDataError):
        rotated.reseal_text(under_old, "another context")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        f"a:{KEY_A},a:{KEY_B}",
        "a:not base64!",
        f"a:{base64.b64encode(b'short').decode()}",
        f"bad kid:{KEY_A}",
    ],
)
def test_unusable_key_lists_are_refused(text: str) -> None:
    with pytest.raises(DataKeyConfigError):
        KeyRing.parse(text)
