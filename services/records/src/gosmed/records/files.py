"""Use cases of the EMK's uploaded files: upload, list, download, delete; reads by others are
journaled with their legal basis."""

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Action
from gosmed.contracts.records.files import (
    DeleteFile,
    FileContent,
    FilesPage,
    FileView,
    GetFile,
    ListFiles,
    UploadFile,
)
from gosmed.records.files_domain import Quota, media_type_of
from gosmed.records.files_repository import FilesRepository
from gosmed.records.service import Reading

FILE_NOT_FOUND = "Файл не найден."


class Files:
    """A patient's own files, decided by identity like every read of their records."""

    def __init__(
        self,
        files: FilesRepository,
        reading: Reading,
        quota: Quota,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.files = files
        self.reading = reading
        self.quota = quota
        self.clock = clock

    async def upload(self, command: UploadFile) -> FileView:
        decision = await self.reading.authorize(command.context, Action.MANAGE_FILES)
        patient_id = decision.allowed_patient.account_id
        media_type = media_type_of(command.content)
        count, used = await self.files.usage(patient_id)
        self.quota.check(count, used, len(command.content))
        view = FileView(
            id=uuid4(),
            title=command.title,
            date=command.date,
            kind=command.kind,
            filename=command.filename,
            media_type=media_type,
            size=len(command.content),
            uploaded_at=self.clock(),
        )
        await self.files.add(patient_id, view, command.content)
        return view

    async def list(self, query: ListFiles) -> FilesPage:
        decision = await self.reading.authorize(query.context, Action.READ_FILES)
        found = await self.files.list(decision.allowed_patient.account_id)
        await self.reading.journal_read(decision, "files", [f.id for f in found])
        return FilesPage(
            items=tuple(found),
            used_bytes=sum(f.size for f in found),
            max_bytes=self.quota.max_bytes,
            max_files=self.quota.max_files,
        )

    async def get(self, query: GetFile) -> FileContent:
        decision = await self.reading.authorize(query.context, Action.READ_FILES)
        found = await self.files.get(decision.allowed_patient.account_id, query.file_id)
        if found is None:
            raise ServiceError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
        view, content = found
        await self.reading.journal_read(decision, "file", [view.id])
        return FileContent(file=view, content=content)

    async def delete(self, command: DeleteFile) -> FileView:
        decision = await self.reading.authorize(command.context, Action.MANAGE_FILES)
        deleted = await self.files.delete(decision.allowed_patient.account_id, command.file_id)
        if deleted is None:
            raise ServiceError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
        return deleted
