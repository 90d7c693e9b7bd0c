"""Edge routes of corrections (served by records): the patient disputes a record
(«Редактировать»), follows and withdraws the request."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts.access import AccessContext
from gosmed.contracts.records.corrections import (
    FILE_CORRECTION,
    GET_CORRECTION,
    GET_CORRECTION_STATS,
    LIST_CORRECTIONS,
    LIST_OPERATOR_CORRECTIONS,
    MAX_COMMENT,
    MAX_OPERATOR_PAGE,
    WITHDRAW_CORRECTION,
    CorrectionChanges,
    CorrectionsPage,
    CorrectionStats,
    CorrectionView,
    FileCorrection,
    GetCorrection,
    GetCorrectionStats,
    ListCorrections,
    ListOperatorCorrections,
    OperatorFilter,
    WithdrawCorrection,
)
from gosmed.edge.deps import PrincipalDep, RecordsDep, patient_context
from gosmed.edge.problems import invalid_request

router = APIRouter(tags=["records"])


class ChangesBody(CorrectionChanges):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorrectionBody(BaseModel):
    """At least one change that differs from the record, or a comment (else 422)."""

    model_config = ConfigDict(extra="forbid")

    changes: ChangesBody = Field(
        default_factory=ChangesBody, description="The fields to correct; leave out the rest."
    )
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


@router.post(
    "/patients/{patient_id}/services/{record_id}/corrections",
    response_model=CorrectionView,
    status_code=status.HTTP_201_CREATED,
    summary="«Редактировать»: заявление об исправлении записи; клиника отвечает за 5 рабочих дней",
)
async def file_correction(
    patient_id: str,
    record_id: UUID,
    body: CorrectionBody,
    principal: PrincipalDep,
    records: RecordsDep,
) -> CorrectionView:
    try:
        request = FileCorrection(
            context=patient_context(principal, patient_id),
            record_id=record_id,
            changes=CorrectionChanges.model_validate(body.changes.model_dump()),
            comment=body.comment,
        )
    except ValidationError as error:
        raise invalid_request(error) from None
    return await records.call(FILE_CORRECTION, request)


@router.get(
    "/patients/{patient_id}/corrections",
    response_model=CorrectionsPage,
    summary="Заявления об исправлении записей: новые сначала, со сроком ответа",
)
async def list_corrections(
    patient_id: str, principal: PrincipalDep, records: RecordsDep
) -> CorrectionsPage:
    request = ListCorrections(context=patient_context(principal, patient_id))
    return await records.call(LIST_CORRECTIONS, request)


@router.get(
    "/patients/{patient_id}/corrections/{correction_id}",
    response_model=CorrectionView,
    summary="Одно заявление об исправлении: статус, срок, ответ клиники",
)
async def get_correction(
    patient_id: str, correction_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> CorrectionView:
    request = GetCorrection(
        context=patient_context(principal, patient_id), correction_id=correction_id
    )
    return await records.call(GET_CORRECTION, request)


@router.post(
    "/patients/{patient_id}/corrections/{correction_id}/withdraw",
    response_model=CorrectionView,
    summary="Отозвать заявление, пока клиника его не рассмотрела",
)
async def withdraw_correction(
    patient_id: str, correction_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> CorrectionView:
    request = WithdrawCorrection(
        context=patient_context(principal, patient_id), correction_id=correction_id
    )
    return await records.call(WITHDRAW_CORRECTION, request)


def _operator_context(principal: PrincipalDep) -> AccessContext:
    return AccessContext(
        actor_id=principal.account_id, session_id=principal.session_id, roles=principal.roles
    )


@router.get(
    "/operator/corrections",
    response_model=CorrectionsPage,
    summary="Операторам: заявления об исправлении без ответа в срок (или все открытые)",
)
async def operator_corrections(
    principal: PrincipalDep,
    records: RecordsDep,
    correction_status: Annotated[OperatorFilter, Query(alias="status")] = OperatorFilter.OVERDUE,
    organization_id: Annotated[UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_OPERATOR_PAGE)] = 100,
) -> CorrectionsPage:
    request = ListOperatorCorrections(
        context=_operator_context(principal),
        status=correction_status,
        organization_id=organization_id,
        limit=limit,
    )
    return await records.call(LIST_OPERATOR_CORRECTIONS, request)


@router.get(
    "/operator/organizations/{organization_id}/corrections-stats",
    response_model=CorrectionStats,
    summary="Операторам: заявления об исправлении по клинике, исходы, медиана срока ответа",
)
async def correction_stats(
    organization_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> CorrectionStats:
    request = GetCorrectionStats(
        context=_operator_context(principal), organization_id=organization_id
    )
    return await records.call(GET_CORRECTION_STATS, request)
