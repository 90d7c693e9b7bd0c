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
from typing import Any
from urllib.parse import urlsplit

from gosmed.contracts.topology import Service
from gosmed.runtime.broker_access import AdminError, BrokerAccess, BrokerAccessSettings
from gosmed.runtime.logging import setup_logging
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.supervisor import Supervisor

SERVICES = tuple(s.value for s in Service)
# Modules run as `python -m <module>` once the system is ready, in order, when demo data is
# asked for: they load demo data the way a client would (through the broker or the edge).
# Demo clinics that keep answering while the system runs (supervised, restarted like a service):
# the correction simulator accepts most requests, rejects some, and one clinic never answers.
DEMO_CLINICS: dict[str, tuple[str, ...]] = {
    "clinic-corrections": ("gosmed.records.correction_simulator", "--watch"),
}
DEMO_LOADERS: tuple[str, ...] = (
    "gosmed.records.simulator",
    "gosmed.records.lab_simulator",
    "gosmed.records.prescription_simulator",
    "gosmed.scheduling.simulator",
)

BROKER_HELP = """\
RabbitMQ is not reachable at {host}:{port}.

Start one, then run this again:
  Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached
  Docker:         docker run -d --name gosmed-rabbitmq -p 5672:5672 rabbitmq:3.13
or point GOSMED_AMQP_URL at an existing broker (amqp://user:password@host:5672/vhost).
"""

ADMIN_HELP = """\
RabbitMQ's management API is not reachable ({error}).

gosmed creates its broker users through it. Enable it, then run this again:
  sudo rabbitmq-plugins enable rabbitmq_management
or point GOSMED_BROKER_ADMIN_URL at it (http://user:password@host:15672).
"""


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(amqp_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout):
            return True
    except OSError:
        return False


class DevStack:
    """Starts, supervises and stops the service processes and the edge."""

    def __init__(
        self,
        *,
        edge_port: int = 8000,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.edge_port = edge_port
        self.log_dir = log_dir
        self.env = {**os.environ, **(env or {}), "GOSMED_EDGE_PORT": str(edge_port)}
        self.supervisor = Supervisor(env=self.env, log_dir=log_dir)
        self.amqp_urls: dict[str, str] = {}

    def setup_broker(self) -> None:
        """Vhost, shared exchanges and one broker user per process (idempotent): each process
        connects as itself, with only the rights its queues and exchanges need."""
        settings = BrokerAccessSettings.model_validate(
            {
                "amqp_url": self.env.get("GOSMED_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
                **{
                    field: self.env[variable]
                    for field, variable in (
                        ("admin_url", "GOSMED_BROKER_ADMIN_URL"),
                        ("secrets_file", "GOSMED_BROKER_SECRETS_FILE"),
                    )
                    if variable in self.env
                },
            }
        )
        self.amqp_urls = BrokerAccess(settings).setup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.edge_port}"

    def start(self) -> None:
        self.setup_broker()
        for name in SERVICES:
            self.start_process(name)
        self.start_process("edge")

    def start_process(self, name: str) -> None:
        """Start `name` (a service or `edge`); the supervisor restarts it whenever it exits."""
        if not self.amqp_urls:
            self.setup_broker()
        self.supervisor.start(
            name,
            [sys.executable, "-m", f"gosmed.{name}"],
            env={"GOSMED_AMQP_URL": self.amqp_urls[name]},
        )

    def stop_process(self, name: str) -> None:
        """Stop `name` for good (not restarted) until `start_process`."""
        self.supervisor.stop(name)

    def pid(self, name: str) -> int:
        return self.supervisor.pid(name)

    def stop(self) -> None:
        """SIGTERM everything (each finishes its in-flight messages), SIGKILL stragglers."""
        self.supervisor.stop()

    def load_demo_data(self) -> None:
        for module in DEMO_LOADERS:
            subprocess.run([sys.executable, "-m", module], env=self.env, check=True)  # noqa: S603

    def start_demo_clinics(self) -> None:
        for name, (module, *arguments) in DEMO_CLINICS.items():
            self.supervisor.start(name, [sys.executable, "-m", module, *arguments])

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
    setup_logging("devstack", settings.log_level, settings.log_format)
    if not broker_reachable(settings.amqp_url):
        parts = urlsplit(settings.amqp_url)
        print(BROKER_HELP.format(host=parts.hostname, port=parts.port or 5672), file=sys.stderr)
        return 1
    stack = DevStack(
        edge_port=int(os.environ.get("GOSMED_EDGE_PORT", "8000")),
        env={
            "GOSMED_DEMO_DATA": os.environ.get("GOSMED_DEMO_DATA", "1"),
            # On a developer's machine /readyz shows versions and dependencies.
            "GOSMED_EDGE_READINESS_DETAILS": os.environ.get("GOSMED_EDGE_READINESS_DETAILS", "1"),
        },
    )
    try:
        stack.start()
    except AdminError as error:
        print(ADMIN_HELP.format(error=error), file=sys.stderr)
        return 1
    try:
        stack.wait_ready()
        if stack.env["GOSMED_DEMO_DATA"] == "1":
            stack.load_demo_data()
            stack.start_demo_clinics()
        print(
            f"\ngosmed is up: {stack.base_url}/readyz, API docs at {stack.base_url}/docs. "
            "Ctrl-C stops everything.\n",
            file=sys.stderr,
        )
        while True:  # the supervisor restarts whatever exits, until Ctrl-C or SIGTERM
            signal.pause()
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
