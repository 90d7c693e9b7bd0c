"""TOTP secrets at rest: sealed (AES-GCM) under a key from settings, never in the database in
clear; legacy plaintext entries and entries under an old key are rewritten to the current key;
in production identity does not start without keys."""

import base64
from typing import Any

import pyotp
import pytest
from pydantic import SecretStr

from gosmed.contracts import demo
from gosmed.identity.demo import account_id, demo_account
from gosmed.identity.service import Repositories
from gosmed.runtime.crypto import KeyRing, Sealed, configured_key_ring, is_sealed
from gosmed.runtime.settings import ConfigurationError

OLD = f"k1:{base64.b64encode(b'1' * 32).decode()}"
NEW = f"k2:{base64.b64encode(b'2' * 32).decode()}"


async def raw(database: Any, person: demo.DemoPerson) -> dict[str, Any]:
    doc: dict[str, Any] = await database["accounts"].find_one({"_id": str(account_id(person))})
    return doc


async def test_a_totp_secret_is_stored_sealed_and_read_back(
    repos: Repositories, database: Any
) -> None:
    stored = (await raw(database, demo.PATIENT))["totp_secret"]
    assert demo.PATIENT.totp_secret is not None
    assert demo.PATIENT.totp_secret not in stored
    assert is_sealed(stored)
    account = await repos.accounts.get(account_id(demo.PATIENT))
    assert account is not None
    assert account.totp_secret == demo.PATIENT.totp_secret

    pending = pyotp.random_base32()
    await repos.accounts.set_pending_totp(account.id, pending)
    stored_pending = (await raw(database, demo.PATIENT))["totp_pending_secret"]
    assert pending not in stored_pending
    assert await repos.accounts.pending_totp(account.id) == pending
    assert await repos.accounts.activate_totp(account.id, pending, 1)
    assert (await raw(database, demo.PATIENT))["totp_secret"] == stored_pending
    replaced = await repos.accounts.get(account.id)
    assert replaced is not None
    assert replaced.totp_secret == pending


async def test_a_secret_copied_to_another_account_does_not_open(
    repos: Repositories, database: Any
) -> None:
    stolen = (await raw(database, demo.PATIENT))["totp_secret"]
    await database["accounts"].update_one(
        {"_id": str(account_id(demo.PARENT))}, {"$set": {"totp_secret": stolen}}
    )
    parent = await repos.accounts.get(account_id(demo.PARENT))
    assert parent is not None
    assert parent.totp_secret is None


async def test_plaintext_and_old_key_secrets_are_rewritten_under_the_current_key(
    database: Any,
) -> None:
    old = Repositories.over(database, KeyRing.parse(OLD))
    await old.ensure_indexes()
    patient, parent = account_id(demo.PATIENT), account_id(demo.PARENT)
    await old.accounts.add(demo_account(demo.PATIENT, None))
    await old.accounts.add(demo_account(demo.PARENT, None))
    legacy = pyotp.random_base32()  # written before secrets were encrypted
    await database["accounts"].update_one({"_id": str(parent)}, {"$set": {"totp_secret": legacy}})

    rotated = Repositories.over(database, KeyRing.parse(f"{NEW},{OLD}"))
    found = await rotated.accounts.get(patient)
    assert found is not None
    assert found.totp_secret == demo.PATIENT.totp_secret
    legacy_read = await rotated.accounts.get(parent)
    assert legacy_read is not None
    assert legacy_read.totp_secret == legacy

    assert await rotated.accounts.reseal_totp_secrets() == 2
    assert await rotated.accounts.reseal_totp_secrets() == 0
    for person, secret in ((demo.PATIENT, demo.PATIENT.totp_secret), (demo.PARENT, legacy)):
        stored = (await raw(database, person))["totp_secret"]
        assert Sealed.parse(stored).kid == "k2"
        only_new = Repositories.over(database, KeyRing.parse(NEW))
        account = await only_new.accounts.get(account_id(person))
        assert account is not None
        assert account.totp_secret == secret


def test_production_refuses_to_start_without_data_keys() -> None:
    with pytest.raises(ConfigurationError, match="GOSMED_IDENTITY_DATA_KEYS"):
        ring("", production=True)
    assert ring(NEW, production=True).current == "k2"
    assert ring("", production=False).current == "ephemeral"


def ring(configured: str, *, production: bool) -> KeyRing:
    return configured_key_ring(
        SecretStr(configured) if configured else None,
        setting="GOSMED_IDENTITY_DATA_KEYS",
        production=production,
        sealing="TOTP secrets",
    )
