"""Help when data is missing: a citizen's support request (logged in or not), the operators'
queue and answer, and where to get help in person (edge -> identity RPCs)."""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Inn, OmsPolicy, Snils

HOTLINE = "8-800-555-35-35"
MAX_TEXT = 4000
MAX_ANSWER = 3500
MAX_OPERATOR_PAGE = 100


class SupportTopic(StrEnum):
    NO_SERVICES = "no_services"
    WRONG_DATA = "wrong_data"
    NO_ACCESS = "no_access"
    OTHER = "other"


TOPIC_TITLES: dict[SupportTopic, str] = {
    SupportTopic.NO_SERVICES: "Нет сведений об оказанных услугах",
    SupportTopic.WRONG_DATA: "Ошибка в данных",
    SupportTopic.NO_ACCESS: "Нет доступа к сведениям",
    SupportTopic.OTHER: "Другой вопрос",
}


class SupportRequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class SupportRequestForm(Contract):
    """What the citizen writes: who they are (exactly one of SNILS and INN, and the OMS
    policy), the topic and the text."""

    full_name: str = Field(min_length=1, max_length=200, description="Фамилия, имя, отчество.")
    snils: Snils | None = Field(default=None, description="СНИЛС, либо ИНН (ровно одно из двух).")
    inn: Inn | None = Field(default=None, description="ИНН физического лица, либо СНИЛС.")
    oms_policy: OmsPolicy
    topic: SupportTopic
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="Суть обращения.")

    @model_validator(mode="after")
    def _snils_or_inn(self) -> "SupportRequestForm":
        if (self.snils is None) == (self.inn is None):
            raise PydanticCustomError("snils_or_inn", "укажите ровно одно: СНИЛС или ИНН")
        return self


class FileSupportRequest(Message):
    """File a support request: tied to the caller's account when logged in, else to the one
    account whose SNILS (or INN) and OMS policy match, if exactly one does."""

    form: SupportRequestForm
    account_id: UUID | None = Field(default=None, description="The caller, when logged in.")
    client_address: str = Field(max_length=64, description="For the rate limit of strangers.")


class SupportRequestFiled(Contract):
    """The same answer whether or not the request was tied to an account."""

    request_id: UUID
    number: str = Field(description="e.g. `SR-2026-000123`.")
    status: SupportRequestStatus
    created_at: AwareDatetime


class ListSupportRequests(Message):
    """Operators: the queue, oldest first."""

    context: AccessContext
    status: SupportRequestStatus = SupportRequestStatus.OPEN
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=MAX_OPERATOR_PAGE)


class SupportRequestView(Contract):
    request_id: UUID
    number: str
    status: SupportRequestStatus
    topic: SupportTopic
    topic_title: str
    full_name: str
    snils: str | None
    inn: str | None
    oms_policy: str
    text: str
    tied_to_account: bool = Field(
        description="False: the answer reaches nobody's inbox; answer by other means."
    )
    created_at: AwareDatetime
    answer: str | None = None
    answered_at: AwareDatetime | None = None


class SupportRequestsPage(Contract):
    items: tuple[SupportRequestView, ...]
    next_cursor: str | None = None


class AnswerSupportRequest(Message):
    """Operators: answer a request; the citizen tied to it gets it in the inbox and by e-mail."""

    context: AccessContext
    request_id: UUID
    text: str = Field(min_length=1, max_length=MAX_ANSWER)


class GetSupportContacts(Message):
    """The hotline and the МФЦ offices: of the caller's city when logged in, else of `city`
    (or all)."""

    account_id: UUID | None = None
    city: str | None = Field(default=None, max_length=100)


class MfcOffice(Contract):
    name: str
    city: str
    address: str
    hours: str
    phone: str


class SupportContacts(Contract):
    hotline: str = Field(description="Бесплатная горячая линия.")
    city: str | None = Field(description="The city the offices are of; None: all cities.")
    offices: tuple[MfcOffice, ...]


FILE_SUPPORT_REQUEST = Rpc(
    Service.IDENTITY, "file-support-request", FileSupportRequest, SupportRequestFiled
)
LIST_SUPPORT_REQUESTS = Rpc(
    Service.IDENTITY, "list-support-requests", ListSupportRequests, SupportRequestsPage
)
ANSWER_SUPPORT_REQUEST = Rpc(
    Service.IDENTITY, "answer-support-request", AnswerSupportRequest, SupportRequestView
)
GET_SUPPORT_CONTACTS = Rpc(
    Service.IDENTITY, "get-support-contacts", GetSupportContacts, SupportContacts
)
