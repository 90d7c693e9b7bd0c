"""Heartbeat files and the exec probe that reads them (deploy/k8s runs it in every service pod)."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gosmed.contracts import topology
from gosmed.contracts.system import DependencyState, DependencyStatus, Ping
from gosmed.runtime.health import LIVE, MAX_AGE, READY, Heartbeat, is_fresh, main
from gosmed.runtime.service import build_service
from gosmed.runtime.settings import ServiceSettings


def probe(path: Path) -> int:
    """The probe exactly as the Kubernetes manifests run it."""
    command = [sys.executable, "-m", "gosmed.runtime.health", str(path)]
    return subprocess.run(command, check=False, capture_output=True).returncode


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_heartbeat_touches_live_always_and_ready_only_while_ready(tmp_path: Path) -> None:
    can_work = True

    async def ready() -> bool:
        return can_work

    heartbeat = Heartbeat(tmp_path / "health", ready, interval=0.05)
    live, ready_file = tmp_path / "health" / LIVE, tmp_path / "health" / READY
    await heartbeat.start()
    try:
        await eventually(lambda: ready_file.exists() and live.exists())
        can_work = False
        await eventually(lambda: not ready_file.exists())
        touched = live.stat().st_mtime_ns
        await eventually(lambda: live.stat().st_mtime_ns > touched)  # still alive
        can_work = True
        await eventually(ready_file.exists)
    finally:
        await heartbeat.stop()
    assert not ready_file.exists(), "a stopped service is not ready"


def test_probe_passes_on_a_fresh_file_and_fails_on_a_stale_or_missing_one(tmp_path: Path) -> None:
    beat = tmp_path / LIVE
    assert probe(beat) == 1
    beat.touch()
    assert probe(beat) == 0
    assert is_fresh(beat)
    stale = time.time() - MAX_AGE - 1
    os.utime(beat, (stale, stale))
    assert probe(beat) == 1
    assert not is_fresh(beat)


def test_probe_without_a_file_argument_is_a_usage_error() -> None:
    assert main([]) == 2


async def test_a_service_with_a_health_dir_is_ready_once_consuming_and_not_after_stop(
    amqp_url: str, tmp_path: Path, cleanup_queues: list[str]
) -> None:
    service = topology.Service.REGISTRY
    cleanup_queues.append(topology.rpc_queue(service, "ping"))
    settings = ServiceSettings(amqp_url=amqp_url, health_dir=tmp_path, graceful_timeout=2.0)
    runtime = build_service(service, settings)

    await runtime.app.start()
    try:
        await eventually(lambda: (tmp_path / READY).exists())
        assert probe(tmp_path / READY) == 0
        assert probe(tmp_path / LIVE) == 0
        assert await runtime.ready()
    finally:
        await runtime.app.stop()

    assert probe(tmp_path / READY) == 1


async def test_ping_reports_a_service_dependency_and_is_unhealthy_while_it_is_down() -> None:
    runtime = build_service(topology.Service.DOCUMENTS, ServiceSettings())
    state = DependencyState.DOWN
    runtime.report_dependency("renderer", lambda: DependencyStatus(state=state))
    try:
        down = await runtime.ping(Ping())
        state = DependencyState.UP
        up = await runtime.ping(Ping())
    finally:
        runtime.store.close()
    assert down.dependencies["renderer"].state is DependencyState.DOWN
    assert not down.healthy
    assert set(up.dependencies) == {"broker", "store", "renderer"}
    assert up.healthy


@pytest.mark.parametrize("through_the_app", [False, True])
async def test_stop_runs_the_stopping_hooks_then_the_shutdown_hooks_in_process_or_in_the_app(
    amqp_url: str, cleanup_queues: list[str], through_the_app: bool
) -> None:
    service = topology.Service.REGISTRY
    cleanup_queues.append(topology.rpc_queue(service, "ping"))
    runtime = build_service(service, ServiceSettings(amqp_url=amqp_url, graceful_timeout=2.0))
    stopped: list[str] = []

    async def stopping() -> None:
        stopped.append("stopping")

    async def shutdown() -> None:
        stopped.append("shutdown")

    runtime.on_stopping(stopping)
    runtime.on_shutdown(shutdown)
    if through_the_app:
        await runtime.app.start()
        await runtime.app.stop()
    else:
        await runtime.start()
        await runtime.stop()

    assert stopped == ["stopping", "shutdown"]
