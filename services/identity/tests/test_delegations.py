"""Powers of attorney and a teenager's consent for a parent, given, accepted, verified and
revoked on the embedded store; every change acts on the very next access decision."""

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pyotp
import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import LegalBasis
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.delegations import (
    AcceptDelegation,
    CreateDelegation,
    DelegationBasis,
    DelegationRequest,
    DelegationStatus,
    DelegationView,
    GetDelegation,
    ListDelegations,
    RevokeDelegation,
    VerifyDelegation,
)
from gosmed.contracts.identity.inbox import ListNotifications
from gosmed.identity.delegations import NO_AGENT, OFFERED_TITLE, DelegationService
from gosmed.identity.demo import account_id
from gosmed.identity.domain import ACTION_NOT_COVERED, NO_BASIS
from gosmed.identity.notifications import NotificationRepository, NotificationService
from gosmed.identity.repository import Session
from gosmed.identity.service import AccessService, Repositories
from gosmed.identity.settings import IdentitySettings

from .support import Clock, Letters, Phone, authorize, refused

UNKNOWN_SNILS = "00000000000"  # well-formed, nobody's
TEEN = demo.CHILD_OVER_15
RequestT = TypeVar("RequestT", bound=DelegationRequest)


@pytest.fixture
def inbox(database: Any) -> NotificationRepository:
    return NotificationRepository(database)


@pytest.fixture
def delegations(
    repos: Repositories, clock: Clock, inbox: NotificationRepository
) -> DelegationService:
    settings = IdentitySettings(delegation_create_limit=3, step_up_seconds=600)
    notifications = NotificationService(inbox, repos.accounts, settings, Phone(), Letters(), clock)
    return DelegationService(repos, notifications, clock, settings)


async def open_session(delegations: DelegationService, person: demo.DemoPerson) -> UUID:
    """A session of `person` logged in (second factor passed) just now."""
    now = delegations.clock()
    session = Session(
        id=uuid4(),
        account_id=account_id(person),
        device="test",
        client_address="198.51.100.7",
        created_at=now,
        last_seen_at=now,
        # after the real time too: the store's TTL index drops expired sessions
        expires_at=max(now, datetime.now(UTC)) + timedelta(hours=12),
        tokens_expire_by=now + timedelta(minutes=5),
        refresh_digest=uuid4().hex,
    )
    await delegations.repos.sessions.add(session)
    return session.id


async def give(delegations: DelegationService, request: CreateDelegation) -> DelegationView:
    """`request` sent from a session of the principal that has just logged in."""
    person = next(p for p in demo.PEOPLE if account_id(p) == request.principal_id)
    session_id = await open_session(delegations, person)
    return await delegations.create(request.model_copy(update={"session_id": session_id}))


async def in_force(
    delegations: DelegationService, view: DelegationView, agent: demo.DemoPerson
) -> DelegationView:
    """The agent accepts the delegation and an operator verifies it."""
    accepted = await delegations.accept(by(agent, AcceptDelegation, view.delegation_id))
    assert accepted.status == DelegationStatus.PENDING_VERIFICATION
    return await delegations.verify(by(demo.OPERATOR, VerifyDelegation, view.delegation_id))


def power_of_attorney(
    principal: demo.DemoPerson,
    agent_snils: str,
    today: date,
    *,
    basis: DelegationBasis = DelegationBasis.QUALIFIED_SIGNATURE,
    scopes: frozenset[Action] = frozenset({Action.READ_SERVICES}),
    days: tuple[int, int] = (0, 30),
    register_number: str | None = None,
) -> CreateDelegation:
    """`principal` lets the agent act from `today + days[0]` to `today + days[1]`."""
    return CreateDelegation(
        principal_id=account_id(principal),
        agent_snils=agent_snils,
        basis=basis,
        scopes=scopes,
        valid_from=today + timedelta(days=days[0]),
        valid_until=today + timedelta(days=days[1]),
        register_number=register_number,
    )


def on(day: date) -> datetime:
    """Noon of `day` in UTC."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def birthday(person: demo.DemoPerson, age: int) -> date:
    return person.birth_date.replace(year=person.birth_date.year + age)


def by(person: demo.DemoPerson, request: type[RequestT], delegation_id: str) -> RequestT:
    """`request` about one delegation, sent by `person`."""
    return request(account_id=account_id(person), delegation_id=delegation_id)


async def test_a_signed_power_of_attorney_acts_once_accepted_and_verified_within_its_scopes(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    assert (await authorize(access, demo.PARENT, demo.PATIENT)).reason == NO_BASIS
    scopes = frozenset({Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS})
    request = power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date(), scopes=scopes)
    view = await give(delegations, request)
    assert view.status == DelegationStatus.AWAITING_AGENT
    assert (view.my_role, view.agent_id, view.agent_name) == ("principal", NO_AGENT, "")
    assert view.scopes == (Action.DOWNLOAD_DOCUMENTS, Action.READ_SERVICES)
    assert (await authorize(access, demo.PARENT, demo.PATIENT)).reason == NO_BASIS

    offered = await delegations.list(ListDelegations(account_id=account_id(demo.PARENT)))
    (offer,) = offered.delegations
    assert (offer.my_role, offer.principal_name) == ("agent", demo.PATIENT.full_name)
    accepted = await delegations.accept(by(demo.PARENT, AcceptDelegation, view.delegation_id))
    assert accepted.status == DelegationStatus.PENDING_VERIFICATION  # signed: an operator checks
    shown = await delegations.get(by(demo.PATIENT, GetDelegation, view.delegation_id))
    assert (shown.agent_id, shown.agent_name) == (account_id(demo.PARENT), demo.PARENT.full_name)
    assert (await authorize(access, demo.PARENT, demo.PATIENT)).reason == NO_BASIS

    verify = by(demo.OPERATOR, VerifyDelegation, view.delegation_id)
    assert (await delegations.verify(verify)).status == DelegationStatus.ACTIVE
    decision = await authorize(access, demo.PARENT, demo.PATIENT, Action.DOWNLOAD_DOCUMENTS)
    assert decision.allowed
    assert decision.basis == LegalBasis.POWER_OF_ATTORNEY
    assert decision.basis_document_id == view.delegation_id
    assert decision.basis_label == f"доверенность с квалифицированной ЭП № {view.delegation_id}"
    assert decision.patient is not None
    assert decision.patient.snils == demo.PATIENT.snils
    assert not decision.sees_restricted_categories

    outside = await authorize(access, demo.PARENT, demo.PATIENT, Action.FILE_CORRECTIONS)
    assert not outside.allowed
    assert outside.reason == ACTION_NOT_COVERED
    assert outside.patient is None


@pytest.mark.parametrize(
    ("basis", "register_number", "label"),
    [
        (DelegationBasis.NOTARIZED, "77 АБ 7654321", "нотариальная доверенность № 77 АБ 7654321"),
        (DelegationBasis.GUARDIAN_DECISION, "Р-15/2026", "решение об опеке № Р-15/2026"),
    ],
    ids=["notarized", "guardian"],
)
async def test_a_notarized_or_guardian_basis_waits_for_an_operator(
    delegations: DelegationService,
    access: AccessService,
    clock: Clock,
    basis: DelegationBasis,
    register_number: str,
    label: str,
) -> None:
    request = power_of_attorney(
        demo.PATIENT,
        demo.PARENT.snils,
        clock().date(),
        basis=basis,
        register_number=register_number,
    )
    offered = await give(delegations, request)
    assert offered.status == DelegationStatus.AWAITING_AGENT
    pending = await delegations.accept(by(demo.PARENT, AcceptDelegation, offered.delegation_id))
    assert pending.status == DelegationStatus.PENDING_VERIFICATION
    assert (await authorize(access, demo.PARENT, demo.PATIENT)).reason == NO_BASIS

    for party in (demo.PATIENT, demo.PARENT):
        verify = by(party, VerifyDelegation, pending.delegation_id)
        await refused(delegations.verify(verify), ErrorCode.FORBIDDEN)
    by_operator = by(demo.OPERATOR, VerifyDelegation, pending.delegation_id)
    verified = await delegations.verify(by_operator)
    assert (verified.status, verified.my_role) == (DelegationStatus.ACTIVE, "operator")

    decision = await authorize(access, demo.PARENT, demo.PATIENT)
    assert decision.allowed
    assert decision.basis == LegalBasis.POWER_OF_ATTORNEY
    assert decision.basis_document_id == pending.delegation_id
    assert decision.basis_label == label
    message = await refused(delegations.verify(by_operator), ErrorCode.CONFLICT)
    assert message == "Доверенность не ожидает проверки."


async def test_a_power_of_attorney_revoked_before_verification_cannot_be_verified(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    request = power_of_attorney(
        demo.PATIENT,
        demo.PARENT.snils,
        clock().date(),
        basis=DelegationBasis.NOTARIZED,
        register_number="77 АБ 7654321",
    )
    pending = await give(delegations, request)
    revoked = await delegations.revoke(by(demo.PATIENT, RevokeDelegation, pending.delegation_id))
    assert revoked.status == DelegationStatus.REVOKED
    verify = by(demo.OPERATOR, VerifyDelegation, pending.delegation_id)
    await refused(delegations.verify(verify), ErrorCode.CONFLICT)
    assert not (await authorize(access, demo.PARENT, demo.PATIENT)).allowed


async def test_nobody_gives_a_power_of_attorney_to_themself(
    delegations: DelegationService, clock: Clock
) -> None:
    request = power_of_attorney(demo.PATIENT, demo.PATIENT.snils, clock().date())
    message = await refused(give(delegations, request), ErrorCode.CONFLICT)
    assert message == "Нельзя выдать доверенность самому себе."


async def test_the_answer_is_the_same_whether_or_not_the_snils_has_an_account(
    delegations: DelegationService, clock: Clock
) -> None:
    """Nothing tells the patient whether an account has the SNILS, nor whose it is."""
    today = clock().date()
    known = await give(delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, today))
    unknown = await give(delegations, power_of_attorney(demo.PATIENT, UNKNOWN_SNILS, today))
    differ = {"delegation_id", "agent_snils"}
    assert known.model_dump(exclude=differ) == unknown.model_dump(exclude=differ)
    assert (unknown.agent_id, unknown.agent_name) == (NO_AGENT, "")
    assert demo.PARENT.full_name not in known.model_dump_json()
    assert unknown.agent_snils == "***-***-000 00"


async def test_the_agent_is_told_of_a_delegation_waiting_for_them(
    delegations: DelegationService, clock: Clock
) -> None:
    """Inbox, SMS and e-mail reach the holder of the SNILS; an unknown SNILS is dropped, and the
    principal's answer says nothing of either."""
    today = clock().date()
    view = await give(delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, today))
    await give(delegations, power_of_attorney(demo.PATIENT, UNKNOWN_SNILS, today))
    parent = await delegations.notifications.list(
        ListNotifications(account_id=account_id(demo.PARENT))
    )
    (notice,) = parent.notifications
    assert notice.title == OFFERED_TITLE
    assert notice.link == f"/delegations/{view.delegation_id}"
    assert demo.PATIENT.full_name in notice.body
    patient = await delegations.notifications.list(
        ListNotifications(account_id=account_id(demo.PATIENT))
    )
    assert all(n.title != OFFERED_TITLE for n in patient.notifications)


async def test_only_the_holder_of_the_snils_accepts_and_only_once(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    view = await give(
        delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date())
    )
    for person, code in (
        (demo.PATIENT, ErrorCode.FORBIDDEN),
        (demo.REPRESENTATIVE, ErrorCode.NOT_FOUND),
        (demo.OPERATOR, ErrorCode.FORBIDDEN),
    ):
        await refused(delegations.accept(by(person, AcceptDelegation, view.delegation_id)), code)
    await in_force(delegations, view, demo.PARENT)
    again = by(demo.PARENT, AcceptDelegation, view.delegation_id)
    await refused(delegations.accept(again), ErrorCode.CONFLICT)
    assert (await authorize(access, demo.PARENT, demo.PATIENT)).allowed


async def test_an_unconfirmed_account_gives_no_power_of_attorney(
    delegations: DelegationService, clock: Clock
) -> None:
    request = power_of_attorney(demo.UNCONFIRMED, demo.PARENT.snils, clock().date())
    with pytest.raises(ServiceError) as caught:
        await give(delegations, request)
    assert caught.value.code == ErrorCode.FORBIDDEN
    assert [d.code for d in caught.value.details] == ["account_not_confirmed"]
    listed = await delegations.list(ListDelegations(account_id=account_id(demo.PARENT)))
    assert listed.delegations == ()


async def test_a_power_of_attorney_needs_a_fresh_second_factor(
    delegations: DelegationService, clock: Clock
) -> None:
    """A live token alone is not enough: the session's login must be recent, or a TOTP code of
    the patient's app comes with the request (once)."""
    request = power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date())
    session_id = await open_session(delegations, demo.PATIENT)
    for stale in (request, request.model_copy(update={"session_id": uuid4()})):
        with pytest.raises(ServiceError) as caught:
            await delegations.create(stale)
        assert [d.code for d in caught.value.details] == ["second_factor_required"]
    clock.advance(601)
    with pytest.raises(ServiceError) as caught:
        await delegations.create(request.model_copy(update={"session_id": session_id}))
    assert caught.value.code == ErrorCode.FORBIDDEN
    assert [d.code for d in caught.value.details] == ["second_factor_required"]

    code = pyotp.TOTP(demo.PATIENT.totp_secret or "").at(clock())
    with_code = request.model_copy(update={"session_id": session_id, "code": code})
    assert (await delegations.create(with_code)).status == DelegationStatus.AWAITING_AGENT
    # the code renewed the session's second factor; the same code is not taken twice
    later = power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date())
    fresh = await delegations.create(later.model_copy(update={"session_id": session_id}))
    assert fresh.status == DelegationStatus.AWAITING_AGENT
    replay = power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date())
    with pytest.raises(ServiceError) as caught:
        await delegations.create(replay.model_copy(update={"code": code}))
    assert [d.code for d in caught.value.details] == ["wrong_code"]


async def test_giving_powers_of_attorney_is_rate_limited_per_patient(
    delegations: DelegationService, clock: Clock
) -> None:
    today = clock().date()
    for snils in (demo.PARENT.snils, UNKNOWN_SNILS, demo.INSURER.snils):
        await give(delegations, power_of_attorney(demo.PATIENT, snils, today))
    fourth = power_of_attorney(demo.PATIENT, demo.OPERATOR.snils, today)
    await refused(give(delegations, fourth), ErrorCode.RATE_LIMITED)
    # another patient is not held back, and after the window the patient may give again
    teen = power_of_attorney(demo.PARENT, demo.INSURER.snils, today)
    assert (await give(delegations, teen)).status == DelegationStatus.AWAITING_AGENT
    clock.advance(3601)
    assert (await give(delegations, fourth)).status == DelegationStatus.AWAITING_AGENT


async def test_giving_and_revoking_are_security_events(
    delegations: DelegationService, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gosmed.security")
    view = await give(
        delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date())
    )
    await delegations.revoke(by(demo.PATIENT, RevokeDelegation, view.delegation_id))
    events = {r.security["event"]: r.security for r in caplog.records if hasattr(r, "security")}
    granted, revoked = events["delegation_granted"], events["delegation_revoked"]
    assert granted["delegation_id"] == view.delegation_id
    assert granted["basis"] == "qualified_signature"
    assert (revoked["delegation_id"], revoked["by"]) == (view.delegation_id, "principal")
    assert demo.PARENT.snils not in caplog.text


async def test_a_power_of_attorney_counts_from_its_first_to_its_last_day(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    request = power_of_attorney(demo.PATIENT, demo.PARENT.snils, clock().date(), days=(1, 3))
    view = await in_force(delegations, await give(delegations, request), demo.PARENT)
    allowed = []
    for _ in range(5):
        allowed.append((await authorize(access, demo.PARENT, demo.PATIENT)).allowed)
        clock.advance(days=1)
    assert allowed == [False, True, True, True, False]
    get = by(demo.PATIENT, GetDelegation, view.delegation_id)
    assert (await delegations.get(get)).status == DelegationStatus.EXPIRED


async def test_a_repeated_request_gives_one_power_of_attorney(
    delegations: DelegationService, clock: Clock
) -> None:
    """A redelivered request (same message id) stores nothing new nor undoes the verification."""
    request = power_of_attorney(
        demo.PATIENT,
        demo.PARENT.snils,
        clock().date(),
        basis=DelegationBasis.NOTARIZED,
        register_number="77 АБ 7654321",
    )
    request = request.model_copy(
        update={"session_id": await open_session(delegations, demo.PATIENT)}
    )
    first = await delegations.create(request)
    await in_force(delegations, first, demo.PARENT)
    again = await delegations.create(request)
    assert again.delegation_id == first.delegation_id
    assert again.status == DelegationStatus.ACTIVE
    listed = await delegations.list(ListDelegations(account_id=account_id(demo.PARENT)))
    assert [d.delegation_id for d in listed.delegations] == [first.delegation_id]


async def test_two_powers_of_attorney_to_one_agent_are_revoked_each_on_its_own(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    today = clock().date()
    first = await give(delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, today))
    second = await give(delegations, power_of_attorney(demo.PATIENT, demo.PARENT.snils, today))
    assert first.delegation_id != second.delegation_id
    await in_force(delegations, first, demo.PARENT)
    await in_force(delegations, second, demo.PARENT)

    await delegations.revoke(by(demo.PATIENT, RevokeDelegation, first.delegation_id))
    decision = await authorize(access, demo.PARENT, demo.PATIENT)
    assert decision.basis_document_id == second.delegation_id
    await delegations.revoke(by(demo.PATIENT, RevokeDelegation, second.delegation_id))
    assert not (await authorize(access, demo.PARENT, demo.PATIENT)).allowed


async def test_a_revocation_acts_on_the_next_authorize(
    delegations: DelegationService, access: AccessService
) -> None:
    before = await authorize(access, demo.REPRESENTATIVE, demo.PATIENT)
    assert before.basis_document_id == "demo-poa-active"
    revoke = by(demo.PATIENT, RevokeDelegation, "demo-poa-active")
    assert (await delegations.revoke(revoke)).status == DelegationStatus.REVOKED

    after = await authorize(access, demo.REPRESENTATIVE, demo.PATIENT)
    assert not after.allowed
    assert after.patient is None
    assert after.reason == NO_BASIS
    assert (await authorize(access, demo.REPRESENTATIVE, demo.REPRESENTATIVE)).allowed
    message = await refused(delegations.revoke(revoke), ErrorCode.CONFLICT)
    assert message == "Доверенность уже отозвана."


async def test_the_agent_renounces_but_an_operator_or_a_stranger_cannot_revoke(
    delegations: DelegationService, access: AccessService
) -> None:
    operator = by(demo.OPERATOR, RevokeDelegation, "demo-poa-active")
    await refused(delegations.revoke(operator), ErrorCode.FORBIDDEN)
    stranger = by(demo.INSURER, RevokeDelegation, "demo-poa-active")
    await refused(delegations.revoke(stranger), ErrorCode.NOT_FOUND)
    assert (await authorize(access, demo.REPRESENTATIVE, demo.PATIENT)).allowed

    agent = by(demo.REPRESENTATIVE, RevokeDelegation, "demo-poa-active")
    renounced = await delegations.revoke(agent)
    assert (renounced.status, renounced.my_role) == (DelegationStatus.REVOKED, "agent")
    assert not (await authorize(access, demo.REPRESENTATIVE, demo.PATIENT)).allowed


async def test_a_power_of_attorney_is_shown_to_its_parties_and_operators_only(
    delegations: DelegationService,
) -> None:
    roles = {}
    for person in (demo.PATIENT, demo.REPRESENTATIVE, demo.OPERATOR):
        view = await delegations.get(by(person, GetDelegation, "demo-poa-active"))
        roles[person.key] = view.my_role
    assert roles == {"patient": "principal", "representative": "agent", "operator": "operator"}
    for stranger in (demo.PARENT, demo.INSURER, demo.INSPECTOR):
        for delegation_id in ("demo-poa-active", "no-such-delegation"):
            get = by(stranger, GetDelegation, delegation_id)
            message = await refused(delegations.get(get), ErrorCode.NOT_FOUND)
            assert message == "Доверенность не найдена."
            verify = by(stranger, VerifyDelegation, delegation_id)
            await refused(delegations.verify(verify), ErrorCode.NOT_FOUND)
    listed = await delegations.list(ListDelegations(account_id=account_id(demo.PARENT)))
    assert listed.delegations == ()


async def test_a_parent_acts_for_a_child_until_the_fifteenth_birthday(
    access: AccessService, clock: Clock
) -> None:
    fifteenth = birthday(demo.CHILD_UNDER_15, 15)
    clock.now = on(fifteenth - timedelta(days=1))
    decision = await authorize(access, demo.PARENT, demo.CHILD_UNDER_15, Action.BOOK_APPOINTMENTS)
    assert decision.allowed
    assert decision.basis == LegalBasis.PARENT_OF_MINOR
    assert decision.basis_document_id is None
    assert decision.basis_label == "родитель ребёнка до 15 лет"
    assert not decision.sees_restricted_categories

    clock.now = on(fifteenth)
    refusal = await authorize(access, demo.PARENT, demo.CHILD_UNDER_15)
    assert not refusal.allowed
    assert refusal.reason == NO_BASIS


async def test_from_fifteen_only_the_teenagers_own_consent_lets_the_parent_in(
    delegations: DelegationService, access: AccessService, clock: Clock
) -> None:
    fifteenth = birthday(TEEN, 15)
    clock.now = on(fifteenth)
    assert (await authorize(access, demo.PARENT, TEEN)).reason == NO_BASIS
    own = await authorize(access, TEEN, TEEN)
    assert (own.basis, own.sees_restricted_categories) == (LegalBasis.OWN_ACCOUNT, True)

    scopes = frozenset({Action.READ_SERVICES, Action.READ_LAB_RESULTS})
    request = power_of_attorney(
        TEEN, demo.PARENT.snils, fifteenth, basis=DelegationBasis.MINOR_CONSENT, scopes=scopes
    )
    consent = await give(delegations, request)
    assert consent.status == DelegationStatus.ACTIVE
    decision = await authorize(access, demo.PARENT, TEEN, Action.READ_LAB_RESULTS)
    assert decision.allowed
    assert decision.basis == LegalBasis.POWER_OF_ATTORNEY
    assert decision.basis_document_id == consent.delegation_id
    assert decision.basis_label == f"согласие пациента старше 15 лет № {consent.delegation_id}"
    assert not decision.sees_restricted_categories
    booking = await authorize(access, demo.PARENT, TEEN, Action.BOOK_APPOINTMENTS)
    assert booking.reason == ACTION_NOT_COVERED

    await delegations.revoke(by(TEEN, RevokeDelegation, consent.delegation_id))
    assert (await authorize(access, demo.PARENT, TEEN)).reason == NO_BASIS


TOO_YOUNG_OR_OLD = "Согласие для родителя даёт пациент от 15 до 18 лет."


@pytest.mark.parametrize(
    ("principal", "agent", "day", "message"),
    [
        (TEEN, demo.PARENT, birthday(TEEN, 15) - timedelta(days=1), TOO_YOUNG_OR_OLD),
        (TEEN, demo.PARENT, birthday(TEEN, 18), TOO_YOUNG_OR_OLD),
        (
            TEEN,
            demo.REPRESENTATIVE,
            birthday(TEEN, 16),
            "Согласие этого вида даётся только родителю.",
        ),
        (demo.PATIENT, demo.PARENT, birthday(TEEN, 16), TOO_YOUNG_OR_OLD),
    ],
    ids=["teen-at-14", "teen-at-18", "teen-to-a-stranger", "adult"],
)
async def test_a_consent_for_a_parent_is_given_from_15_to_18_and_to_a_parent_only(
    delegations: DelegationService,
    clock: Clock,
    principal: demo.DemoPerson,
    agent: demo.DemoPerson,
    day: date,
    message: str,
) -> None:
    clock.now = on(day)
    request = power_of_attorney(principal, agent.snils, day, basis=DelegationBasis.MINOR_CONSENT)
    assert await refused(give(delegations, request), ErrorCode.CONFLICT) == message
