"""Keep child processes running: one that exits is started again after a growing pause.

The devstack launcher (`make run`, the end-to-end tests) runs every service through it, so a
crashed service comes back by itself as it would under Docker's `restart:` or Kubernetes.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

STOP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Backoff:
    """Pause before each restart: `first`, doubled after each restart up to `cap`; a process
    that stayed up `reset_after` seconds is healthy again and its next restart waits `first`."""

    first: float = 0.5
    cap: float = 10.0
    reset_after: float = 30.0

    def after(self, delay: float) -> float:
        return min(delay * 2, self.cap)


@dataclass
class Child:
    """One supervised command and its current process."""

    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes]
    restarts: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    watcher: threading.Thread | None = None


def end_group(pid: int) -> None:
    """SIGKILL what is left of the process group `pid` leads (each child has its own): worker
    processes of a crashed service would otherwise live on."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def describe_exit(code: int) -> str:
    """`code 1`, or the signal that ended the process (`SIGKILL`)."""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


class Supervisor:
    """Starts named commands, restarts any that exits (with `Backoff`) until it is stopped."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        log_dir: Path | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.backoff = backoff
        self._children: dict[str, Child] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._envs: dict[str, dict[str, str]] = {}
        # Held while a process is spawned or marked as stopping: no restart after a stop.
        self._lock = threading.Lock()

    def start(
        self, name: str, command: Sequence[str], env: Mapping[str, str] | None = None
    ) -> None:
        """Start `name`; `env` adds to (or overrides) the supervisor's environment for it."""
        with self._lock:
            if name in self._children:
                raise ValueError(f"{name} is already running")
            self._envs[name] = dict(env or {})
            child = self._children[name] = Child(name, command, self._spawn(name, command))
        child.watcher = threading.Thread(target=self._watch, args=(child,), name=name, daemon=True)
        child.watcher.start()

    def pid(self, name: str) -> int:
        return self._children[name].process.pid

    def restarts(self, name: str) -> int:
        """How many times `name` was started again since `start`."""
        return self._children[name].restarts

    def stop(self, *names: str, timeout: float = STOP_TIMEOUT) -> None:
        """Stop `names` (all if none) for good: SIGTERM (each finishes its in-flight messages),
        SIGKILL after `timeout`."""
        with self._lock:
            children = [self._children.pop(n) for n in names or list(self._children)]
            for child in children:
                child.stopping.set()
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                end_group(child.process.pid)
                child.process.wait()
            if child.watcher is not None:
                child.watcher.join()
        if not self._children:
            for output in self._logs.values():
                output.close()
            self._logs.clear()

    def _spawn(self, name: str, command: Sequence[str]) -> subprocess.Popen[bytes]:
        output = self._log(name)
        return subprocess.Popen(  # noqa: S603 (argv from the caller, no shell)
            command,
            env={**self.env, **self._envs.get(name, {})},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops the children
        )

    def _log(self, name: str) -> IO[bytes] | None:
        if self.log_dir is None:
            return None
        if name not in self._logs:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._logs[name] = (self.log_dir / f"{name}.log").open("ab")
        return self._logs[name]

    def _watch(self, child: Child) -> None:
        delay = self.backoff.first
        while True:
            started = time.monotonic()
            process = child.process
            code = process.wait()
            end_group(process.pid)
            if child.stopping.is_set():
                return
            if time.monotonic() - started >= self.backoff.reset_after:
                delay = self.backoff.first
            log.warning(
                "%s (pid %d) exited with %s; restarting in %.1f s",
                child.name,
                process.pid,
                describe_exit(code),
                delay,
            )
            if child.stopping.wait(delay):
                return
            with self._lock:
                if child.stopping.is_set():
                    return
                child.process = self._spawn(child.name, child.command)
                child.restarts += 1
            log.warning("%s restarted (pid %d)", child.name, child.process.pid)
            delay = self.backoff.after(delay)
