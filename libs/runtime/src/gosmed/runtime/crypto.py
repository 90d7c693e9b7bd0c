"""Data at rest, sealed with AES-GCM under keys held outside the database.

Envelope encryption: every value gets its own random 256-bit data key; the data key is wrapped
(AES-GCM too) by a key-encryption key from settings, and the key id (`kid`) is stored with the
data. Rotating keys then means re-wrapping the small data keys (`KeyRing.rewrap`), never
re-encrypting the data; a value sealed under a retired key stays readable while its key is
still listed.

Keys come from a setting such as `GOSMED_IDENTITY_DATA_KEYS`: a comma-separated list of
`kid:base64key` (16, 24 or 32 bytes each, e.g. `openssl rand -base64 32`), the first one used to
seal. The sealed text is `gcm1.<kid>.<wrapped data key>.<nonce + ciphertext>` (base64url), and
`context` (e.g. the record id and field name) is bound as associated data, so a value copied to
another record does not open.
"""

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from gosmed.runtime.settings import ConfigurationError

log = logging.getLogger(__name__)

PREFIX = "gcm1"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NONCE = 12


class DataKeyConfigError(ValueError):
    """A key list that cannot be used (malformed, duplicate kid, wrong length)."""


class SealedDataError(ValueError):
    """A sealed value that does not open: unknown key id, tampered or another context."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Sealed:
    """One sealed value: the key id, the wrapped data key and the data's nonce + ciphertext."""

    kid: str
    wrapped_key: bytes
    ciphertext: bytes

    def text(self) -> str:
        return ".".join((PREFIX, self.kid, _b64(self.wrapped_key), _b64(self.ciphertext)))

    @classmethod
    def parse(cls, text: str) -> "Sealed":
        parts = text.split(".")
        if len(parts) != 4 or parts[0] != PREFIX:
            raise SealedDataError("not a sealed value")
        try:
            return cls(parts[1], _unb64(parts[2]), _unb64(parts[3]))
        except (binascii.Error, ValueError):
            raise SealedDataError("malformed sealed value") from None


def is_sealed(value: str) -> bool:
    """Whether `value` is sealed text (else: a legacy plaintext value)."""
    return value.startswith(PREFIX + ".")


class KeyRing:
    """Key-encryption keys by id; the first seals, all of them open."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise DataKeyConfigError("at least one data key is needed")
        self._keys: dict[str, AESGCM] = {}
        for kid, key in keys:
            if not _KID.match(kid):
                raise DataKeyConfigError(f"bad key id {kid!r}: 1-32 of A-Z a-z 0-9 _ -")
            if len(key) not in (16, 24, 32):
                raise DataKeyConfigError(f"key {kid}: {len(key)} bytes, expected 16, 24 or 32")
            if kid in self._keys:
                raise DataKeyConfigError(f"key id {kid} listed twice")
            self._keys[kid] = AESGCM(key)
        self.current = keys[0][0]

    @classmethod
    def parse(cls, text: str) -> "KeyRing":
        """From `kid:base64key,kid2:base64key` (first one current)."""
        keys: list[tuple[str, bytes]] = []
        for item in re.split(r"[,\s]+", text.strip()):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep:
                raise DataKeyConfigError("each data key is written kid:base64key")
            try:
                key = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise DataKeyConfigError(f"key {kid}: not base64") from None
            keys.append((kid, key))
        return cls(keys)

    @classmethod
    def generated(cls, kid: str = "ephemeral") -> "KeyRing":
        """A key that dies with the process: for development and tests only."""
        return cls([(kid, AESGCM.generate_key(bit_length=256))])

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def _kek(self, kid: str) -> AESGCM:
        try:
            return self._keys[kid]
        except KeyError:
            raise SealedDataError(f"data key {kid} is not configured") from None

    def seal(self, plaintext: bytes, context: bytes) -> Sealed:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, context)
        return Sealed(self.current, self._wrap(self.current, data_key), ciphertext)

    def open(self, sealed: Sealed, context: bytes) -> bytes:
        data_key = self._unwrap(sealed)
        nonce, body = sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:]
        try:
            return AESGCM(data_key).decrypt(nonce, body, context)
        except InvalidTag:
            raise SealedDataError("sealed value does not open in this context") from None

    def rewrap(self, sealed: Sealed) -> Sealed:
        """The same data with its data key wrapped by the current key."""
        if sealed.kid == self.current:
            return sealed
        return Sealed(
            self.current, self._wrap(self.current, self._unwrap(sealed)), sealed.ciphertext
        )

    def _wrap(self, kid: str, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._kek(kid).encrypt(nonce, data_key, b"gosmed-data-key:" + kid.encode())

    def _unwrap(self, sealed: Sealed) -> bytes:
        nonce, body = sealed.wrapped_key[:_NONCE], sealed.wrapped_key[_NONCE:]
        try:
            return self._kek(sealed.kid).decrypt(
                nonce, body, b"gosmed-data-key:" + sealed.kid.encode()
            )
        except InvalidTag:
            raise SealedDataError(f"data key under {sealed.kid} does not unwrap") from None

    # Text helpers: what a repository stores in a string field.

    def seal_text(self, value: str, context: str) -> str:
        return self.seal(value.encode(), context.encode()).text()

    def open_text(self, stored: str, context: str) -> str:
        """The value of a sealed text; a legacy plaintext value (not sealed) as it is."""
        if not is_sealed(stored):
            return stored
        return self.open(Sealed.parse(stored), context.encode()).decode()

    def is_current(self, stored: str) -> bool:
        """Sealed under the current key (nothing to re-encrypt)."""
        return is_sealed(stored) and Sealed.parse(stored).kid == self.current

    def reseal_text(self, stored: str, context: str) -> str:
        """`stored` sealed under the current key: legacy plaintext is sealed, an old key's
        value re-wrapped."""
        if not is_sealed(stored):
            return self.seal_text(stored, context)
        sealed = Sealed.parse(stored)
        self.open(sealed, context.encode())  # never rewrite what does not open
        return self.rewrap(sealed).text()


def configured_key_ring(
    configured: SecretStr | None, *, setting: str, production: bool, sealing: str
) -> KeyRing:
    """The keys of `setting` (what they seal: `sealing`), or, outside production, one generated
    for this process."""
    if configured:
        ring = KeyRing.parse(configured.get_secret_value())
        log.info(
            "%s sealed under data key %s (%d keys open)", sealing, ring.current, len(ring.kids)
        )
        return ring
    if production:
        raise ConfigurationError(
            f"{setting} is not set: refusing to start in production without keys to seal {sealing}"
        )
    log.warning(
        "no %s: generated an ephemeral data key; %s sealed now will not open after a restart "
        "(development only)",
        setting,
        sealing,
    )
    return KeyRing.generated()
