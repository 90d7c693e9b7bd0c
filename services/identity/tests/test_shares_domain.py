"""A share opens exactly its scopes to the doctor of its specialist, while in force."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from gosmed.contracts.access import LegalBasis, Role
from gosmed.contracts.identity.access import Action, ConfirmationLevel
from gosmed.contracts.identity.shares import ShareScope
from gosmed.identity.domain import AccessFacts, Account, Share, decide, share_refusal

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SPECIALIST = uuid4()


def account(roles: frozenset[Role], specialist_id: UUID | None = None) -> Account:
    return Account(
        id=uuid4(),
        full_name="Тестов Тест Тестович",
        birth_date=date(1980, 1, 1),
        snils="11223344595",
        oms_policy=None,
        phone=None,
        email=None,
        confirmation_level=ConfirmationLevel.CONFIRMED,
        roles=roles,
        specialist_id=specialist_id,
    )


DOCTOR = account(frozenset({Role.CITIZEN, Role.DOCTOR}), SPECIALIST)
PATIENT = account(frozenset({Role.CITIZEN}))
SHARE = Share(
    id="s-1",
    patient_id=PATIENT.id,
    specialist_id=SPECIALIST,
    scopes=frozenset({ShareScope.LAB_RESULTS}),
    created_at=NOW,
    expires_at=NOW + timedelta(days=30),
)


def test_a_share_allows_only_its_scopes_with_the_share_as_basis() -> None:
    facts = AccessFacts(DOCTOR, PATIENT, shares=(SHARE,))
    allowed = decide(facts, Action.READ_LAB_RESULTS, NOW)
    assert allowed.allowed
    assert allowed.grant is not None
    assert (allowed.grant.basis, allowed.grant.document_id) == (LegalBasis.SHARE, "s-1")
    assert not allowed.grant.sees_restricted_categories
    for action in set(Action) - {Action.READ_LAB_RESULTS}:
        assert not decide(facts, action, NOW).allowed, action


def test_a_revoked_or_expired_share_or_another_doctor_gets_nothing() -> None:
    revoked = AccessFacts(DOCTOR, PATIENT, shares=(replace(SHARE, revoked_at=NOW),))
    assert not decide(revoked, Action.READ_LAB_RESULTS, NOW).allowed
    live = AccessFacts(DOCTOR, PATIENT, shares=(SHARE,))
    assert not decide(live, Action.READ_LAB_RESULTS, NOW + timedelta(days=30)).allowed
    other_doctor = account(frozenset({Role.DOCTOR}), uuid4())
    assert not decide(
        AccessFacts(other_doctor, PATIENT, shares=(SHARE,)), Action.READ_LAB_RESULTS, NOW
    ).allowed
    citizen_only = replace(DOCTOR, roles=frozenset({Role.CITIZEN}))
    assert not decide(
        AccessFacts(citizen_only, PATIENT, shares=(SHARE,)), Action.READ_LAB_RESULTS, NOW
    ).allowed


def test_a_share_lasts_at_most_90_days_and_ends_in_the_future() -> None:
    assert share_refusal(NOW + timedelta(days=90), NOW) is None
    assert share_refusal(NOW + timedelta(days=90, seconds=1), NOW)
    assert share_refusal(NOW, NOW)
