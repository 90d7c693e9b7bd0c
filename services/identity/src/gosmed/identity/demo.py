"""The demo people of `gosmed.contracts.demo` as accounts, with their family ties and grants.

Seeded at start when `GOSMED_DEMO_DATA=1`; seeding twice changes nothing. The 16-year-old has
given her father no consent: from 15 a patient's medical data is theirs alone (323-FZ, art. 54),
so the demo shows the default the law sets; she can grant it herself.
"""

from datetime import datetime, timedelta
from uuid import UUID, uuid5

from gosmed.contracts import demo
from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import Action, ConfirmationLevel
from gosmed.contracts.identity.delegations import DelegationBasis, DelegationStatus
from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.identity import credentials
from gosmed.identity.domain import (
    READ_ONLY_ACTIONS,
    Account,
    Delegation,
    InspectorOrder,
    InsurerConsent,
)
from gosmed.identity.organization_rules import CorporateAccount, StaffAuthority
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.service import Repositories

DEMO_NAMESPACE = UUID("5d8c1f0e-6a43-4c1e-9b7a-0d1e2f3a4b5c")
ROLES = {
    demo.INSURER.key: frozenset({Role.INSURER}),
    demo.INSPECTOR.key: frozenset({Role.INSPECTOR}),
    demo.OPERATOR.key: frozenset({Role.OPERATOR}),
    demo.DOCTOR.key: frozenset({Role.CITIZEN, Role.DOCTOR}),
    demo.CLINIC_STAFF.key: frozenset({Role.CITIZEN, Role.ORGANIZATION_STAFF}),
}
SPECIALISTS = {demo.DOCTOR.key: demo.DOCTOR_SPECIALIST_ID}
CHILDREN = (demo.CHILD_UNDER_15, demo.CHILD_OVER_15)
POWER_OF_ATTORNEY_NUMBER = "77 АА 1234567"
INSURER_CONTRACT_NUMBER = "ДМС-2026/0147"
INSPECTOR_ORDER_NUMBER = "П-42/2026"
STAFF_POWER_OF_ATTORNEY_NUMBER = "ДОВ-ГП7-2026-001"
STAFF_ORGANIZATION = CorporateAccount(demo.STAFF_ORGANIZATION_ID, "ГП № 7", "1097705432197")
STAFF_SCOPES = frozenset(
    {
        OrganizationAction.ANSWER_CORRECTIONS,
        OrganizationAction.REPLY_REVIEWS,
        OrganizationAction.SEE_FIGURES,
    }
)
"""The demo staff member answers corrections and reviews and sees the figures, but does not
manage schedules (so the demo shows a refusal for a scope not granted)."""


def account_id(person: demo.DemoPerson) -> UUID:
    """The fixed account id of a demo person."""
    return uuid5(DEMO_NAMESPACE, person.snils)


_HASHES: dict[str, str] = {}


async def _password_hash(password: str) -> str:
    """Hashed once per process (argon2id is slow on purpose)."""
    if password not in _HASHES:
        _HASHES[password] = await credentials.hash_password(password)
    return _HASHES[password]


def demo_account(person: demo.DemoPerson, password_hash: str | None) -> Account:
    parents = frozenset({account_id(demo.PARENT)}) if person in CHILDREN else frozenset()
    return Account(
        id=account_id(person),
        full_name=person.full_name,
        birth_date=person.birth_date,
        snils=person.snils,
        oms_policy=person.oms_policy,
        phone=person.phone,
        email=person.email,
        confirmation_level=ConfirmationLevel.CONFIRMED
        if person.confirmed
        else ConfirmationLevel.STANDARD,
        roles=ROLES.get(person.key, frozenset({Role.CITIZEN})),
        parent_ids=parents,
        password_hash=password_hash,
        totp_secret=person.totp_secret,
        organization=person.organization,
        city=person.city,
        inn=person.inn,
        specialist_id=SPECIALISTS.get(person.key),
    )


def demo_delegations(today: datetime) -> list[Delegation]:
    """The representative's powers of attorney from the patient: one active, one expired, one
    revoked (so the demo shows each status)."""
    day = today.date()
    patient, agent = account_id(demo.PATIENT), account_id(demo.REPRESENTATIVE)
    return [
        Delegation(
            id="demo-poa-active",
            principal_id=patient,
            agent_id=agent,
            basis=DelegationBasis.NOTARIZED,
            scopes=frozenset({Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS}),
            valid_from=day - timedelta(days=30),
            valid_until=day + timedelta(days=365),
            status=DelegationStatus.ACTIVE,
            register_number=POWER_OF_ATTORNEY_NUMBER,
        ),
        Delegation(
            id="demo-poa-expired",
            principal_id=patient,
            agent_id=agent,
            basis=DelegationBasis.QUALIFIED_SIGNATURE,
            scopes=frozenset({Action.BOOK_APPOINTMENTS}),
            valid_from=day - timedelta(days=400),
            valid_until=day - timedelta(days=35),
            status=DelegationStatus.ACTIVE,
        ),
        Delegation(
            id="demo-poa-revoked",
            principal_id=patient,
            agent_id=agent,
            basis=DelegationBasis.QUALIFIED_SIGNATURE,
            scopes=frozenset({Action.FILE_CORRECTIONS, Action.READ_LAB_RESULTS}),
            valid_from=day - timedelta(days=60),
            valid_until=day + timedelta(days=300),
            status=DelegationStatus.REVOKED,
        ),
    ]


async def seed(repos: Repositories, now: datetime) -> None:
    for person in demo.PEOPLE:
        password_hash = await _password_hash(person.password) if person.password else None
        await repos.accounts.add(demo_account(person, password_hash))
    for delegation in demo_delegations(now):
        await repos.grants.add_delegation(delegation)
    day = now.date()
    await repos.grants.add_insurer_consent(
        InsurerConsent(
            id="demo-insurer-consent",
            insurer_id=account_id(demo.INSURER),
            patient_id=account_id(demo.PATIENT),
            contract_number=INSURER_CONTRACT_NUMBER,
            contract_valid_until=day + timedelta(days=365),
            consent_valid_until=day + timedelta(days=180),
            scopes=frozenset({Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS}),
            request_confirmed_until=now + timedelta(days=30),
        )
    )
    await repos.grants.add_inspector_order(
        InspectorOrder(
            id="demo-inspector-order",
            inspector_id=account_id(demo.INSPECTOR),
            number=INSPECTOR_ORDER_NUMBER,
            order_date=day - timedelta(days=7),
            patient_ids=frozenset({account_id(demo.PATIENT)}),
            scopes=READ_ONLY_ACTIONS,
            valid_from=day - timedelta(days=7),
            valid_until=day + timedelta(days=90),
        )
    )


async def seed_citizens(repos: Repositories, count: int) -> None:
    """The first `count` extra demo citizens (the same on every start; seeding twice changes
    nothing)."""
    password_hash = await _password_hash(demo.EXTRA_CITIZEN_PASSWORD)
    for person in demo.extra_citizens(count):
        await repos.accounts.add(demo_account(person, password_hash))


async def seed_organization(organizations: OrganizationsRepository, now: datetime) -> None:
    """«ГП № 7»'s corporate account and its power of attorney for the demo staff member."""
    await organizations.add_organization(STAFF_ORGANIZATION)
    await organizations.add_authority(
        StaffAuthority(
            number=STAFF_POWER_OF_ATTORNEY_NUMBER,
            organization_id=STAFF_ORGANIZATION.organization_id,
            staff_id=account_id(demo.CLINIC_STAFF),
            scopes=STAFF_SCOPES,
            valid_from=now.date() - timedelta(days=30),
            valid_until=now.date() + timedelta(days=365),
        )
    )
