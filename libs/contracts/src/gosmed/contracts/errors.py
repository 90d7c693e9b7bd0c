"""Stable machine error codes with Russian human messages, shared by the broker and the edge."""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from gosmed.contracts.base import Contract


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "validation_failed"
    MESSAGE_TOO_LARGE = "message_too_large"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    CONFLICT = "conflict"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    TIMEOUT = "timeout"
    INTERNAL = "internal_error"
    CLINIC_UNIDENTIFIED = "clinic_unidentified"
    CLINIC_UNKNOWN = "clinic_unknown"
    ORGANIZATION_MISMATCH = "organization_mismatch"
    CLINIC_QUEUE_FORBIDDEN = "clinic_queue_forbidden"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    FILE_TOO_LARGE = "file_too_large"
    QUOTA_EXCEEDED = "quota_exceeded"
    NOT_ORGANIZATION_STAFF = "not_organization_staff"
    SLOT_TAKEN = "slot_taken"
    SLOT_IN_PAST = "slot_in_past"
    ONE_APPOINTMENT_A_DAY = "one_appointment_a_day"
    APPOINTMENT_STARTED = "appointment_started"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    FACTOR_NOT_ALLOWED = "factor_not_allowed"
    NO_SECOND_FACTOR = "no_second_factor"
    NO_LAB_VALUES = "no_lab_values"


CLINIC_DOOR_CODES = frozenset(
    {
        ErrorCode.CLINIC_UNIDENTIFIED,
        ErrorCode.CLINIC_UNKNOWN,
        ErrorCode.ORGANIZATION_MISMATCH,
        ErrorCode.CLINIC_QUEUE_FORBIDDEN,
    }
)
"""Refusals of the clinic door: answered to a clinic's own queue and in dead letters, never to
the edge."""


DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_FAILED: "Данные запроса не прошли проверку.",
    ErrorCode.MESSAGE_TOO_LARGE: "Сообщение больше, чем принимает очередь.",
    ErrorCode.NOT_FOUND: "Запрошенный объект не найден.",
    ErrorCode.FORBIDDEN: "Недостаточно прав для этого действия.",
    ErrorCode.UNAUTHENTICATED: "Требуется вход в систему.",
    ErrorCode.CONFLICT: "Действие противоречит текущему состоянию данных.",
    ErrorCode.GONE: "Данные больше недоступны: срок их хранения истёк.",
    ErrorCode.RATE_LIMITED: "Слишком много запросов, повторите позже.",
    ErrorCode.SERVICE_UNAVAILABLE: "Сервис временно недоступен, повторите позже.",
    ErrorCode.TIMEOUT: "Сервис не ответил вовремя, повторите позже.",
    ErrorCode.INTERNAL: "Внутренняя ошибка сервиса.",
    ErrorCode.CLINIC_UNIDENTIFIED: "Сообщение клиники без свойства user_id: отправитель не "
    "определён.",
    ErrorCode.CLINIC_UNKNOWN: "Отправитель сообщения не является пользователем клиники.",
    ErrorCode.ORGANIZATION_MISMATCH: "Организация в сообщении не совпадает с организацией "
    "отправителя.",
    ErrorCode.CLINIC_QUEUE_FORBIDDEN: "Очередь для ответа не принадлежит клинике-отправителю.",
    ErrorCode.UNSUPPORTED_FILE_TYPE: "Принимаются только файлы PDF, JPEG и PNG.",
    ErrorCode.QUOTA_EXCEEDED: "Место для файлов медкарты исчерпано: удалите ненужные файлы.",
    ErrorCode.NOT_ORGANIZATION_STAFF: "Нет доверенности организации на это действие.",
    ErrorCode.FILE_TOO_LARGE: "Файл слишком большой.",
    ErrorCode.SLOT_TAKEN: "Это время уже заняли: выберите другое.",
    ErrorCode.SLOT_IN_PAST: "Это время уже прошло: выберите другое.",
    ErrorCode.ONE_APPOINTMENT_A_DAY: "На этот день у пациента уже есть запись к этому врачу.",
    ErrorCode.APPOINTMENT_STARTED: "Приём уже начался: отменить запись нельзя.",
    ErrorCode.APPOINTMENT_CANCELLED: "Запись уже отменена.",
    ErrorCode.FACTOR_NOT_ALLOWED: "Этот способ подтверждения нельзя использовать для этого "
    "входа: выберите другой.",
    ErrorCode.NO_SECOND_FACTOR: "Для входа по коду из SMS нужен второй способ подтверждения: "
    "приложение-аутентификатор или электронная почта. Войдите по паролю.",
    ErrorCode.NO_LAB_VALUES: "За выбранный период нет результатов анализов по этим показателям.",
}


class ErrorDetail(Contract):
    """One concrete problem, e.g. one invalid field."""

    field: str | None = Field(default=None, description="Dotted path of the field, if any.")
    code: str = Field(description="Stable machine code of this problem.")
    message: str = Field(description="Russian human-readable explanation.")


class ErrorReply(Contract):
    """What a service answers instead of the expected reply when a request fails."""

    code: ErrorCode
    message: str = Field(description="Russian human-readable explanation.")
    details: tuple[ErrorDetail, ...] = ()
    retry_after: int | None = Field(
        default=None, ge=1, description="Rate limited: seconds until a retry may succeed."
    )


class ServiceError(Exception):
    """A failure with a stable code; services raise it, the edge turns it into problem+json."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: tuple[ErrorDetail, ...] = (),
        *,
        retry_after: int | None = None,
    ) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES[code]
        self.details = details
        self.retry_after = retry_after
        super().__init__(f"{code.value}: {self.message}")

    def to_reply(self) -> ErrorReply:
        return ErrorReply(
            code=self.code,
            message=self.message,
            details=self.details,
            retry_after=self.retry_after,
        )

    @classmethod
    def from_reply(cls, reply: ErrorReply) -> "ServiceError":
        return cls(reply.code, reply.message, reply.details, retry_after=reply.retry_after)


_RUSSIAN_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "обязательное поле не заполнено",
    "extra_forbidden": "неизвестное поле",
    "json_invalid": "тело сообщения не является корректным JSON",
    "model_type": "ожидается объект",
    "model_attributes_type": "ожидается объект",
    "dict_type": "ожидается объект",
    "list_type": "ожидается список",
    "string_type": "ожидается строка",
    "int_type": "ожидается целое число",
    "int_parsing": "ожидается целое число",
    "float_parsing": "ожидается число",
    "bool_parsing": "ожидается логическое значение",
    "uuid_parsing": "некорректный идентификатор (UUID)",
    "uuid_type": "некорректный идентификатор (UUID)",
    "date_parsing": "некорректная дата, ожидается ГГГГ-ММ-ДД",
    "date_from_datetime_parsing": "некорректная дата, ожидается ГГГГ-ММ-ДД",
    "datetime_parsing": "некорректные дата и время, ожидается ISO 8601",
    "datetime_from_date_parsing": "некорректные дата и время, ожидается ISO 8601",
    "timezone_aware": "время должно содержать часовой пояс",
    "enum": "недопустимое значение",
    "literal_error": "недопустимое значение",
    "string_too_short": "строка слишком короткая",
    "string_too_long": "строка слишком длинная",
    "string_pattern_mismatch": "строка не соответствует формату",
    "too_short": "слишком мало элементов",
    "too_long": "слишком много элементов",
    "greater_than": "значение слишком мало",
    "greater_than_equal": "значение слишком мало",
    "less_than": "значение слишком велико",
    "less_than_equal": "значение слишком велико",
    "value_error": "недопустимое значение",
}


def validation_details(
    errors: Iterable[Mapping[str, Any]], *, skip_loc: int = 0
) -> tuple[ErrorDetail, ...]:
    """Pydantic errors as `ErrorDetail`s with Russian messages; the code stays pydantic's type."""
    details = []
    for err in errors:
        kind = str(err["type"])
        message = str(err["msg"])
        if kind in _RUSSIAN_VALIDATION_MESSAGES:
            message = _RUSSIAN_VALIDATION_MESSAGES[kind]
            if kind == "value_error" and err.get("ctx", {}).get("error"):
                message = str(err["ctx"]["error"])
        path = ".".join(str(p) for p in tuple(err["loc"])[skip_loc:])
        details.append(ErrorDetail(field=path or None, code=kind, message=message))
    return tuple(details)


def summarize(details: Iterable[ErrorDetail]) -> str:
    return "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details)
