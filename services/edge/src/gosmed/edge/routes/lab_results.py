"""Edge routes of lab results (served by records): the list, one result with its analytes,
and its file as PDF or XML."""

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.records import lab
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import PrincipalDep, RecordsDep, patient_context
from gosmed.edge.problems import requested_period

router = APIRouter(tags=["records"])


@router.get(
    "/patients/{patient_id}/lab-results",
    response_model=lab.LabResultsPage,
    summary="Результаты анализов: дата, исследование, статус, организация; новые сначала",
)
async def list_lab_results(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    status: Annotated[lab.LabStatus | None, Query()] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="ГГГГ-ММ-ДД")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="ГГГГ-ММ-ДД")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> lab.LabResultsPage:
    request = lab.ListLabResults(
        context=patient_context(principal, patient_id),
        status=status,
        period=requested_period(date_from, date_to),
        cursor=cursor,
        limit=limit,
    )
    return await records.call(lab.LIST_LAB_RESULTS, request)


@router.get(
    "/patients/{patient_id}/lab-results/{result_id}",
    response_model=lab.LabResultDetail,
    summary="Результат анализа: показатели с референсными значениями и отметками",
)
async def get_lab_result(
    patient_id: str, result_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> lab.LabResultDetail:
    request = lab.GetLabResult(context=patient_context(principal, patient_id), result_id=result_id)
    return await records.call(lab.GET_LAB_RESULT, request)


@router.get(
    "/patients/{patient_id}/lab-results/{result_id}/file",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "application/xml": {}, "application/fhir+xml": {}}}
    },
    summary="Файл результата анализа: PDF или XML (лаборатории или HL7 FHIR DiagnosticReport)",
)
async def get_lab_result_file(
    patient_id: str,
    result_id: UUID,
    principal: PrincipalDep,
    records: RecordsDep,
    format: Annotated[lab.LabFileFormat, Query()] = lab.LabFileFormat.PDF,
) -> Response:
    request = lab.GetLabResultFile(
        context=patient_context(principal, patient_id), result_id=result_id, format=format
    )
    found = await records.call(lab.GET_LAB_RESULT_FILE, request)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.file_name)}"},
    )


@router.post(
    "/patients/{patient_id}/lab-results/{result_id}/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=lab.LabResultEmailed,
    summary="Отправить результат анализа (PDF или XML) на подтверждённую электронную почту",
)
async def email_lab_result(
    patient_id: str,
    result_id: UUID,
    principal: PrincipalDep,
    records: RecordsDep,
    format: Annotated[lab.LabFileFormat, Query()] = lab.LabFileFormat.PDF,
) -> lab.LabResultEmailed:
    request = lab.EmailLabResult(
        context=patient_context(principal, patient_id), result_id=result_id, format=format
    )
    return await records.call(lab.EMAIL_LAB_RESULT, request)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(
        default=None, max_length=lab.MAX_NOTE, description="The note; empty or null removes it."
    )


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code from the SMS.")


@router.delete(
    "/patients/{patient_id}/lab-results/{result_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=lab.LabChangePending,
    summary="Удалить результат из списка: шаг 1, код подтверждения по SMS",
)
async def delete_lab_result(
    patient_id: str, result_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> lab.LabChangePending:
    request = lab.RequestLabResultChange(
        context=patient_context(principal, patient_id),
        result_id=result_id,
        kind=lab.LabChangeKind.DELETE,
    )
    return await records.call(lab.REQUEST_LAB_RESULT_CHANGE, request)


@router.patch(
    "/patients/{patient_id}/lab-results/{result_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=lab.LabChangePending,
    summary="Изменить заметку к результату: шаг 1, код подтверждения по SMS",
)
async def change_lab_result_note(
    patient_id: str, result_id: UUID, body: NoteBody, principal: PrincipalDep, records: RecordsDep
) -> lab.LabChangePending:
    request = lab.RequestLabResultChange(
        context=patient_context(principal, patient_id),
        result_id=result_id,
        kind=lab.LabChangeKind.NOTE,
        note=body.note,
    )
    return await records.call(lab.REQUEST_LAB_RESULT_CHANGE, request)


@router.post(
    "/patients/{patient_id}/lab-results/{result_id}/confirmations/{confirmation_id}",
    response_model=lab.LabChangeDone,
    summary="Подтвердить удаление или заметку кодом из SMS: шаг 2",
)
async def confirm_lab_result_change(
    patient_id: str,
    result_id: UUID,
    confirmation_id: UUID,
    body: CodeBody,
    principal: PrincipalDep,
    records: RecordsDep,
) -> lab.LabChangeDone:
    request = lab.ConfirmLabResultChange(
        context=patient_context(principal, patient_id),
        result_id=result_id,
        confirmation_id=confirmation_id,
        code=body.code,
    )
    return await records.call(lab.CONFIRM_LAB_RESULT_CHANGE, request)
