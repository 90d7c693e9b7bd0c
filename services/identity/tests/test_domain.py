"""The access rules on plain data, at chosen moments."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from gosmed.contracts.access import LegalBasis, Role
from gosmed.contracts.identity.access import Action, ConfirmationLevel
from gosmed.contracts.identity.delegations import DelegationBasis, DelegationStatus
from gosmed.identity.domain import (
    ACTION_NOT_COVERED,
    NO_BASIS,
    NOT_CONFIRMED,
    NOT_CONFIRMED_TO_GRANT,
    AccessFacts,
    Account,
    Delegation,
    InspectorOrder,
    InsurerConsent,
    age_on,
    decide,
    delegation_refusal,
    grant_refusal,
    initial_status,
    retry_delay,
    slowdown,
    status_once_accepted,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def account(
    birth: date = date(1985, 1, 1), *, roles: frozenset[Role] = frozenset({Role.CITIZEN})
) -> Account:
    return Account(
        id=uuid4(),
        full_name="Тестов Тест Тестович",
        birth_date=birth,
        snils="11223344595",
        oms_policy=None,
        phone=None,
        email=None,
        confirmation_level=ConfirmationLevel.CONFIRMED,
        roles=roles,
    )


def power_of_attorney(principal: Account, agent: Account, **changes: object) -> Delegation:
    delegation = Delegation(
        id="d-1",
        principal_id=principal.id,
        agent_id=agent.id,
        basis=DelegationBasis.QUALIFIED_SIGNATURE,
        scopes=frozenset({Action.READ_SERVICES}),
        valid_from=TODAY - timedelta(days=1),
        valid_until=TODAY + timedelta(days=1),
        status=DelegationStatus.ACTIVE,
    )
    return replace(delegation, **changes)  # type: ignore[arg-type]


def test_age_counts_whole_years_up_to_the_birthday() -> None:
    assert age_on(date(2011, 11, 25), date(2026, 11, 24)) == 14
    assert age_on(date(2011, 11, 25), date(2026, 11, 25)) == 15
    assert age_on(date(2012, 2, 29), date(2027, 2, 28)) == 14
    assert age_on(date(2012, 2, 29), date(2027, 3, 1)) == 15


def test_a_patient_acts_for_themself_with_restricted_categories() -> None:
    me = account()
    decision = decide(AccessFacts(me, me), Action.WRITE_REVIEWS, NOW)
    assert decision.allowed
    assert decision.grant is not None
    assert decision.grant.basis == LegalBasis.OWN_ACCOUNT
    assert decision.grant.sees_restricted_categories


def test_an_unconfirmed_account_is_told_how_to_confirm() -> None:
    me = replace(account(), confirmation_level=ConfirmationLevel.STANDARD)
    decision = decide(AccessFacts(me, me), Action.READ_SERVICES, NOW)
    assert not decision.allowed
    assert decision.reason == NOT_CONFIRMED
    assert "Подтвердите" in decision.reason


def test_a_parent_sees_a_child_until_the_fifteenth_birthday() -> None:
    parent = account()
    child = replace(account(date(2011, 11, 26)), parent_ids=frozenset({parent.id}))
    assert decide(AccessFacts(parent, child), Action.READ_SERVICES, NOW).allowed
    on_birthday = NOW + timedelta(days=1)
    later = decide(AccessFacts(parent, child), Action.READ_SERVICES, on_birthday)
    assert not later.allowed
    assert later.reason == NO_BASIS


def test_a_teenagers_consent_restores_the_parents_access() -> None:
    parent = account()
    teen = replace(account(date(2010, 5, 20)), parent_ids=frozenset({parent.id}))
    consent = power_of_attorney(
        teen, parent, basis=DelegationBasis.MINOR_CONSENT, scopes=frozenset(Action)
    )
    decision = decide(AccessFacts(parent, teen, (consent,)), Action.READ_LAB_RESULTS, NOW)
    assert decision.allowed
    assert decision.grant is not None
    assert decision.grant.basis == LegalBasis.POWER_OF_ATTORNEY
    assert "согласие" in decision.grant.label


@pytest.mark.parametrize(
    ("changes", "allowed"),
    [
        ({}, True),
        ({"status": DelegationStatus.REVOKED}, False),
        ({"status": DelegationStatus.PENDING_VERIFICATION}, False),
        ({"valid_until": TODAY - timedelta(days=1)}, False),
        ({"valid_from": TODAY + timedelta(days=1)}, False),
        ({"scopes": frozenset({Action.BOOK_APPOINTMENTS})}, False),
    ],
)
def test_a_power_of_attorney_counts_only_in_force_and_in_scope(
    changes: dict[str, object], allowed: bool
) -> None:
    principal, agent = account(), account()
    delegation = power_of_attorney(principal, agent, **changes)
    decision = decide(AccessFacts(agent, principal, (delegation,)), Action.READ_SERVICES, NOW)
    assert decision.allowed is allowed


def test_an_expired_delegation_reports_expired() -> None:
    principal, agent = account(), account()
    delegation = power_of_attorney(principal, agent, valid_until=TODAY - timedelta(days=1))
    assert delegation.status_on(TODAY) == DelegationStatus.EXPIRED


def test_a_basis_that_does_not_cover_the_action_says_so() -> None:
    principal, agent = account(), account()
    delegation = power_of_attorney(principal, agent)
    decision = decide(AccessFacts(agent, principal, (delegation,)), Action.FILE_CORRECTIONS, NOW)
    assert decision.reason == ACTION_NOT_COVERED


def test_a_delegation_of_someone_else_gives_nothing() -> None:
    principal, agent, stranger = account(), account(), account()
    delegation = power_of_attorney(principal, agent)
    decision = decide(AccessFacts(stranger, principal, (delegation,)), Action.READ_SERVICES, NOW)
    assert not decision.allowed


def insurer_consent(insurer: Account, patient: Account, **changes: object) -> InsurerConsent:
    consent = InsurerConsent(
        id="c-1",
        insurer_id=insurer.id,
        patient_id=patient.id,
        contract_number="ДМС-1",
        contract_valid_until=TODAY + timedelta(days=10),
        consent_valid_until=TODAY + timedelta(days=10),
        scopes=frozenset({Action.READ_SERVICES, Action.WRITE_REVIEWS}),
        request_confirmed_until=NOW + timedelta(hours=1),
    )
    return replace(consent, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "allowed"),
    [
        ({}, True),
        ({"revoked": True}, False),
        ({"contract_valid_until": TODAY - timedelta(days=1)}, False),
        ({"consent_valid_until": TODAY - timedelta(days=1)}, False),
        ({"request_confirmed_until": None}, False),
        ({"request_confirmed_until": NOW - timedelta(seconds=1)}, False),
    ],
)
def test_an_insurer_needs_contract_consent_and_a_confirmed_request(
    changes: dict[str, object], allowed: bool
) -> None:
    insurer, patient = account(roles=frozenset({Role.INSURER})), account()
    facts = AccessFacts(
        insurer, patient, insurer_consents=(insurer_consent(insurer, patient, **changes),)
    )
    assert decide(facts, Action.READ_SERVICES, NOW).allowed is allowed


def test_an_insurer_never_writes_and_a_citizen_role_cannot_use_a_consent() -> None:
    insurer, patient = account(roles=frozenset({Role.INSURER})), account()
    consent = insurer_consent(insurer, patient)
    facts = AccessFacts(insurer, patient, insurer_consents=(consent,))
    assert not decide(facts, Action.WRITE_REVIEWS, NOW).allowed
    citizen = replace(insurer, roles=frozenset({Role.CITIZEN}))
    facts = AccessFacts(citizen, patient, insurer_consents=(consent,))
    assert not decide(facts, Action.READ_SERVICES, NOW).allowed


def test_an_inspector_reads_within_the_order_period_only() -> None:
    inspector, patient = account(roles=frozenset({Role.INSPECTOR})), account()
    order = InspectorOrder(
        id="o-1",
        inspector_id=inspector.id,
        number="П-1",
        order_date=TODAY,
        patient_ids=frozenset({patient.id}),
        scopes=frozenset(Action),
        valid_from=TODAY,
        valid_until=TODAY + timedelta(days=5),
    )
    facts = AccessFacts(inspector, patient, inspector_orders=(order,))
    decision = decide(facts, Action.DOWNLOAD_DOCUMENTS, NOW)
    assert decision.allowed
    assert decision.grant is not None
    assert decision.grant.document_id == "П-1"
    assert not decide(facts, Action.BOOK_APPOINTMENTS, NOW).allowed  # read-only
    assert not decide(facts, Action.READ_SERVICES, NOW + timedelta(days=6)).allowed
    other = AccessFacts(inspector, account(), inspector_orders=(order,))
    assert not decide(other, Action.READ_SERVICES, NOW).allowed


def test_a_claimed_basis_must_be_the_one_that_applies() -> None:
    principal, agent = account(), account()
    facts = AccessFacts(agent, principal, (power_of_attorney(principal, agent),))
    claimed = decide(facts, Action.READ_SERVICES, NOW, basis=LegalBasis.INSURER_CONSENT)
    assert not claimed.allowed
    right = decide(
        facts, Action.READ_SERVICES, NOW, basis=LegalBasis.POWER_OF_ATTORNEY, document_id="d-1"
    )
    assert right.allowed
    wrong_document = decide(
        facts, Action.READ_SERVICES, NOW, basis=LegalBasis.POWER_OF_ATTORNEY, document_id="d-2"
    )
    assert not wrong_document.allowed


def test_who_may_give_which_delegation() -> None:
    parent = replace(account(), snils="11111111145")
    teen = replace(account(date(2010, 5, 20)), parent_ids=frozenset({parent.id}))
    adult = replace(account(), snils="22222222256")
    consent = DelegationBasis.MINOR_CONSENT
    assert delegation_refusal(teen, parent, consent, TODAY) is None
    assert delegation_refusal(teen, adult, consent, TODAY) is not None
    assert delegation_refusal(adult, parent, consent, TODAY) is not None
    assert delegation_refusal(adult, adult, DelegationBasis.NOTARIZED, TODAY) is not None
    signed = DelegationBasis.QUALIFIED_SIGNATURE
    assert delegation_refusal(adult, parent, signed, TODAY) is None
    unconfirmed = replace(adult, confirmation_level=ConfirmationLevel.STANDARD)
    assert delegation_refusal(unconfirmed, parent, signed, TODAY) == NOT_CONFIRMED_TO_GRANT
    assert grant_refusal(unconfirmed, parent.snils, signed, TODAY) == NOT_CONFIRMED_TO_GRANT
    assert grant_refusal(adult, adult.snils, signed, TODAY) is not None


def test_only_a_teenagers_consent_acts_at_once_and_a_signed_one_waits_for_an_operator() -> None:
    assert initial_status(DelegationBasis.MINOR_CONSENT) == DelegationStatus.ACTIVE
    for basis in (
        DelegationBasis.NOTARIZED,
        DelegationBasis.GUARDIAN_DECISION,
        DelegationBasis.QUALIFIED_SIGNATURE,
    ):
        assert initial_status(basis) == DelegationStatus.AWAITING_AGENT
        assert status_once_accepted(basis) == DelegationStatus.PENDING_VERIFICATION


def test_backoff_and_slowdown_grow_and_are_capped() -> None:
    assert [retry_delay(n, 5, 60) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert [slowdown(n, 0.5) for n in (0, 1, 4, 10)] == [0, 0.5, 2.0, 3.0]
