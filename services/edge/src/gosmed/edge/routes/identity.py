"""Edge routes served by the identity service: login, sessions, profile, patients."""

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts import topology
from gosmed.contracts.identity import auth, consents, delegations, inbox
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.auth import SecondFactor
from gosmed.contracts.types import MobilePhone, Snils
from gosmed.edge.deps import (
    MESSAGE_FIELDS,
    ClientAddressDep,
    PrincipalDep,
    RpcDep,
    SettingsDep,
    call_service,
)

router = APIRouter(tags=["identity"])

_identity = partial(call_service, topology.Service.IDENTITY)


def without_message_fields(items: str) -> dict[str, Any]:
    """Leave the broker envelope out of a list reply and of each item in `items`."""
    return {"message_id": True, "occurred_at": True, items: {"__all__": MESSAGE_FIELDS}}


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: MobilePhone = Field(description="Mobile phone, e.g. +79161234567.")
    password: str = Field(min_length=1, max_length=256)


class SendCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: UUID
    factor: Literal[SecondFactor.SMS, SecondFactor.EMAIL]


class MfaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: UUID
    factor: SecondFactor
    code: str = Field(pattern=r"^\d{6}$", description="Six-digit code.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


@router.post(
    "/auth/login",
    response_model=auth.LoginChallenge,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Вход: телефон и пароль; ответ — попытка входа и доступные вторые факторы",
)
async def login(
    body: LoginRequest, rpc: RpcDep, settings: SettingsDep, address: ClientAddressDep
) -> auth.LoginChallenge:
    request = auth.StartLogin(phone=body.phone, password=body.password, client_address=address)
    return await _identity(rpc, settings, auth.START_LOGIN, request, auth.LoginChallenge)


@router.post(
    "/auth/mfa/code",
    response_model=auth.LoginCodeSent,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Отправить код входа по SMS или электронной почте",
)
async def send_code(
    body: SendCodeRequest, rpc: RpcDep, settings: SettingsDep, address: ClientAddressDep
) -> auth.LoginCodeSent:
    request = auth.SendLoginCode(
        attempt_id=body.attempt_id, factor=body.factor, client_address=address
    )
    return await _identity(rpc, settings, auth.SEND_LOGIN_CODE, request, auth.LoginCodeSent)


@router.post(
    "/auth/mfa",
    response_model=auth.SessionTokens,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Второй фактор: код из SMS, письма или приложения; ответ — токены сеанса",
)
async def mfa(
    body: MfaRequest,
    rpc: RpcDep,
    settings: SettingsDep,
    address: ClientAddressDep,
    user_agent: Annotated[str, Header()] = "",
) -> auth.SessionTokens:
    request = auth.VerifyLogin(
        attempt_id=body.attempt_id,
        factor=body.factor,
        code=body.code,
        device=user_agent[:200],
        client_address=address,
    )
    return await _identity(rpc, settings, auth.VERIFY_LOGIN, request, auth.SessionTokens)


@router.post(
    "/auth/refresh",
    response_model=auth.SessionTokens,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Обновить токены; повторное использование токена обновления завершает сеанс",
)
async def refresh(
    body: RefreshRequest, rpc: RpcDep, settings: SettingsDep, address: ClientAddressDep
) -> auth.SessionTokens:
    request = auth.RefreshSession(refresh_token=body.refresh_token, client_address=address)
    return await _identity(rpc, settings, auth.REFRESH_SESSION, request, auth.SessionTokens)


@router.post("/auth/logout", status_code=204, summary="Выйти: завершить текущий сеанс")
async def logout(principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep) -> Response:
    request = auth.EndSessions(account_id=principal.account_id, session_id=principal.session_id)
    await _identity(rpc, settings, auth.END_SESSIONS, request, auth.SessionsEnded)
    return Response(status_code=204)


@router.get(
    "/me",
    response_model=auth.Profile,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Моя учётная запись",
)
async def me(principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep) -> auth.Profile:
    request = auth.GetProfile(account_id=principal.account_id)
    return await _identity(rpc, settings, auth.GET_PROFILE, request, auth.Profile)


@router.get(
    "/me/sessions",
    response_model=auth.SessionsView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Мои активные сеансы: устройство и время",
)
async def sessions(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> auth.SessionsView:
    request = auth.ListSessions(
        account_id=principal.account_id, current_session_id=principal.session_id
    )
    return await _identity(rpc, settings, auth.LIST_SESSIONS, request, auth.SessionsView)


@router.delete("/me/sessions", status_code=204, summary="Завершить все мои сеансы")
async def end_all_sessions(principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep) -> Response:
    request = auth.EndSessions(account_id=principal.account_id)
    await _identity(rpc, settings, auth.END_SESSIONS, request, auth.SessionsEnded)
    return Response(status_code=204)


@router.delete("/me/sessions/{session_id}", status_code=204, summary="Завершить один сеанс")
async def end_session(
    session_id: UUID, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> Response:
    request = auth.EndSessions(account_id=principal.account_id, session_id=session_id)
    await _identity(rpc, settings, auth.END_SESSIONS, request, auth.SessionsEnded)
    return Response(status_code=204)


@router.get(
    "/patients",
    response_model=auth.PatientsView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Пациенты, за которых я могу действовать (я, дети, доверители), с полномочиями",
)
async def patients(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> auth.PatientsView:
    request = auth.ListPatients(account_id=principal.account_id)
    return await _identity(rpc, settings, auth.LIST_PATIENTS, request, auth.PatientsView)


@router.get(
    "/me/notifications",
    response_model=inbox.NotificationsView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Мои уведомления, новые первыми",
)
async def notifications(
    principal: PrincipalDep,
    rpc: RpcDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> inbox.NotificationsView:
    request = inbox.ListNotifications(account_id=principal.account_id, limit=limit)
    return await _identity(
        rpc, settings, inbox.LIST_NOTIFICATIONS, request, inbox.NotificationsView
    )


@router.post(
    "/me/notifications/{notification_id}/read",
    status_code=204,
    summary="Отметить уведомление прочитанным",
)
async def mark_read(
    notification_id: UUID, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> Response:
    request = inbox.MarkNotificationRead(
        account_id=principal.account_id, notification_id=notification_id
    )
    await _identity(rpc, settings, inbox.MARK_NOTIFICATION_READ, request, inbox.NotificationMarked)
    return Response(status_code=204)


class TotpConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d{6}$", description="First code the app shows.")


@router.post(
    "/me/totp",
    response_model=delegations.TotpEnrolment,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Подключить приложение-аутентификатор: секрет, otpauth:// и QR-код (SVG)",
)
async def start_totp(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.TotpEnrolment:
    request = delegations.StartTotpEnrolment(account_id=principal.account_id)
    reply = delegations.TotpEnrolment
    return await _identity(rpc, settings, delegations.START_TOTP_ENROLMENT, request, reply)


@router.post(
    "/me/totp/confirm",
    status_code=204,
    summary="Подтвердить приложение первым кодом: после этого оно включено",
)
async def confirm_totp(
    body: TotpConfirmRequest, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> Response:
    request = delegations.ConfirmTotp(account_id=principal.account_id, code=body.code)
    await _identity(rpc, settings, delegations.CONFIRM_TOTP, request, delegations.TotpConfirmed)
    return Response(status_code=204)


class DelegationRequest(BaseModel):
    """A power of attorney the caller (the patient) gives to an agent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"basis": {"const": "notarized"}}, "required": ["basis"]},
            "then": {"required": ["register_number"], "properties": {"register_number": True}},
        },
    )

    agent_snils: Snils
    basis: delegations.DelegationBasis
    scopes: frozenset[Action] = Field(min_length=1)
    valid_from: date
    valid_until: date = Field(description="Not before `valid_from`.")
    register_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The notary's register number; required when `basis` is `notarized`.",
    )


DelegationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


@router.get(
    "/delegations",
    response_model=delegations.DelegationsView,
    response_model_exclude=without_message_fields("delegations"),
    summary="Доверенности, где я доверитель или представитель",
)
async def list_delegations(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationsView:
    request = delegations.ListDelegations(account_id=principal.account_id)
    reply = delegations.DelegationsView
    return await _identity(rpc, settings, delegations.LIST_DELEGATIONS, request, reply)


@router.post(
    "/delegations",
    status_code=201,
    response_model=delegations.DelegationView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Выдать доверенность (нотариальная ждёт проверки оператором)",
)
async def create_delegation(
    body: DelegationRequest, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationView:
    try:
        request = delegations.CreateDelegation(
            principal_id=principal.account_id, **body.model_dump()
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    reply = delegations.DelegationView
    return await _identity(rpc, settings, delegations.CREATE_DELEGATION, request, reply)


async def _one_delegation(
    method: str, delegation_id: str, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationView:
    request = delegations.DelegationRequest(
        account_id=principal.account_id, delegation_id=delegation_id
    )
    return await _identity(rpc, settings, method, request, delegations.DelegationView)


@router.get(
    "/delegations/{delegation_id}",
    response_model=delegations.DelegationView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Одна доверенность (как доверитель, представитель или оператор)",
)
async def get_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationView:
    method = delegations.GET_DELEGATION
    return await _one_delegation(method, delegation_id, principal, rpc, settings)


@router.delete(
    "/delegations/{delegation_id}",
    response_model=delegations.DelegationView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Отозвать доверенность: действует со следующего запроса",
)
async def revoke_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationView:
    method = delegations.REVOKE_DELEGATION
    return await _one_delegation(method, delegation_id, principal, rpc, settings)


@router.post(
    "/delegations/{delegation_id}/verify",
    response_model=delegations.DelegationView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Оператор подтверждает нотариальную доверенность",
)
async def verify_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> delegations.DelegationView:
    method = delegations.VERIFY_DELEGATION
    return await _one_delegation(method, delegation_id, principal, rpc, settings)


class InsurerConsentBody(BaseModel):
    """The caller (the patient) consents to an insurer reading their data."""

    model_config = ConfigDict(extra="forbid")

    insurer_snils: Snils
    contract_number: str = Field(min_length=1, max_length=64)
    contract_valid_until: date = Field(description="Today or later.")
    consent_valid_until: date = Field(description="Today or later.")
    scopes: frozenset[Action] = Field(
        min_length=1,
        description="Reading only: `read_services`, `download_documents`, `read_lab_results`.",
    )


class InspectorOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspector_snils: Snils
    number: str = Field(min_length=1, max_length=64)
    order_date: date
    patient_snils: frozenset[Snils] = Field(min_length=1, max_length=1000)
    scopes: frozenset[Action] = Field(min_length=1)
    valid_from: date
    valid_until: date = Field(description="Not before `valid_from`.")


DocumentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]
CONSENT_LIST_EXCLUDE = {
    "message_id": True,
    "occurred_at": True,
    "consents": {"__all__": MESSAGE_FIELDS},
}
ORDER_LIST_EXCLUDE = {
    "message_id": True,
    "occurred_at": True,
    "orders": {"__all__": MESSAGE_FIELDS},
}


@router.get(
    "/insurer-consents",
    response_model=consents.InsurerConsentsView,
    response_model_exclude=without_message_fields("consents"),
    summary="Согласия страховым компаниям, где я пациент или страховщик",
)
async def list_insurer_consents(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> consents.InsurerConsentsView:
    request = consents.ListInsurerConsents(account_id=principal.account_id)
    reply = consents.InsurerConsentsView
    return await _identity(rpc, settings, consents.LIST_INSURER_CONSENTS, request, reply)


@router.post(
    "/insurer-consents",
    status_code=201,
    response_model=consents.InsurerConsentView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Дать согласие страховой компании (по договору, только чтение)",
)
async def create_insurer_consent(
    body: InsurerConsentBody, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> consents.InsurerConsentView:
    request = consents.CreateInsurerConsent(patient_id=principal.account_id, **body.model_dump())
    reply = consents.InsurerConsentView
    return await _identity(rpc, settings, consents.CREATE_INSURER_CONSENT, request, reply)


def _consent_route(method: str, http: str, path: str, summary: str) -> None:
    """One route acting on one consent: get, revoke, request access, confirm the request."""

    async def act(
        consent_id: DocumentId, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
    ) -> consents.InsurerConsentView:
        request = consents.InsurerConsentRequest(
            account_id=principal.account_id, consent_id=consent_id
        )
        return await _identity(rpc, settings, method, request, consents.InsurerConsentView)

    router.add_api_route(
        path,
        act,
        methods=[http],
        response_model=consents.InsurerConsentView,
        response_model_exclude=MESSAGE_FIELDS,
        summary=summary,
        name=method,
    )


_consent_route(
    consents.GET_INSURER_CONSENT, "GET", "/insurer-consents/{consent_id}", "Одно согласие"
)
_consent_route(
    consents.REVOKE_INSURER_CONSENT,
    "DELETE",
    "/insurer-consents/{consent_id}",
    "Отозвать согласие (пациент): действует со следующего запроса",
)
_consent_route(
    consents.REQUEST_INSURER_ACCESS,
    "POST",
    "/insurer-consents/{consent_id}/request",
    "Страховщик запрашивает доступ по согласию",
)
_consent_route(
    consents.CONFIRM_INSURER_REQUEST,
    "POST",
    "/insurer-consents/{consent_id}/confirm",
    "Пациент подтверждает запрос страховщика (на ограниченный срок)",
)


@router.get(
    "/inspector-orders",
    response_model=consents.InspectorOrdersView,
    response_model_exclude=without_message_fields("orders"),
    summary="Приказы о проверке: свои (инспектор) или все (оператор)",
)
async def list_inspector_orders(
    principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> consents.InspectorOrdersView:
    request = consents.ListInspectorOrders(account_id=principal.account_id)
    reply = consents.InspectorOrdersView
    return await _identity(rpc, settings, consents.LIST_INSPECTOR_ORDERS, request, reply)


@router.post(
    "/inspector-orders",
    status_code=201,
    response_model=consents.InspectorOrderView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Зарегистрировать приказ о проверке (оператор)",
)
async def create_inspector_order(
    body: InspectorOrderBody, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> consents.InspectorOrderView:
    try:
        request = consents.CreateInspectorOrder(
            operator_id=principal.account_id, **body.model_dump()
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    reply = consents.InspectorOrderView
    return await _identity(rpc, settings, consents.CREATE_INSPECTOR_ORDER, request, reply)


def _order_route(method: str, http: str, summary: str) -> None:
    async def act(
        order_id: DocumentId, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
    ) -> consents.InspectorOrderView:
        request = consents.InspectorOrderRequest(account_id=principal.account_id, order_id=order_id)
        return await _identity(rpc, settings, method, request, consents.InspectorOrderView)

    router.add_api_route(
        "/inspector-orders/{order_id}",
        act,
        methods=[http],
        response_model=consents.InspectorOrderView,
        response_model_exclude=MESSAGE_FIELDS,
        summary=summary,
        name=method,
    )


_order_route(consents.GET_INSPECTOR_ORDER, "GET", "Один приказ")
_order_route(consents.REVOKE_INSPECTOR_ORDER, "DELETE", "Отозвать приказ (оператор)")
