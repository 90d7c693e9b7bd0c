"""A whole gosmed system of some checkout, started by that checkout's own launcher
(`python -m gosmed.runtime.devstack`, as `make run` starts it, with the demo data), and a
checkout of another revision in a temporary folder with its own virtual environment."""

import io
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.bench import procfs

REPO = Path(__file__).resolve().parents[2]
# What the launcher prints once every service answers and the demo data is loaded.
UP_LINE = b"gosmed is up"
START_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0
# Set by `uv run` for this checkout; a system of another checkout has its own environment.
FOREIGN_ENV = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "GOSMED_MONGODB_URL")


@dataclass(frozen=True)
class Checkout:
    root: Path
    python: Path
    revision: str  # a commit, or `git describe --dirty` of this checkout


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def this_checkout() -> Checkout:
    return Checkout(REPO, Path(sys.executable), git("describe", "--always", "--dirty"))


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}


@contextmanager
def checkout(revision: str) -> Iterator[Checkout]:
    """The tree of `revision` (git archive, so this repository's worktrees stay untouched) in
    a temporary folder, with its own `uv sync --frozen`; removed afterwards."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix=f"gosmed-{commit[:7]}-") as folder:
        tree = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(tree)) as archive:
            archive.extractall(folder, filter="data")
        subprocess.run(
            [os.environ.get("UV", "uv"), "sync", "--frozen", "--no-dev", "--quiet"],
            cwd=folder,
            env=_clean_env(),
            check=True,
        )
        yield Checkout(Path(folder), Path(folder) / ".venv" / "bin" / "python", commit)


class System:
    """The launcher of one checkout and the service processes it starts; its output (and its
    children's) goes to `log`."""

    def __init__(self, tree: Checkout, *, edge_port: int, env: dict[str, str], log: Path) -> None:
        self.tree = tree
        self.base_url = f"http://127.0.0.1:{edge_port}"
        self.env = {**_clean_env(), **env, "GOSMED_EDGE_PORT": str(edge_port)}
        self.log = log
        self.launcher: subprocess.Popen[bytes] | None = None

    @contextmanager
    def running(self) -> Iterator["System"]:
        """Started and up (demo data loaded) inside the block, stopped after it."""
        with self.log.open("ab") as output:
            self.launcher = subprocess.Popen(
                [str(self.tree.python), "-m", "gosmed.runtime.devstack"],
                cwd=self.tree.root,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped by us, in order, not by a terminal's Ctrl-C
            )
        try:
            self._wait_up()
            yield self
        finally:
            self._stop()

    def _wait_up(self) -> None:
        assert self.launcher is not None
        deadline = time.monotonic() + START_TIMEOUT
        while UP_LINE not in self.log.read_bytes():
            if self.launcher.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the system did not come up ({self.log}):\n{tail}")
            time.sleep(0.5)

    def processes(self) -> dict[str, int]:
        """Process id of each service (`gosmed.<name>`) the launcher runs."""
        assert self.launcher is not None
        found = {}
        for pid, argv in procfs.children(self.launcher.pid).items():
            module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else ""
            if module.startswith("gosmed."):
                found[module.removeprefix("gosmed.")] = pid
        return found

    def _stop(self) -> None:
        """As Ctrl-C on `make run`: the launcher stops every service, then exits."""
        assert self.launcher is not None
        services = self.processes()
        self.launcher.send_signal(signal.SIGTERM)
        try:
            self.launcher.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            for pid in services.values():
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.launcher.kill()
            self.launcher.wait()
