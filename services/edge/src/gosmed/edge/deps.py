"""Typed FastAPI dependencies shared by the routers."""

from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHENTICATE, Authenticate, Principal
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.rpc import RpcClient

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/mfa")


def _rpc(request: Request) -> RpcClient:
    rpc: RpcClient = request.app.state.rpc
    return rpc


def _settings(request: Request) -> EdgeSettings:
    settings: EdgeSettings = request.app.state.settings
    return settings


RpcDep = Annotated[RpcClient, Depends(_rpc)]
SettingsDep = Annotated[EdgeSettings, Depends(_settings)]

ReplyT = TypeVar("ReplyT", bound=BaseModel)
MESSAGE_FIELDS = {"message_id", "occurred_at"}
"""The broker envelope of a reply, left out of HTTP answers."""


async def call_service(
    service: topology.Service,
    rpc: RpcClient,
    settings: EdgeSettings,
    method: str,
    request: BaseModel,
    reply: type[ReplyT],
) -> ReplyT:
    """`method` of `service` over RPC, within the edge's timeout; a routes module binds its
    service with `functools.partial`."""
    queue = topology.rpc_queue(service, method)
    return await rpc.call(queue, request, reply, timeout=settings.rpc_timeout)


async def _principal(
    rpc: RpcDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's live session, checked by identity on every request (logout acts at once)."""
    if credentials is None:
        raise ServiceError(
            ErrorCode.UNAUTHENTICATED, "Нужен токен доступа (Authorization: Bearer)."
        )
    return await call_service(
        topology.Service.IDENTITY,
        rpc,
        settings,
        AUTHENTICATE,
        Authenticate(access_token=credentials.credentials),
        Principal,
    )


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
