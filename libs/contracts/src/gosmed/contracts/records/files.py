"""The EMK's uploaded files: a patient's own PDFs and pictures, kept sealed by records."""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The largest file a patient uploads (10 MiB)."""


class FileKind(StrEnum):
    """What an uploaded file is."""

    LAB_RESULT = "lab_result"
    DISCHARGE_SUMMARY = "discharge_summary"
    IMAGE = "image"
    OTHER = "other"


class FileMediaType(StrEnum):
    """The accepted types, recognised by the file's bytes, never by its name."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


class UploadFile(Message):
    """Keep a file in the patient's EMK (base64 in JSON)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    context: AccessContext
    title: str = Field(min_length=1, max_length=200)
    date: dt.date = Field(description="The day the file refers to.")
    kind: FileKind
    filename: str = Field(min_length=1, max_length=255)
    content: bytes = Field(min_length=1, max_length=MAX_FILE_BYTES)


class FileView(Contract):
    """An uploaded file without its bytes."""

    id: UUID
    title: str
    date: dt.date
    kind: FileKind
    filename: str
    media_type: FileMediaType
    size: int = Field(ge=1, description="Bytes.")
    uploaded_at: AwareDatetime


class ListFiles(Message):
    """The patient's uploaded files, newest day first."""

    context: AccessContext


class FilesPage(Contract):
    items: tuple[FileView, ...]
    used_bytes: int = Field(ge=0, description="What the files take of the patient's quota.")
    max_bytes: int = Field(ge=0, description="The patient's quota in bytes.")
    max_files: int = Field(ge=0, description="How many files the patient may keep.")


class GetFile(Message):
    """One uploaded file with its bytes."""

    context: AccessContext
    file_id: UUID


class FileContent(Contract):
    """A file and its bytes (base64 in JSON)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    file: FileView
    content: bytes


class DeleteFile(Message):
    """Remove an uploaded file for good."""

    context: AccessContext
    file_id: UUID


UPLOAD_FILE = Rpc(Service.RECORDS, "upload-file", UploadFile, FileView)
LIST_FILES = Rpc(Service.RECORDS, "list-files", ListFiles, FilesPage)
GET_FILE = Rpc(Service.RECORDS, "get-file", GetFile, FileContent)
DELETE_FILE = Rpc(Service.RECORDS, "delete-file", DeleteFile, FileView)
