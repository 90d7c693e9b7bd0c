"""The journal's description of a person: initials, role, organization."""

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext, Actor, LegalBasis, Role
from gosmed.contracts.identity.access import Action, Authorize, ConfirmationLevel
from gosmed.contracts.identity.delegations import DelegationBasis, DelegationStatus
from gosmed.identity import demo as identity_demo
from gosmed.identity.actors import describe, initials, role_for
from gosmed.identity.demo import account_id
from gosmed.identity.domain import Account, Delegation
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.service import AccessService, Repositories

from .support import Clock


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


def staff_power_of_attorney(ident: str, day: date) -> Delegation:
    """The demo patient's power of attorney for the clinic's staff member, in force on `day`."""
    return Delegation(
        id=ident,
        principal_id=account_id(demo.PATIENT),
        agent_id=account_id(demo.CLINIC_STAFF),
        basis=DelegationBasis.QUALIFIED_SIGNATURE,
        scopes=frozenset({Action.READ_SERVICES}),
        valid_from=day - timedelta(days=1),
        valid_until=day + timedelta(days=1),
        status=DelegationStatus.ACTIVE,
    )


async def test_a_clinic_staff_member_acting_for_a_patient_is_named_with_the_clinic(
    database: Any, repos: Repositories, clock: Clock
) -> None:
    organizations = OrganizationsRepository(database)
    await identity_demo.seed_organization(organizations, clock())
    today = clock().date()
    staff, patient = account_id(demo.CLINIC_STAFF), account_id(demo.PATIENT)
    await repos.grants.add_delegation(staff_power_of_attorney("poa-staff", today))
    access = AccessService(repos, clock, organizations=organizations)

    async def actor(actor_id: UUID, patient_id: UUID) -> Actor | None:
        context = AccessContext(actor_id=actor_id, patient_id=patient_id)
        decision = await access.authorize(Authorize(context=context, action=Action.READ_SERVICES))
        assert decision.allowed
        return decision.actor

    for_patient = await actor(staff, patient)
    assert for_patient is not None
    assert for_patient.organization == identity_demo.STAFF_ORGANIZATION.name
    assert for_patient.label == f"Морозова Т. Н., {identity_demo.STAFF_ORGANIZATION.name}"
    own = await actor(staff, staff)  # her own data: no clinic in her journal
    assert own is not None
    assert own.organization is None
    clock.advance(days=400)  # the clinic's power of attorney has expired
    later_day = clock().date()
    await repos.grants.add_delegation(staff_power_of_attorney("poa-staff-later", later_day))
    later = await actor(staff, patient)
    assert later is not None
    assert later.organization is None
