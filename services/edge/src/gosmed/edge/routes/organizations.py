"""Edge routes of organizations' staff: what a clinic's broker integration does through the
clinics' door (answer corrections, answer reviews, publish and withdraw slots), done by a staff
member on the organization's power of attorney. Identity decides every action and journals it
in the organization's journal; the same use cases as the door's serve it (records, feedback,
scheduling). Acting for another organization is 403 `not_organization_staff` (organizations
are public in the registry, so the refusal reveals nothing)."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts.feedback.reviews import (
    ANSWER_REVIEW_FOR_ORGANIZATION,
    MAX_ANSWER,
    AnswerAccepted,
    AnswerReviewForOrganization,
)
from gosmed.contracts.identity.organizations import (
    GRANT_STAFF_AUTHORITY,
    LIST_ORGANIZATION_JOURNAL,
    LIST_ORGANIZATION_STAFF,
    MAX_JOURNAL_PAGE,
    REVOKE_STAFF_AUTHORITY,
    GrantStaffAuthority,
    ListOrganizationJournal,
    ListOrganizationStaff,
    OrganizationAction,
    OrganizationJournalView,
    OrganizationStaffView,
    RevokeStaffAuthority,
    StaffAuthorityView,
)
from gosmed.contracts.records.corrections import (
    ANSWER_CORRECTION_FOR_ORGANIZATION,
    GET_ORGANIZATION_CORRECTION_STATS,
    LIST_ORGANIZATION_CORRECTIONS,
    MAX_OPERATOR_PAGE,
    MAX_REASON,
    AnswerCorrectionForOrganization,
    CorrectionAnswered,
    CorrectionsPage,
    CorrectionStats,
    GetCorrectionStats,
    ListOrganizationCorrections,
    OperatorFilter,
)
from gosmed.contracts.scheduling.schedules import (
    MAX_SLOTS,
    PUBLISH_SCHEDULE_FOR_ORGANIZATION,
    ClinicSlot,
    PublishScheduleForOrganization,
    ScheduleAccepted,
)
from gosmed.contracts.types import Snils
from gosmed.edge.deps import (
    FeedbackDep,
    IdentityDep,
    PrincipalDep,
    RecordsDep,
    SchedulingDep,
    actor_context,
)
from gosmed.edge.problems import invalid_request

router = APIRouter(prefix="/organizations/{organization_id}", tags=["organizations"])


class CorrectionAnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="Accepting: the clinic's system sends the new version.")
    reason: str | None = Field(
        default=None, max_length=MAX_REASON, description="Required when rejecting."
    )


class ReviewAnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_ANSWER)


class AuthorityBody(BaseModel):
    """The organization's power of attorney for a staff account; `valid_until` not before
    `valid_from`."""

    model_config = ConfigDict(extra="forbid")

    staff_snils: Snils
    number: str = Field(min_length=1, max_length=64)
    scopes: frozenset[OrganizationAction] = Field(min_length=1)
    valid_from: date
    valid_until: date


class SlotBody(ClinicSlot):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlotsBody(BaseModel):
    """Slots to publish; a slot with `withdrawn: true` (and a higher `version`) is taken back."""

    model_config = ConfigDict(extra="forbid")

    slots: tuple[SlotBody, ...] = Field(min_length=1, max_length=MAX_SLOTS)


@router.get(
    "/corrections",
    response_model=CorrectionsPage,
    summary="Сотрудникам клиники: открытые (или просроченные) заявления об исправлении",
)
async def organization_corrections(
    organization_id: UUID,
    principal: PrincipalDep,
    records: RecordsDep,
    correction_status: Annotated[OperatorFilter, Query(alias="status")] = OperatorFilter.OPEN,
    limit: Annotated[int, Query(ge=1, le=MAX_OPERATOR_PAGE)] = 100,
) -> CorrectionsPage:
    request = ListOrganizationCorrections(
        context=actor_context(principal),
        organization_id=organization_id,
        status=correction_status,
        limit=limit,
    )
    return await records.call(LIST_ORGANIZATION_CORRECTIONS, request)


@router.post(
    "/corrections/{correction_id}/answer",
    response_model=CorrectionAnswered,
    summary="Сотрудникам клиники: принять заявление об исправлении или отказать с причиной",
)
async def answer_correction(
    organization_id: UUID,
    correction_id: UUID,
    body: CorrectionAnswerBody,
    principal: PrincipalDep,
    records: RecordsDep,
) -> CorrectionAnswered:
    try:
        request = AnswerCorrectionForOrganization(
            context=actor_context(principal),
            organization_id=organization_id,
            correction_id=correction_id,
            accepted=body.accepted,
            reason=body.reason,
        )
    except ValidationError as error:
        raise invalid_request(error) from None
    return await records.call(ANSWER_CORRECTION_FOR_ORGANIZATION, request)


@router.get(
    "/corrections-stats",
    response_model=CorrectionStats,
    summary="Сотрудникам клиники: сводка заявлений об исправлении и сроков ответа",
)
async def organization_correction_stats(
    organization_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> CorrectionStats:
    request = GetCorrectionStats(context=actor_context(principal), organization_id=organization_id)
    return await records.call(GET_ORGANIZATION_CORRECTION_STATS, request)


@router.post(
    "/reviews/{review_id}/answer",
    response_model=AnswerAccepted,
    summary="Сотрудникам клиники: ответить на опубликованный отзыв о клинике",
)
async def answer_review(
    organization_id: UUID,
    review_id: UUID,
    body: ReviewAnswerBody,
    principal: PrincipalDep,
    feedback: FeedbackDep,
) -> AnswerAccepted:
    request = AnswerReviewForOrganization(
        context=actor_context(principal),
        organization_id=organization_id,
        review_id=review_id,
        text=body.text,
    )
    return await feedback.call(ANSWER_REVIEW_FOR_ORGANIZATION, request)


@router.post(
    "/slots",
    response_model=ScheduleAccepted,
    summary="Сотрудникам клиники: опубликовать слоты расписания или снять их (withdrawn)",
)
async def publish_slots(
    organization_id: UUID, body: SlotsBody, principal: PrincipalDep, scheduling: SchedulingDep
) -> ScheduleAccepted:
    request = PublishScheduleForOrganization(
        context=actor_context(principal),
        organization_id=organization_id,
        slots=tuple(ClinicSlot.model_validate(s.model_dump()) for s in body.slots),
    )
    return await scheduling.call(PUBLISH_SCHEDULE_FOR_ORGANIZATION, request)


@router.get(
    "/staff",
    response_model=OrganizationStaffView,
    summary="Сотрудники, уполномоченные доверенностями организации, и их полномочия",
)
async def organization_staff(
    organization_id: UUID, principal: PrincipalDep, identity: IdentityDep
) -> OrganizationStaffView:
    request = ListOrganizationStaff(
        context=actor_context(principal), organization_id=organization_id
    )
    return await identity.call(LIST_ORGANIZATION_STAFF, request)


@router.post(
    "/staff",
    response_model=StaffAuthorityView,
    status_code=status.HTTP_201_CREATED,
    summary="Операторам: зарегистрировать доверенность организации на сотрудника",
)
async def grant_staff_authority(
    organization_id: UUID, body: AuthorityBody, principal: PrincipalDep, identity: IdentityDep
) -> StaffAuthorityView:
    try:
        request = GrantStaffAuthority(
            context=actor_context(principal),
            organization_id=organization_id,
            **body.model_dump(),
        )
    except ValidationError as error:
        raise invalid_request(error) from None
    return await identity.call(GRANT_STAFF_AUTHORITY, request)


@router.delete(
    "/staff/{number}",
    response_model=StaffAuthorityView,
    summary="Операторам: доверенность организации отозвана (сотрудник больше не действует)",
)
async def revoke_staff_authority(
    organization_id: UUID,
    number: Annotated[str, Path(min_length=1, max_length=64)],
    principal: PrincipalDep,
    identity: IdentityDep,
) -> StaffAuthorityView:
    request = RevokeStaffAuthority(
        context=actor_context(principal), organization_id=organization_id, number=number
    )
    return await identity.call(REVOKE_STAFF_AUTHORITY, request)


@router.get(
    "/journal",
    response_model=OrganizationJournalView,
    summary="Журнал действий от имени организации: кто, что, на каком основании (и отказы)",
)
async def organization_journal(
    organization_id: UUID,
    principal: PrincipalDep,
    identity: IdentityDep,
    limit: Annotated[int, Query(ge=1, le=MAX_JOURNAL_PAGE)] = 100,
) -> OrganizationJournalView:
    request = ListOrganizationJournal(
        context=actor_context(principal), organization_id=organization_id, limit=limit
    )
    return await identity.call(LIST_ORGANIZATION_JOURNAL, request)
