"""Edge routes served by the identity service: login, sessions, profile, patients."""

from typing import Annotated, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts.errors import ServiceError
from gosmed.contracts.identity import auth, consents, delegations, inbox, tokens
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.auth import SecondFactor
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.types import IsoDate, MobilePhone, Snils
from gosmed.edge.deps import (
    ClientAddressDep,
    IdentityDep,
    PrincipalDep,
    SessionFeedDep,
)

router = APIRouter(tags=["identity"])
# Seconds a client may cache the key set. A key is published this long (at least) before it
# signs, and stays accepted for a token lifetime after it stops signing (deploy/README.md).
JWKS_MAX_AGE = 300
DelegationRequestT = TypeVar("DelegationRequestT", bound=delegations.DelegationRequest)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: MobilePhone = Field(description="Mobile phone, e.g. +79161234567.")
    password: str = Field(min_length=1, max_length=256)


class SmsLoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: MobilePhone = Field(description="Mobile phone, e.g. +79161234567.")


class SmsLoginVerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$", description="Six-digit code from the SMS.")


class SendCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: UUID
    factor: Literal[SecondFactor.SMS, SecondFactor.EMAIL]


class MfaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: UUID
    factor: SecondFactor
    code: str = Field(pattern=r"^[0-9]{6}$", description="Six-digit code.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


@router.post(
    "/auth/login",
    response_model=auth.LoginChallenge,
    summary="Вход: телефон и пароль; ответ — попытка входа и доступные вторые факторы",
)
async def login(
    body: LoginRequest, identity: IdentityDep, address: ClientAddressDep
) -> auth.LoginChallenge:
    request = auth.StartLogin(phone=body.phone, password=body.password, client_address=address)
    return await identity.call(auth.START_LOGIN, request)


@router.post(
    "/auth/login/sms",
    status_code=202,
    response_model=auth.SmsLoginStarted,
    summary="Вход по коду из SMS: отправить код на телефон (ответ тот же для любого номера)",
)
async def login_by_sms(
    body: SmsLoginRequest, identity: IdentityDep, address: ClientAddressDep
) -> auth.SmsLoginStarted:
    request = auth.StartSmsLogin(phone=body.phone, client_address=address)
    return await identity.call(auth.START_SMS_LOGIN, request)


@router.post(
    "/auth/login/sms/verify",
    response_model=auth.LoginChallenge,
    summary="Код из SMS; ответ — попытка входа и вторые факторы (приложение или почта)",
)
async def verify_sms_login(
    body: SmsLoginVerifyRequest, identity: IdentityDep, address: ClientAddressDep
) -> auth.LoginChallenge:
    request = auth.VerifySmsLogin(
        challenge_id=body.challenge_id, code=body.code, client_address=address
    )
    return await identity.call(auth.VERIFY_SMS_LOGIN, request)


@router.post(
    "/auth/mfa/code",
    response_model=auth.LoginCodeSent,
    summary="Отправить код входа по SMS или электронной почте",
)
async def send_code(
    body: SendCodeRequest, identity: IdentityDep, address: ClientAddressDep
) -> auth.LoginCodeSent:
    request = auth.SendLoginCode(
        attempt_id=body.attempt_id, factor=body.factor, client_address=address
    )
    return await identity.call(auth.SEND_LOGIN_CODE, request)


@router.post(
    "/auth/mfa",
    response_model=auth.SessionTokens,
    summary="Второй фактор: код из SMS, письма или приложения; ответ — токены сеанса",
)
async def mfa(
    body: MfaRequest,
    identity: IdentityDep,
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
    return await identity.call(auth.VERIFY_LOGIN, request)


@router.post(
    "/auth/refresh",
    response_model=auth.SessionTokens,
    summary="Обновить токены; повторное использование токена обновления завершает сеанс",
)
async def refresh(
    body: RefreshRequest, identity: IdentityDep, address: ClientAddressDep, feed: SessionFeedDep
) -> auth.SessionTokens:
    request = auth.RefreshSession(refresh_token=body.refresh_token, client_address=address)
    try:
        return await identity.call(auth.REFRESH_SESSION, request)
    except ServiceError:
        await feed.barrier()  # a reused token ended its session: refuse its access tokens now
        raise


async def _end_sessions(
    request: auth.EndSessions, identity: IdentityDep, feed: SessionFeedDep
) -> Response:
    """End sessions; their tokens are refused here from the next request on."""
    await identity.call(auth.END_SESSIONS, request)
    await feed.barrier()
    return Response(status_code=204)


@router.post("/auth/logout", status_code=204, summary="Выйти: завершить текущий сеанс")
async def logout(principal: PrincipalDep, identity: IdentityDep, feed: SessionFeedDep) -> Response:
    request = auth.EndSessions(
        account_id=principal.account_id, session_id=principal.session_id, logout=True
    )
    return await _end_sessions(request, identity, feed)


@router.get(
    "/.well-known/jwks.json",
    response_model=tokens.Jwks,
    include_in_schema=False,  # a standard document (RFC 7517), described in the API's text
    summary="Открытые ключи, которыми подписаны токены доступа (JWK Set, RFC 7517)",
)
async def jwks(identity: IdentityDep, response: Response) -> tokens.Jwks:
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return await identity.call(tokens.GET_JWKS, tokens.GetJwks())


@router.get(
    "/me",
    response_model=auth.Profile,
    summary="Моя учётная запись",
)
async def me(principal: PrincipalDep, identity: IdentityDep) -> auth.Profile:
    request = auth.GetProfile(account_id=principal.account_id)
    return await identity.call(auth.GET_PROFILE, request)


@router.get(
    "/me/sessions",
    response_model=auth.SessionsView,
    summary="Мои активные сеансы: устройство и время",
)
async def sessions(principal: PrincipalDep, identity: IdentityDep) -> auth.SessionsView:
    request = auth.ListSessions(
        account_id=principal.account_id, current_session_id=principal.session_id
    )
    return await identity.call(auth.LIST_SESSIONS, request)


@router.delete("/me/sessions", status_code=204, summary="Завершить все мои сеансы")
async def end_all_sessions(
    principal: PrincipalDep, identity: IdentityDep, feed: SessionFeedDep
) -> Response:
    request = auth.EndSessions(account_id=principal.account_id)
    return await _end_sessions(request, identity, feed)


@router.delete("/me/sessions/{session_id}", status_code=204, summary="Завершить один сеанс")
async def end_session(
    session_id: UUID, principal: PrincipalDep, identity: IdentityDep, feed: SessionFeedDep
) -> Response:
    request = auth.EndSessions(account_id=principal.account_id, session_id=session_id)
    return await _end_sessions(request, identity, feed)


@router.get(
    "/patients",
    response_model=auth.PatientsView,
    summary="Пациенты, за которых я могу действовать (я, дети, доверители), с полномочиями",
)
async def patients(principal: PrincipalDep, identity: IdentityDep) -> auth.PatientsView:
    request = auth.ListPatients(account_id=principal.account_id)
    return await identity.call(auth.LIST_PATIENTS, request)


@router.get(
    "/me/notifications",
    response_model=inbox.NotificationsView,
    summary="Мои уведомления, новые первыми",
)
async def notifications(
    principal: PrincipalDep,
    identity: IdentityDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> inbox.NotificationsView:
    request = inbox.ListNotifications(account_id=principal.account_id, limit=limit)
    return await identity.call(inbox.LIST_NOTIFICATIONS, request)


@router.post(
    "/me/notifications/{notification_id}/read",
    status_code=204,
    summary="Отметить уведомление прочитанным",
)
async def mark_read(
    notification_id: UUID, principal: PrincipalDep, identity: IdentityDep
) -> Response:
    request = inbox.MarkNotificationRead(
        account_id=principal.account_id, notification_id=notification_id
    )
    await identity.call(inbox.MARK_NOTIFICATION_READ, request)
    return Response(status_code=204)


class TotpStartRequest(BaseModel):
    """The password and the current factor: a code of the app being replaced (not needed for a
    first app while the login is fresh)."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=256)
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="Code of the current app, if there is one."
    )


class TotpConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9]{6}$", description="First code the app shows.")


@router.post(
    "/me/totp",
    response_model=delegations.TotpEnrolment,
    summary="Подключить или заменить приложение-аутентификатор (пароль и текущий код): секрет, "
    "otpauth:// и QR-код (SVG)",
)
async def start_totp(
    body: TotpStartRequest, principal: PrincipalDep, identity: IdentityDep
) -> delegations.TotpEnrolment:
    request = delegations.StartTotpEnrolment(
        account_id=principal.account_id,
        password=body.password,
        code=body.code,
        session_id=principal.session_id,
    )
    return await identity.call(delegations.START_TOTP_ENROLMENT, request)


@router.post(
    "/me/totp/confirm",
    status_code=204,
    summary="Подтвердить приложение первым кодом: оно включено, другие сеансы завершены",
)
async def confirm_totp(
    body: TotpConfirmRequest, principal: PrincipalDep, identity: IdentityDep
) -> Response:
    request = delegations.ConfirmTotp(
        account_id=principal.account_id, code=body.code, session_id=principal.session_id
    )
    await identity.call(delegations.CONFIRM_TOTP, request)
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
    valid_from: IsoDate
    valid_until: IsoDate = Field(description="Not before `valid_from`.")
    register_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The notary's register number; required when `basis` is `notarized`.",
    )
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="A code of the authenticator app; needed when the login is not fresh.",
    )


DelegationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


@router.get(
    "/delegations",
    response_model=delegations.DelegationsView,
    summary="Доверенности, где я доверитель или представитель",
)
async def list_delegations(
    principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationsView:
    request = delegations.ListDelegations(account_id=principal.account_id)
    return await identity.call(delegations.LIST_DELEGATIONS, request)


@router.post(
    "/delegations",
    status_code=201,
    response_model=delegations.DelegationView,
    summary="Выдать доверенность: ждёт согласия представителя (и проверки оператором, кроме "
    "согласия подростка)",
)
async def create_delegation(
    body: DelegationRequest, principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationView:
    try:
        request = delegations.CreateDelegation(
            principal_id=principal.account_id, session_id=principal.session_id, **body.model_dump()
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return await identity.call(delegations.CREATE_DELEGATION, request)


async def _one_delegation(
    method: Rpc[DelegationRequestT, delegations.DelegationView],
    delegation_id: str,
    principal: PrincipalDep,
    identity: IdentityDep,
) -> delegations.DelegationView:
    request = method.request(account_id=principal.account_id, delegation_id=delegation_id)
    return await identity.call(method, request)


@router.get(
    "/delegations/{delegation_id}",
    response_model=delegations.DelegationView,
    summary="Одна доверенность (как доверитель, представитель или оператор)",
)
async def get_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationView:
    method = delegations.GET_DELEGATION
    return await _one_delegation(method, delegation_id, principal, identity)


@router.delete(
    "/delegations/{delegation_id}",
    response_model=delegations.DelegationView,
    summary="Отозвать доверенность: действует со следующего запроса",
)
async def revoke_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationView:
    method = delegations.REVOKE_DELEGATION
    return await _one_delegation(method, delegation_id, principal, identity)


@router.post(
    "/delegations/{delegation_id}/accept",
    response_model=delegations.DelegationView,
    summary="Представитель принимает доверенность, выданную на его СНИЛС",
)
async def accept_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationView:
    method = delegations.ACCEPT_DELEGATION
    return await _one_delegation(method, delegation_id, principal, identity)


@router.post(
    "/delegations/{delegation_id}/verify",
    response_model=delegations.DelegationView,
    summary="Оператор подтверждает нотариальную доверенность",
)
async def verify_delegation(
    delegation_id: DelegationId, principal: PrincipalDep, identity: IdentityDep
) -> delegations.DelegationView:
    method = delegations.VERIFY_DELEGATION
    return await _one_delegation(method, delegation_id, principal, identity)


class InsurerConsentBody(BaseModel):
    """The caller (the patient) consents to an insurer reading their data."""

    model_config = ConfigDict(extra="forbid")

    insurer_snils: Snils
    contract_number: str = Field(min_length=1, max_length=64)
    contract_valid_until: IsoDate = Field(description="Today or later.")
    consent_valid_until: IsoDate = Field(description="Today or later.")
    scopes: frozenset[Action] = Field(
        min_length=1,
        description="Reading only: `read_services`, `download_documents`, `read_lab_results`.",
    )


class InspectorOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspector_snils: Snils
    number: str = Field(min_length=1, max_length=64)
    order_date: IsoDate
    patient_snils: frozenset[Snils] = Field(min_length=1, max_length=1000)
    scopes: frozenset[Action] = Field(min_length=1)
    valid_from: IsoDate
    valid_until: IsoDate = Field(description="Not before `valid_from`.")


DocumentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


@router.get(
    "/insurer-consents",
    response_model=consents.InsurerConsentsView,
    summary="Согласия страховым компаниям, где я пациент или страховщик",
)
async def list_insurer_consents(
    principal: PrincipalDep, identity: IdentityDep
) -> consents.InsurerConsentsView:
    request = consents.ListInsurerConsents(account_id=principal.account_id)
    return await identity.call(consents.LIST_INSURER_CONSENTS, request)


@router.post(
    "/insurer-consents",
    status_code=201,
    response_model=consents.InsurerConsentView,
    summary="Дать согласие страховой компании (по договору, только чтение)",
)
async def create_insurer_consent(
    body: InsurerConsentBody, principal: PrincipalDep, identity: IdentityDep
) -> consents.InsurerConsentView:
    request = consents.CreateInsurerConsent(patient_id=principal.account_id, **body.model_dump())
    return await identity.call(consents.CREATE_INSURER_CONSENT, request)


def _consent_route(
    method: Rpc[consents.InsurerConsentRequest, consents.InsurerConsentView],
    http: str,
    path: str,
    summary: str,
) -> None:
    """One route acting on one consent: get, revoke, request access, confirm the request."""

    async def act(
        consent_id: DocumentId, principal: PrincipalDep, identity: IdentityDep
    ) -> consents.InsurerConsentView:
        request = consents.InsurerConsentRequest(
            account_id=principal.account_id, consent_id=consent_id
        )
        return await identity.call(method, request)

    router.add_api_route(
        path,
        act,
        methods=[http],
        response_model=consents.InsurerConsentView,
        summary=summary,
        name=method.method,
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
    summary="Приказы о проверке: свои (инспектор) или все (оператор)",
)
async def list_inspector_orders(
    principal: PrincipalDep, identity: IdentityDep
) -> consents.InspectorOrdersView:
    request = consents.ListInspectorOrders(account_id=principal.account_id)
    return await identity.call(consents.LIST_INSPECTOR_ORDERS, request)


@router.post(
    "/inspector-orders",
    status_code=201,
    response_model=consents.InspectorOrderView,
    summary="Зарегистрировать приказ о проверке (оператор)",
)
async def create_inspector_order(
    body: InspectorOrderBody, principal: PrincipalDep, identity: IdentityDep
) -> consents.InspectorOrderView:
    try:
        request = consents.CreateInspectorOrder(
            operator_id=principal.account_id, **body.model_dump()
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return await identity.call(consents.CREATE_INSPECTOR_ORDER, request)


def _order_route(
    method: Rpc[consents.InspectorOrderRequest, consents.InspectorOrderView],
    http: str,
    summary: str,
) -> None:
    async def act(
        order_id: DocumentId, principal: PrincipalDep, identity: IdentityDep
    ) -> consents.InspectorOrderView:
        request = consents.InspectorOrderRequest(account_id=principal.account_id, order_id=order_id)
        return await identity.call(method, request)

    router.add_api_route(
        "/inspector-orders/{order_id}",
        act,
        methods=[http],
        response_model=consents.InspectorOrderView,
        summary=summary,
        name=method.method,
    )


_order_route(consents.GET_INSPECTOR_ORDER, "GET", "Один приказ")
_order_route(consents.REVOKE_INSPECTOR_ORDER, "DELETE", "Отозвать приказ (оператор)")
