"""Liveness and readiness: is the process alive, and does every service answer?"""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gosmed.contracts import topology
from gosmed.contracts.errors import ServiceError
from gosmed.contracts.system import Ping, ping
from gosmed.edge.deps import SettingsDep
from gosmed.edge.problems import problem
from gosmed.runtime.rpc import RpcClient

router = APIRouter(tags=["health"])


async def _service_status(
    rpc: RpcClient, service: topology.Service, timeout: float
) -> dict[str, Any]:
    try:
        reply = await rpc.call(ping(service), Ping(), timeout=timeout)
    except ServiceError as exc:
        return {"state": "down", "code": exc.code.value, "detail": exc.message}
    return {
        "state": "up" if reply.healthy else "down",
        "version": reply.version,
        "dependencies": {k: v.model_dump(mode="json") for k, v in reply.dependencies.items()},
    }


@router.get("/healthz", summary="The edge process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="The broker is reachable and every service answered ping",
    responses={503: {"description": "A dependency is down (problem+json naming it)"}},
)
async def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    """Ready or not, and what is down, by name. Versions, dependencies and the kind of store
    (a map of what runs, for an attacker too) only with `GOSMED_EDGE_READINESS_DETAILS`."""
    rpc: RpcClient = request.app.state.rpc
    services = list(topology.Service)
    statuses = await asyncio.gather(
        *(_service_status(rpc, s, settings.ping_timeout) for s in services)
    )
    report = {s.value: status for s, status in zip(services, statuses, strict=True)}
    broker = "up" if rpc.connected else "down"
    down = [name for name, status in report.items() if status["state"] != "up"]
    if broker == "down":
        down.insert(0, "broker")
    details: dict[str, Any] = {}
    if settings.readiness_details:
        # Informational: while the feed catches up, identity checks every token (slower).
        sessions = "live" if request.app.state.session_feed.ended.complete else "catching_up"
        details = {"broker": broker, "session_feed": sessions, "services": report}
    if down:
        names = ", ".join("брокер" if name == "broker" else name for name in down)
        return problem(
            request,
            503,
            "not_ready",
            f"Недоступны: {names}.",
            title="Система не готова.",
            extensions={"down": down, **details},
        )
    return JSONResponse({"status": "ready", **details})
