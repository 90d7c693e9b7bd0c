"""The mailer over TLS against a real SMTP server (aiosmtpd) with a certificate of a test CA:
STARTTLS and implicit TLS deliver, the certificate is verified, a relay that requires
STARTTLS refuses a plain-text mailer."""

import email
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from gosmed.runtime.mail import DeliveryError, SmtpMailer, SmtpSettings

SENDER = "Госуслуги <no-reply@gosmed.example>"


class Relay:
    def __init__(self) -> None:
        self.letters: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        letter = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(letter, EmailMessage)
        self.letters.append(letter)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), as PEM files."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gosmed test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return (
        _pem(directory / "ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        _pem(directory / "server.pem", server.public_bytes(serialization.Encoding.PEM)),
        _pem(
            directory / "server.key",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
    )


def server_context(certificates: tuple[Path, Path, Path]) -> ssl.SSLContext:
    _, cert, key = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def trusted(certificates: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA is trusted the way an operator adds a private CA: `SSL_CERT_FILE`."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[0]))


@pytest.fixture
def starttls_relay(certificates: tuple[Path, Path, Path]) -> Iterator[tuple[Relay, int]]:
    """A relay that takes mail only after STARTTLS (as a submission port does)."""
    handler = Relay()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(certificates),
        require_starttls=True,
    )
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def smtps_relay(certificates: tuple[Path, Path, Path]) -> Iterator[tuple[Relay, int]]:
    """A relay speaking TLS from the first byte (SMTPS)."""
    handler = Relay()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=server_context(certificates),
    )
    controller.start()
    yield handler, controller.port
    controller.stop()


def mailer(port: int, *, starttls: bool = False, implicit_tls: bool = False) -> SmtpMailer:
    return SmtpMailer(
        "127.0.0.1",
        port,
        SENDER,
        starttls=starttls,
        implicit_tls=implicit_tls,
        attempts=1,
        retry_delay=0,
        timeout=5,
    )


@pytest.mark.usefixtures("trusted")
async def test_starttls_delivers_to_a_relay_that_requires_it(
    starttls_relay: tuple[Relay, int],
) -> None:
    relay, port = starttls_relay
    await mailer(port, starttls=True).send("anna@example.ru", "Код для входа", "Код: 123456")
    (letter,) = relay.letters
    assert letter["Subject"] == "Код для входа"


@pytest.mark.usefixtures("trusted")
async def test_a_plain_text_mailer_is_refused_by_a_relay_requiring_starttls(
    starttls_relay: tuple[Relay, int],
) -> None:
    relay, port = starttls_relay
    with pytest.raises(DeliveryError):
        await mailer(port).send("anna@example.ru", "Код для входа", "Код: 123456")
    assert relay.letters == []


async def test_a_relay_with_an_untrusted_certificate_gets_nothing(
    starttls_relay: tuple[Relay, int],
) -> None:
    relay, port = starttls_relay
    with pytest.raises(DeliveryError):
        await mailer(port, starttls=True).send("anna@example.ru", "Код", "Код: 123456")
    assert relay.letters == []


@pytest.mark.usefixtures("trusted")
async def test_implicit_tls_delivers(smtps_relay: tuple[Relay, int]) -> None:
    relay, port = smtps_relay
    await mailer(port, implicit_tls=True).send("anna@example.ru", "Выписка", "Во вложении.")
    (letter,) = relay.letters
    assert letter["Subject"] == "Выписка"


def test_settings_take_one_kind_of_tls() -> None:
    assert SmtpMailer.configured(SmtpSettings(smtp_implicit_tls=True)).implicit_tls is True
    with pytest.raises(ValidationError, match="not both"):
        SmtpSettings(smtp_starttls=True, smtp_implicit_tls=True)
