"""Edge routes served by the identity service: login, sessions, profile, patients."""

from typing import Annotated, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts import topology
from gosmed.contracts.identity import auth, inbox
from gosmed.contracts.identity.auth import SecondFactor
from gosmed.contracts.types import MobilePhone
from gosmed.edge.deps import ClientAddressDep, PrincipalDep, RpcDep, SettingsDep

router = APIRouter(tags=["identity"])

ReplyT = TypeVar("ReplyT", bound=BaseModel)
MESSAGE_FIELDS = {"message_id", "occurred_at"}


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


async def _identity(
    rpc: RpcDep, settings: SettingsDep, method: str, request: BaseModel, reply: type[ReplyT]
) -> ReplyT:
    queue = topology.rpc_queue(topology.Service.IDENTITY, method)
    return await rpc.call(queue, request, reply, timeout=settings.rpc_timeout)


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
