"""The demo clinic's staff member on the embedded store: decisions on the power of attorney,
each one journaled in the organization's journal; the staff list and the journal need the
`see_figures` scope (or an operator); operators register and revoke powers of attorney."""

from datetime import date, timedelta
from typing import Any

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.identity.organizations import (
    AuthorizeOrganizationAction,
    GrantStaffAuthority,
    ListOrganizationJournal,
    ListOrganizationStaff,
    OrganizationAction,
    RevokeStaffAuthority,
)
from gosmed.identity import demo as identity_demo
from gosmed.identity.demo import STAFF_POWER_OF_ATTORNEY_NUMBER, account_id
from gosmed.identity.organizations import OrganizationService
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.service import Repositories

from .support import Clock, refused

CLINIC = demo.STAFF_ORGANIZATION_ID
OTHER_CLINIC = identity_demo.DEMO_NAMESPACE
STAFF = AccessContext(actor_id=account_id(demo.CLINIC_STAFF))
PATIENT = AccessContext(actor_id=account_id(demo.PATIENT))
OPERATOR = AccessContext(actor_id=account_id(demo.OPERATOR), roles=frozenset({Role.OPERATOR}))


@pytest.fixture
async def organizations(database: Any, repos: Repositories, clock: Clock) -> OrganizationService:
    store = OrganizationsRepository(database)
    await store.ensure_indexes()
    await identity_demo.seed_organization(store, clock())
    return OrganizationService(store, repos.accounts, clock)


def ask(
    context: AccessContext, action: OrganizationAction, organization: Any = CLINIC
) -> AuthorizeOrganizationAction:
    return AuthorizeOrganizationAction(
        context=context, organization_id=organization, action=action, subject="заявление И-1"
    )


async def test_the_staff_member_acts_for_the_clinic_within_the_scopes(
    organizations: OrganizationService,
) -> None:
    allowed = await organizations.authorize(ask(STAFF, OrganizationAction.ANSWER_CORRECTIONS))
    not_granted = await organizations.authorize(ask(STAFF, OrganizationAction.MANAGE_SCHEDULES))
    elsewhere = await organizations.authorize(
        ask(STAFF, OrganizationAction.ANSWER_CORRECTIONS, OTHER_CLINIC)
    )
    patient = await organizations.authorize(ask(PATIENT, OrganizationAction.REPLY_REVIEWS))

    assert allowed.allowed
    assert allowed.power_of_attorney_number == STAFF_POWER_OF_ATTORNEY_NUMBER
    assert not not_granted.allowed
    assert "не включает" in not_granted.reason
    assert not elsewhere.allowed
    assert not patient.allowed


async def test_every_decision_is_journaled_newest_first(
    organizations: OrganizationService, clock: Clock
) -> None:
    await organizations.authorize(ask(STAFF, OrganizationAction.ANSWER_CORRECTIONS))
    clock.advance(1)
    await organizations.authorize(ask(PATIENT, OrganizationAction.REPLY_REVIEWS))
    clock.advance(1)
    await organizations.authorize(ask(STAFF, OrganizationAction.ANSWER_CORRECTIONS, OTHER_CLINIC))

    journal = await organizations.journal(
        ListOrganizationJournal(context=STAFF, organization_id=CLINIC)
    )
    other = await organizations.journal(
        ListOrganizationJournal(context=OPERATOR, organization_id=OTHER_CLINIC)
    )

    reading, patient, answer = journal.items  # reading the journal is journaled too
    assert (reading.action, reading.allowed) == (OrganizationAction.SEE_FIGURES, True)
    assert (patient.actor_name, patient.allowed) == ("Иванова А. С.", False)
    assert (answer.actor_name, answer.allowed, answer.subject) == (
        "Морозова Т. Н.",
        True,
        "заявление И-1",
    )
    assert STAFF_POWER_OF_ATTORNEY_NUMBER in answer.basis_label
    [attempt] = other.items
    assert (attempt.actor_name, attempt.allowed) == ("Морозова Т. Н.", False)


async def test_the_staff_list_needs_figures_of_that_clinic(
    organizations: OrganizationService, clock: Clock
) -> None:
    listed = await organizations.staff(ListOrganizationStaff(context=STAFF, organization_id=CLINIC))
    [authority] = listed.items

    assert listed.organization_name == "ГП № 7"
    assert (authority.staff_name, authority.power_of_attorney_number) == (
        "Морозова Т. Н.",
        STAFF_POWER_OF_ATTORNEY_NUMBER,
    )
    assert authority.valid_until == clock().date() + timedelta(days=365)
    assert OrganizationAction.MANAGE_SCHEDULES not in authority.scopes
    await refused(
        organizations.staff(ListOrganizationStaff(context=PATIENT, organization_id=CLINIC)),
        ErrorCode.NOT_ORGANIZATION_STAFF,
    )
    await refused(
        organizations.journal(ListOrganizationJournal(context=STAFF, organization_id=OTHER_CLINIC)),
        ErrorCode.NOT_ORGANIZATION_STAFF,
    )


def grant(
    context: AccessContext = OPERATOR, organization: Any = CLINIC, number: str = "ДОВ-2"
) -> GrantStaffAuthority:
    return GrantStaffAuthority(
        context=context,
        organization_id=organization,
        staff_snils=demo.PATIENT.snils,
        number=number,
        scopes=frozenset({OrganizationAction.MANAGE_SCHEDULES}),
        valid_from=date(2026, 1, 1),
        valid_until=date(2099, 12, 31),
    )


async def test_an_operator_registers_and_revokes_a_power_of_attorney(
    organizations: OrganizationService,
) -> None:
    schedules = ask(PATIENT, OrganizationAction.MANAGE_SCHEDULES)

    granted = await organizations.grant(grant())
    allowed = await organizations.authorize(schedules)
    revoked = await organizations.revoke(
        RevokeStaffAuthority(context=OPERATOR, organization_id=CLINIC, number="ДОВ-2")
    )
    after = await organizations.authorize(schedules)

    assert (granted.staff_name, granted.revoked) == ("Иванова А. С.", False)
    assert (allowed.allowed, allowed.power_of_attorney_number) == (True, "ДОВ-2")
    assert revoked.revoked
    assert not after.allowed
    assert "отозвана" in after.reason


async def test_only_operators_register_and_only_for_a_corporate_account(
    organizations: OrganizationService,
) -> None:
    claimed_operator = STAFF.model_copy(update={"roles": frozenset({Role.OPERATOR})})
    await refused(organizations.grant(grant(claimed_operator)), ErrorCode.FORBIDDEN)
    await refused(organizations.grant(grant(organization=OTHER_CLINIC)), ErrorCode.NOT_FOUND)
    await refused(
        organizations.grant(grant(number=STAFF_POWER_OF_ATTORNEY_NUMBER)), ErrorCode.CONFLICT
    )
    await refused(
        organizations.revoke(
            RevokeStaffAuthority(context=OPERATOR, organization_id=OTHER_CLINIC, number="ДОВ-X")
        ),
        ErrorCode.NOT_FOUND,
    )
