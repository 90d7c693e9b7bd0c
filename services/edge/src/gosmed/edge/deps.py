"""Typed FastAPI dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Request

from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.rpc import RpcClient


def _rpc(request: Request) -> RpcClient:
    rpc: RpcClient = request.app.state.rpc
    return rpc


def _settings(request: Request) -> EdgeSettings:
    settings: EdgeSettings = request.app.state.settings
    return settings


RpcDep = Annotated[RpcClient, Depends(_rpc)]
SettingsDep = Annotated[EdgeSettings, Depends(_settings)]
