"""Edge routes of corrections (served by records): the patient disputes a record
(«Редактировать»), follows and withdraws the request."""

from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts.errors import ErrorCode, ServiceError, summarize, validation_details
from gosmed.contracts.records.corrections import (
    FILE_CORRECTION,
    GET_CORRECTION,
    LIST_CORRECTIONS,
    MAX_COMMENT,
    WITHDRAW_CORRECTION,
    CorrectionChanges,
    CorrectionsPage,
    CorrectionView,
    FileCorrection,
    GetCorrection,
    ListCorrections,
    WithdrawCorrection,
)
from gosmed.edge.deps import PrincipalDep, RecordsDep, patient_context

router = APIRouter(tags=["records"])


class ChangesBody(CorrectionChanges):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorrectionBody(BaseModel):
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
        details = validation_details(error.errors(include_url=False))
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED, "Запрос не прошёл проверку: " + summarize(details)
        ) from None
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
