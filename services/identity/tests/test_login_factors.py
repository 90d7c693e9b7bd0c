"""Which second factors may finish a login, by how it began: after an SMS code, never a second
SMS code (both prove only the phone)."""

from datetime import date
from uuid import uuid4

import pytest

from gosmed.contracts.identity.access import ConfirmationLevel
from gosmed.contracts.identity.auth import SecondFactor
from gosmed.identity.domain import (
    Account,
    FirstFactor,
    second_factor_allowed,
    second_factors,
)


def account(*, totp: bool = True, email: bool = True, phone: bool = True) -> Account:
    return Account(
        id=uuid4(),
        full_name="Иванова Анна Сергеевна",
        birth_date=date(1985, 4, 12),
        snils="11223344595",
        oms_policy=None,
        phone="+79161000001" if phone else None,
        email="anna@example.ru" if email else None,
        confirmation_level=ConfirmationLevel.CONFIRMED,
        totp_secret="JBSWY3DPEHPK3PXP" if totp else None,
    )


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        (FirstFactor.PASSWORD, SecondFactor.TOTP, True),
        (FirstFactor.PASSWORD, SecondFactor.SMS, True),
        (FirstFactor.PASSWORD, SecondFactor.EMAIL, True),
        (FirstFactor.SMS, SecondFactor.TOTP, True),
        (FirstFactor.SMS, SecondFactor.SMS, False),
        (FirstFactor.SMS, SecondFactor.EMAIL, True),
    ],
)
def test_every_second_factor_but_sms_after_sms(
    first: FirstFactor, second: SecondFactor, allowed: bool
) -> None:
    assert second_factor_allowed(first, second) is allowed


def test_after_a_password_every_factor_the_account_has_is_offered() -> None:
    assert second_factors(account(), FirstFactor.PASSWORD) == (
        SecondFactor.TOTP,
        SecondFactor.SMS,
        SecondFactor.EMAIL,
    )
    assert second_factors(account(totp=False, email=False), FirstFactor.PASSWORD) == (
        SecondFactor.SMS,
    )


def test_after_an_sms_code_only_the_app_and_the_email_are_offered() -> None:
    assert second_factors(account(), FirstFactor.SMS) == (SecondFactor.TOTP, SecondFactor.EMAIL)
    assert second_factors(account(totp=False), FirstFactor.SMS) == (SecondFactor.EMAIL,)
    assert second_factors(account(email=False), FirstFactor.SMS) == (SecondFactor.TOTP,)
    assert second_factors(account(totp=False, email=False), FirstFactor.SMS) == ()
