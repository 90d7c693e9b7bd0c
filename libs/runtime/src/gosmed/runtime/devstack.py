"""Run the whole system on one machine: every service as its own OS process, plus the edge.

`make run` uses it (`python -m gosmed.runtime.devstack`), and so does the end-to-end test
harness, so what the tests start is exactly what a newcomer starts.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from gosmed.contracts.topology import Service
from gosmed.runtime.settings import CommonSettings

SERVICES = tuple(s.value for s in Service)
# Modules run as `python -m <module>` once the system is ready, in order, when demo data is
# asked for: they load demo data the way a client would (through the broker or the edge).
DEMO_LOADERS: tuple[str, ...] = ("gosmed.records.simulator",)
STOP_TIMEOUT = 20.0

BROKER_HELP = """\
RabbitMQ is not reachable at {host}:{port}.

Start one, then run this again:
  Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached
  Docker:         docker run -d --name gosmed-rabbitmq -p 5672:5672 rabbitmq:3.13
or point GOSMED_AMQP_URL at an existing broker (amqp://user:password@host:5672/vhost).
"""


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(amqp_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout):
            return True
    except OSError:
        return False


class DevStack:
    """Starts, watches and stops the service processes and the edge."""

    def __init__(
        self,
        *,
        edge_port: int = 8000,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.edge_port = edge_port
        self.env = {**os.environ, **(env or {}), "GOSMED_EDGE_PORT": str(edge_port)}
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.edge_port}"

    def start(self) -> None:
        for name in SERVICES:
            self.start_process(name)
        self.start_process("edge")

    def start_process(self, name: str) -> None:
        output: IO[bytes] | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = self._logs[name] = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [sys.executable, "-m", f"gosmed.{name}"],
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )

    def kill(self, name: str) -> None:
        """Kill a process the hard way, as a crash would."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self) -> None:
        """SIGTERM everything (each finishes its in-flight messages), SIGKILL stragglers."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        for log in self._logs.values():
            log.close()
        self._logs.clear()

    def load_demo_data(self) -> None:
        for module in DEMO_LOADERS:
            subprocess.run([sys.executable, "-m", module], env=self.env, check=True)  # noqa: S603

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def readiness(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=5) as response:  # noqa: S310 (local URL)
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)
        except (OSError, ValueError):
            return 0, {}

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if crashed := self.exited():
                raise RuntimeError(f"processes exited during start: {crashed}")
            status, body = self.readiness()
            if status == 200:
                return body
            time.sleep(0.2)
        raise TimeoutError(f"not ready after {timeout:g} s: {self.readiness()}")


def stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C, so a launcher stopped by a supervisor stops its children
    (they run in their own sessions and would outlive it)."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> int:
    stop_on_sigterm()
    settings = CommonSettings()
    if not broker_reachable(settings.amqp_url):
        parts = urlsplit(settings.amqp_url)
        print(BROKER_HELP.format(host=parts.hostname, port=parts.port or 5672), file=sys.stderr)
        return 1
    stack = DevStack(
        edge_port=int(os.environ.get("GOSMED_EDGE_PORT", "8000")),
        env={"GOSMED_DEMO_DATA": os.environ.get("GOSMED_DEMO_DATA", "1")},
    )
    stack.start()
    try:
        stack.wait_ready()
        if stack.env["GOSMED_DEMO_DATA"] == "1":
            stack.load_demo_data()
        print(
            f"\ngosmed is up: {stack.base_url}/readyz, API docs at {stack.base_url}/docs. "
            "Ctrl-C stops everything.\n",
            file=sys.stderr,
        )
        while not stack.exited():
            time.sleep(0.5)
        print(f"a process exited: {stack.exited()}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A terminal's Ctrl-C reaches `make`, `uv` and us at once: one stop is enough.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping gosmed...", file=sys.stderr)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
