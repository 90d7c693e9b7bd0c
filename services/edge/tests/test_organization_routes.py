"""Routes of organizations' staff on a fake RPC caller: each route sends the staff member's
context and the organization of the path to the service behind it; identity's refusal is
403 `not_organization_staff`."""

from datetime import UTC, date, datetime
from uuid import uuid4

import httpx

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.reviews import (
    ANSWER_REVIEW_FOR_ORGANIZATION,
    AnswerAccepted,
    AnswerOutcome,
)
from gosmed.contracts.identity.organizations import (
    GRANT_STAFF_AUTHORITY,
    LIST_ORGANIZATION_JOURNAL,
    LIST_ORGANIZATION_STAFF,
    REVOKE_STAFF_AUTHORITY,
    OrganizationAction,
    OrganizationJournalEntry,
    OrganizationJournalView,
    OrganizationStaffView,
    StaffAuthorityView,
)
from gosmed.contracts.records.corrections import (
    ANSWER_CORRECTION_FOR_ORGANIZATION,
    LIST_ORGANIZATION_CORRECTIONS,
    CorrectionAnswered,
    CorrectionsPage,
    CorrectionStatus,
    OperatorFilter,
)
from gosmed.contracts.scheduling.schedules import (
    PUBLISH_SCHEDULE_FOR_ORGANIZATION,
    ScheduleAccepted,
)
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PRINCIPAL

ORGANIZATION = uuid4()
BASE = f"/api/v1/organizations/{ORGANIZATION}"
SLOT = {
    "clinic_slot_id": "s-1",
    "version": 2,
    "specialist_id": str(uuid4()),
    "specialty": "therapy",
    "department": "Терапевтическое отделение",
    "starts_at": "2027-01-11T09:00:00+03:00",
    "ends_at": "2027-01-11T09:20:00+03:00",
    "room": "214",
    "service_codes": ["B01.047.001"],
    "kind": "first_visit",
    "withdrawn": True,
}


async def test_corrections_of_the_clinic_and_an_answer_go_to_records(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    correction_id = uuid4()
    rpc.reply(LIST_ORGANIZATION_CORRECTIONS, CorrectionsPage(items=()))
    rpc.reply(
        ANSWER_CORRECTION_FOR_ORGANIZATION,
        CorrectionAnswered(correction_id=correction_id, status=CorrectionStatus.REJECTED),
    )

    listed = await client.get(f"{BASE}/corrections?status=overdue", headers=BEARER)
    answered = await client.post(
        f"{BASE}/corrections/{correction_id}/answer",
        json={"accepted": False, "reason": "Дата верна"},
        headers=BEARER,
    )
    no_reason = await client.post(
        f"{BASE}/corrections/{correction_id}/answer", json={"accepted": False}, headers=BEARER
    )

    assert listed.status_code == 200, listed.text
    assert answered.json()["status"] == "rejected"
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "validation_failed")
    [query] = rpc.sent(LIST_ORGANIZATION_CORRECTIONS)
    assert (query.organization_id, query.status, query.context.actor_id) == (
        ORGANIZATION,
        OperatorFilter.OVERDUE,
        PRINCIPAL.account_id,
    )
    [sent] = rpc.sent(ANSWER_CORRECTION_FOR_ORGANIZATION)
    assert (sent.organization_id, sent.correction_id, sent.reason) == (
        ORGANIZATION,
        correction_id,
        "Дата верна",
    )
    assert sent.context.patient_id is None


async def test_a_review_answer_and_slots_go_to_feedback_and_scheduling(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    review_id = uuid4()
    rpc.reply(
        ANSWER_REVIEW_FOR_ORGANIZATION,
        AnswerAccepted(
            review_id=review_id,
            outcome=AnswerOutcome.ADDED,
            answered_at=datetime(2026, 12, 1, tzinfo=UTC),
        ),
    )
    rpc.reply(
        PUBLISH_SCHEDULE_FOR_ORGANIZATION,
        ScheduleAccepted(message_id=uuid4(), changed=1, unchanged=0),
    )

    answered = await client.post(
        f"{BASE}/reviews/{review_id}/answer", json={"text": "Спасибо!"}, headers=BEARER
    )
    slots = await client.post(f"{BASE}/slots", json={"slots": [SLOT]}, headers=BEARER)
    extra = await client.post(
        f"{BASE}/slots", json={"slots": [{**SLOT, "unknown": 1}]}, headers=BEARER
    )

    assert answered.json()["outcome"] == "added"
    assert slots.json()["changed"] == 1
    assert extra.status_code == 422
    [review] = rpc.sent(ANSWER_REVIEW_FOR_ORGANIZATION)
    assert (review.organization_id, review.review_id, review.text) == (
        ORGANIZATION,
        review_id,
        "Спасибо!",
    )
    [schedule] = rpc.sent(PUBLISH_SCHEDULE_FOR_ORGANIZATION)
    assert schedule.organization_id == ORGANIZATION
    assert schedule.slots[0].withdrawn


async def test_staff_list_and_journal_come_from_identity(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(
        LIST_ORGANIZATION_STAFF,
        OrganizationStaffView(
            organization_id=ORGANIZATION,
            organization_name="ГП № 7",
            items=(
                StaffAuthorityView(
                    staff_id=uuid4(),
                    staff_name="Морозова Т. Н.",
                    power_of_attorney_number="ДОВ-1",
                    scopes=(OrganizationAction.SEE_FIGURES,),
                    valid_from=date(2026, 1, 1),
                    valid_until=date(2026, 12, 31),
                    revoked=False,
                ),
            ),
        ),
    )
    rpc.reply(
        LIST_ORGANIZATION_JOURNAL,
        OrganizationJournalView(
            organization_id=ORGANIZATION,
            items=(
                OrganizationJournalEntry(
                    at=datetime(2026, 12, 1, tzinfo=UTC),
                    actor_id=PRINCIPAL.account_id,
                    actor_name="Морозова Т. Н.",
                    action=OrganizationAction.ANSWER_CORRECTIONS,
                    allowed=True,
                ),
            ),
        ),
    )

    staff = await client.get(f"{BASE}/staff", headers=BEARER)
    journal = await client.get(f"{BASE}/journal?limit=5", headers=BEARER)

    assert staff.json()["items"][0]["power_of_attorney_number"] == "ДОВ-1"
    assert journal.json()["items"][0]["actor_name"] == "Морозова Т. Н."
    assert rpc.sent(LIST_ORGANIZATION_JOURNAL)[0].limit == 5


async def test_identitys_refusal_is_403_not_organization_staff(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    refusal = ServiceError(ErrorCode.NOT_ORGANIZATION_STAFF, "Вы не уполномочены.")
    rpc.fail(LIST_ORGANIZATION_CORRECTIONS, refusal)

    refused = await client.get(f"{BASE}/corrections", headers=BEARER)
    anonymous = await client.get(f"{BASE}/corrections")

    assert (refused.status_code, refused.json()["code"]) == (403, "not_organization_staff")
    assert refused.json()["detail"] == "Вы не уполномочены."
    assert anonymous.status_code == 401


async def test_an_operator_grants_and_revokes_a_power_of_attorney_through_identity(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    view = StaffAuthorityView(
        staff_id=uuid4(),
        staff_name="Петров С. И.",
        power_of_attorney_number="ДОВ-2",
        scopes=(OrganizationAction.MANAGE_SCHEDULES,),
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        revoked=False,
    )
    rpc.reply(GRANT_STAFF_AUTHORITY, view)
    rpc.reply(REVOKE_STAFF_AUTHORITY, view.model_copy(update={"revoked": True}))
    body = {
        "staff_snils": "12345678964",
        "number": "ДОВ-2",
        "scopes": ["manage_schedules"],
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    }

    granted = await client.post(f"{BASE}/staff", json=body, headers=BEARER)
    backwards = await client.post(
        f"{BASE}/staff", json={**body, "valid_until": "2025-12-31"}, headers=BEARER
    )
    revoked = await client.delete(f"{BASE}/staff/ДОВ-2", headers=BEARER)

    assert granted.status_code == 201, granted.text
    assert (backwards.status_code, backwards.json()["code"]) == (422, "validation_failed")
    assert revoked.json()["revoked"] is True
    [sent] = rpc.sent(GRANT_STAFF_AUTHORITY)
    assert (sent.organization_id, sent.staff_snils, sent.number) == (
        ORGANIZATION,
        "12345678964",
        "ДОВ-2",
    )
    assert rpc.sent(REVOKE_STAFF_AUTHORITY)[0].number == "ДОВ-2"
