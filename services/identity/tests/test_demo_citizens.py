"""Extra demo citizens: deterministic, valid, distinct, seeded once however often seeded."""

import pyotp
from pydantic import TypeAdapter

from gosmed.contracts import demo
from gosmed.contracts.identity.access import ConfirmationLevel
from gosmed.contracts.types import MobilePhone, OmsPolicy, Snils
from gosmed.identity import demo as identity_demo
from gosmed.identity.credentials import password_matches
from gosmed.identity.service import Repositories


def test_extra_citizens_are_the_same_on_every_call_and_distinct_from_each_other() -> None:
    citizens = demo.extra_citizens(40)
    assert citizens == demo.extra_citizens(40)
    for key in ("key", "snils", "phone", "oms_policy", "totp_secret"):
        values = {getattr(p, key) for p in citizens + demo.PEOPLE}
        assert len(values) == len(citizens) + len(demo.PEOPLE), key
    for person in citizens:
        TypeAdapter(Snils).validate_python(person.snils)
        TypeAdapter(OmsPolicy).validate_python(person.oms_policy)
        TypeAdapter(MobilePhone).validate_python(person.phone)
        assert pyotp.TOTP(person.totp_secret or "").now().isdigit()


async def test_seeding_citizens_twice_gives_confirmed_accounts_that_log_in_once_each(
    repos: Repositories,
) -> None:
    await identity_demo.seed_citizens(repos, 3)
    await identity_demo.seed_citizens(repos, 3)
    for person in demo.extra_citizens(3):
        account = await repos.accounts.by_phone(person.phone or "")
        assert account is not None
        assert account.id == identity_demo.account_id(person)
        assert account.confirmation_level is ConfirmationLevel.CONFIRMED
        assert await password_matches(account.password_hash, demo.EXTRA_CITIZEN_PASSWORD)
    assert await repos.accounts.by_phone(demo.extra_citizen(4).phone or "") is None
