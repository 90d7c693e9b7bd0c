"""The journal's description of a person: initials, role, organization."""

from datetime import date
from uuid import uuid4

from gosmed.contracts.access import LegalBasis, Role
from gosmed.contracts.identity.access import ConfirmationLevel
from gosmed.identity.actors import describe, initials, role_for
from gosmed.identity.domain import Account


def account(full_name: str, organization: str | None = None) -> Account:
    return Account(
        id=uuid4(),
        full_name=full_name,
        birth_date=date(1980, 1, 1),
        snils="11223344595",
        oms_policy=None,
        phone=None,
        email=None,
        confirmation_level=ConfirmationLevel.CONFIRMED,
        organization=organization,
    )


def test_initials_keep_the_surname_and_shorten_the_given_names() -> None:
    assert initials("Петров Пётр Петрович") == "Петров П. П."
    assert initials("Ли Мин") == "Ли М."
    assert initials("Мононим") == "Мононим"


def test_an_organization_given_overrides_the_accounts_own() -> None:
    staff = describe(account("Орлова Мария Ивановна"), Role.ORGANIZATION_STAFF, "ГП № 7")
    assert staff.organization == "ГП № 7"
    assert staff.label == "Орлова М. И., сотрудник медицинской организации, ГП № 7"


def test_the_role_follows_the_basis() -> None:
    assert role_for(LegalBasis.INSURER_CONSENT) == Role.INSURER
    assert role_for(LegalBasis.INSPECTOR_ORDER) == Role.INSPECTOR
    assert role_for(LegalBasis.POWER_OF_ATTORNEY) == Role.CITIZEN
    insurer = describe(account("Кузнецов Андрей Викторович", "СК"), Role.INSURER)
    assert (insurer.name, insurer.organization) == ("Кузнецов А. В.", "СК")
