"""The rules of acting for an organization: only on one of its own powers of attorney, in
force that day, not revoked, covering the action."""

from datetime import date
from uuid import UUID

from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.identity.organization_rules import (
    NOT_STAFF,
    CorporateAccount,
    StaffAuthority,
    decide_for_organization,
    short_name,
)

CLINIC, OTHER = UUID(int=1), UUID(int=2)
STAFF = UUID(int=3)
ACCOUNT = CorporateAccount(CLINIC, "ГП № 7", "1097705432197")
DAY = date(2026, 12, 1)
AUTHORITY = StaffAuthority(
    number="ДОВ-1",
    organization_id=CLINIC,
    staff_id=STAFF,
    scopes=frozenset({OrganizationAction.ANSWER_CORRECTIONS}),
    valid_from=date(2026, 1, 1),
    valid_until=date(2026, 12, 31),
)
ANSWER = OrganizationAction.ANSWER_CORRECTIONS


def test_the_own_power_of_attorney_allows_a_covered_action_and_names_itself() -> None:
    decision = decide_for_organization(STAFF, ACCOUNT, CLINIC, [AUTHORITY], ANSWER, DAY)

    assert decision.allowed
    assert (decision.power_of_attorney_number, decision.valid_until) == (
        "ДОВ-1",
        date(2026, 12, 31),
    )
    assert decision.basis_label == "доверенность ГП № 7 № ДОВ-1"


def test_another_organization_or_one_without_a_corporate_account_is_refused() -> None:
    other = decide_for_organization(STAFF, ACCOUNT, OTHER, [AUTHORITY], ANSWER, DAY)
    no_account = decide_for_organization(STAFF, None, CLINIC, [AUTHORITY], ANSWER, DAY)

    for decision in (other, no_account):
        assert (decision.allowed, decision.reason) == (False, NOT_STAFF)
        assert decision.power_of_attorney_number is None


def test_each_limit_of_the_power_of_attorney_says_why() -> None:
    cases = {
        "не включает": (AUTHORITY, OrganizationAction.MANAGE_SCHEDULES, DAY),
        "истёк 31.12.2026": (AUTHORITY, ANSWER, date(2027, 1, 1)),
        "действует с 01.01.2026": (AUTHORITY, ANSWER, date(2025, 12, 31)),
        "отозвана": (StaffAuthority(**{**AUTHORITY.__dict__, "revoked": True}), ANSWER, DAY),
    }
    for reason, (authority, action, day) in cases.items():
        decision = decide_for_organization(STAFF, ACCOUNT, CLINIC, [authority], action, day)
        assert not decision.allowed
        assert reason in decision.reason
        assert "ДОВ-1" in decision.reason


def test_any_of_several_powers_of_attorney_may_allow() -> None:
    narrow = StaffAuthority(**{**AUTHORITY.__dict__, "number": "ДОВ-0", "revoked": True})
    decision = decide_for_organization(STAFF, ACCOUNT, CLINIC, [narrow, AUTHORITY], ANSWER, DAY)

    assert (decision.allowed, decision.power_of_attorney_number) == (True, "ДОВ-1")


def test_short_name_keeps_the_surname_and_initials() -> None:
    assert short_name("Морозова Татьяна Николаевна") == "Морозова Т. Н."
    assert short_name("Оператор") == "Оператор"
