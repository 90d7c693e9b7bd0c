"""Edge routes of the EMK's uploaded files, served by the records service."""

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Form, Response
from fastapi import UploadFile as UploadedForm

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records import files
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import PrincipalDep, RecordsDep, patient_context

router = APIRouter(tags=["emk"])


@router.post(
    "/patients/{patient_id}/emk/files",
    status_code=201,
    response_model=files.FileView,
    summary="Загрузить файл в медкарту: PDF, JPEG или PNG до 10 МБ",
)
async def upload_file(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    file: UploadedForm,
    title: Annotated[str, Form(min_length=1, max_length=200, description="Название")],
    date: Annotated[IsoDate, Form(description="Дата, к которой относится файл (ГГГГ-ММ-ДД)")],
    kind: Annotated[files.FileKind, Form(description="Вид файла")],
) -> files.FileView:
    context = patient_context(principal, patient_id)
    content = await file.read(files.MAX_FILE_BYTES + 1)
    if len(content) > files.MAX_FILE_BYTES:
        raise ServiceError(ErrorCode.FILE_TOO_LARGE)
    if not content:
        raise ServiceError(ErrorCode.UNSUPPORTED_FILE_TYPE, "Файл пуст.")
    command = files.UploadFile(
        context=context,
        title=title,
        date=date,
        kind=kind,
        filename=(file.filename or "file")[-255:],
        content=content,
    )
    return await records.call(files.UPLOAD_FILE, command)


@router.get(
    "/patients/{patient_id}/emk/files",
    response_model=files.FilesPage,
    summary="Файлы медкарты: список, занятое место и квота",
)
async def list_files(
    patient_id: str, principal: PrincipalDep, records: RecordsDep
) -> files.FilesPage:
    query = files.ListFiles(context=patient_context(principal, patient_id))
    return await records.call(files.LIST_FILES, query)


@router.get(
    "/patients/{patient_id}/emk/files/{file_id}",
    response_class=Response,
    responses={200: {"content": {t.value: {} for t in files.FileMediaType}}},
    summary="Скачать файл медкарты",
)
async def get_file(
    patient_id: str, file_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> Response:
    query = files.GetFile(context=patient_context(principal, patient_id), file_id=file_id)
    found = await records.call(files.GET_FILE, query)
    return Response(
        found.content,
        media_type=found.file.media_type.value,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.file.filename)}"
        },
    )


@router.delete(
    "/patients/{patient_id}/emk/files/{file_id}",
    response_model=files.FileView,
    summary="Удалить файл из медкарты",
)
async def delete_file(
    patient_id: str, file_id: UUID, principal: PrincipalDep, records: RecordsDep
) -> files.FileView:
    command = files.DeleteFile(context=patient_context(principal, patient_id), file_id=file_id)
    return await records.call(files.DELETE_FILE, command)
