"""The service's Ed25519 key: signs each document's SHA-256, verifies it on request."""

import hashlib
import logging
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosmed.runtime.settings import ConfigurationError

log = logging.getLogger(__name__)


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()
        raw = self._public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def load_or_generate(cls, path: Path | None, *, production: bool = False) -> "Signer":
        """The signer of the configured key; without one, a throwaway key, except in
        production, which refuses to start (`ConfigurationError`)."""
        if path is None and production:
            raise ConfigurationError(
                "GOSMED_DOCUMENTS_SIGNING_KEY_PATH is not set: in production (GOSMED_ENV="
                "production) documents are signed only with a configured Ed25519 key, never a "
                "throwaway one whose signatures stop verifying after a restart "
                "(see deploy/README.md, «Keys and secrets»)"
            )
        if path is None:
            signer = cls(Ed25519PrivateKey.generate())
            log.warning(
                "no signing key configured (GOSMED_DOCUMENTS_SIGNING_KEY_PATH): generated "
                "key %s for this process; documents signed with it stop verifying after a restart",
                signer.key_id,
            )
            return signer
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        signer = cls(key)
        log.info("signing documents with key %s", signer.key_id)
        return signer

    def sign(self, digest: bytes) -> bytes:
        return self._private_key.sign(digest)

    def verify(self, digest: bytes, signature: bytes) -> bool:
        try:
            self._public_key.verify(signature, digest)
        except InvalidSignature:
            return False
        return True
