"""A RabbitMQ node of the fault suite's own, on a free port, so that restarting it harms no
other broker user on the machine (`make run`, the rest of the tests)."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import free_port

STARTS_WITHIN = 90.0


class BrokerNode:
    """`rabbitmq-server` as a second node (`<name>@localhost`) with its own data and port."""

    def __init__(self, name: str) -> None:
        self.node = f"{name}@localhost"
        self.port = free_port()
        self.management_port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.management_port}\n"
        )
        # The management API, through which gosmed creates its broker users.
        (self.folder / "plugins").write_text("[rabbitmq_management].\n")
        self.env = {
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "data"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "plugins"),
        }

    @staticmethod
    def available() -> bool:
        return (
            shutil.which("rabbitmq-server") is not None and shutil.which("rabbitmqctl") is not None
        )

    @property
    def admin_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        # The Debian wrapper runs the server as the `rabbitmq` user: let it write its folder.
        shutil.chown(self.folder, "rabbitmq", "rabbitmq")
        subprocess.run(["rabbitmq-server", "-detached"], env=self._environment(), check=True)
        self.ctl("await_startup", timeout=STARTS_WITHIN)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", timeout=STARTS_WITHIN)

    def stop(self) -> None:
        self.ctl("stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def ctl(self, *command: str, timeout: float = 60.0, check: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                ["rabbitmqctl", "-q", "-n", self.node, *command],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0 or not check:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"rabbitmqctl {' '.join(command)}: {done.stderr.strip()}")
            time.sleep(0.5)  # the node is still booting: rabbitmqctl cannot reach it yet

    def _environment(self) -> dict[str, str]:
        return {**os.environ, **self.env}
