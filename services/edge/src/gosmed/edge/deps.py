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


RpcDep = Annotated[Caller, Depends(_rpc)]
SettingsDep = Annotated[EdgeSettings, Depends(_settings)]


def _client(service: topology.Service) -> Callable[[Caller], ServiceClient]:
    def client(rpc: RpcDep) -> ServiceClient:
        return ServiceClient(service, rpc)

    return client


IdentityDep = Annotated[ServiceClient, Depends(_client(topology.Service.IDENTITY))]
RecordsDep = Annotated[ServiceClient, Depends(_client(topology.Service.RECORDS))]
RegistryDep = Annotated[ServiceClient, Depends(_client(topology.Service.REGISTRY))]
DocumentsDep = Annotated[ServiceClient, Depends(_client(topology.Service.DOCUMENTS))]


async def _principal(
    identity: IdentityDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's live session, checked by identity on every request (logout acts at once)."""
    if credentials is None:
        raise ServiceError(
            ErrorCode.UNAUTHENTICATED, "Нужен токен доступа (Authorization: Bearer)."
        )
    if len(credentials.credentials) > MAX_TOKEN_LENGTH:
        raise ServiceError(ErrorCode.UNAUTHENTICATED, "Токен доступа недействителен.")
    return await identity.call(AUTHENTICATE, Authenticate(access_token=credentials.credentials))


PrincipalDep = Annotated[Principal, Depends(_principal)]


def _client_address(request: Request) -> str:
    """The caller's network address (for login rate limits); behind a proxy, run uvicorn
    with --proxy-headers so this is the client's, not the proxy's."""
    return request.client.host if request.client else "unknown"


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
