"""Typed FastAPI dependencies shared by the routers."""

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHENTICATE, Authenticate, Principal
from gosmed.contracts.identity.tokens import TOKEN_INVALID
from gosmed.edge.access_tokens import TokenVerifier
from gosmed.edge.client_address import client_address
from gosmed.edge.session_feed import SessionFeed
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.rpc import Caller, ServiceClient

MAX_TOKEN_LENGTH = 4096
_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/mfa")


def _rpc(request: Request) -> Caller:
    rpc: Caller = request.app.state.rpc
    return rpc


def _settings(request: Request) -> EdgeSettings:
    settings: EdgeSettings = request.app.state.settings
    return settings


def _session_feed(request: Request) -> SessionFeed:
    feed: SessionFeed = request.app.state.session_feed
    return feed


RpcDep = Annotated[Caller, Depends(_rpc)]
SettingsDep = Annotated[EdgeSettings, Depends(_settings)]
SessionFeedDep = Annotated[SessionFeed, Depends(_session_feed)]


def _client(service: topology.Service) -> Callable[[Caller], ServiceClient]:
    def client(rpc: RpcDep) -> ServiceClient:
        return ServiceClient(service, rpc)

    return client


IdentityDep = Annotated[ServiceClient, Depends(_client(topology.Service.IDENTITY))]
RecordsDep = Annotated[ServiceClient, Depends(_client(topology.Service.RECORDS))]
RegistryDep = Annotated[ServiceClient, Depends(_client(topology.Service.REGISTRY))]
DocumentsDep = Annotated[ServiceClient, Depends(_client(topology.Service.DOCUMENTS))]
FeedbackDep = Annotated[ServiceClient, Depends(_client(topology.Service.FEEDBACK))]
SchedulingDep = Annotated[ServiceClient, Depends(_client(topology.Service.SCHEDULING))]


async def _principal(
    request: Request,
    identity: IdentityDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind a token checked here with identity's keys and its announcements of
    ended sessions (logout acts on the next request); identity checks it while this replica
    cannot (see `access_tokens`)."""
    if credentials is None:
        raise ServiceError(
            ErrorCode.UNAUTHENTICATED, "Нужен токен доступа (Authorization: Bearer)."
        )
    token = credentials.credentials
    if len(token) > MAX_TOKEN_LENGTH:
        raise ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID)
    verifier: TokenVerifier = request.app.state.tokens
    principal = await verifier.principal(token, identity)
    if principal is None:
        principal = await identity.call(AUTHENTICATE, Authenticate(access_token=token))
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def _optional_principal(
    request: Request,
    identity: IdentityDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller of a route open to everyone: None without a token; a token given must be
    valid (else 401), so an expired session is never silently taken for a stranger."""
    if credentials is None:
        return None
    return await _principal(request, identity, credentials)


OptionalPrincipalDep = Annotated[Principal | None, Depends(_optional_principal)]


def _client_address(request: Request, settings: SettingsDep) -> str:
    """The caller's network address (for login and support request limits): the socket
    peer, or the address a trusted proxy (`GOSMED_EDGE_TRUSTED_PROXIES`) forwarded for (see
    `client_address`)."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings.trusted_proxies,
    )


ClientAddressDep = Annotated[str, Depends(_client_address)]


def patient_context(principal: Principal, patient_id: str) -> AccessContext:
    """The access context of `principal` acting for `patient_id` (`me` is the caller)."""
    if patient_id == "me":
        patient = principal.account_id
    else:
        try:
            patient = UUID(patient_id)
        except ValueError:
            raise ServiceError(ErrorCode.NOT_FOUND, "Пациент не найден.") from None
    return AccessContext(
        actor_id=principal.account_id,
        session_id=principal.session_id,
        patient_id=patient,
        roles=principal.roles,
    )


def actor_context(principal: Principal) -> AccessContext:
    """The access context of `principal` acting for no patient (e.g. for an organization)."""
    return AccessContext(
        actor_id=principal.account_id, session_id=principal.session_id, roles=principal.roles
    )
