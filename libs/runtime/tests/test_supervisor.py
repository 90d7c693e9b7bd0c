"""The supervisor on real child processes: restarts, pauses between them, and stopping."""

import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gosmed.runtime.supervisor import Backoff, Supervisor, describe_exit

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def starts_logger(
    starts: Path, *, exit_code: int, lives: dict[int, float] | None = None
) -> list[str]:
    """A command that appends its start time to `starts`, lives `lives[n]` seconds on its n-th
    start (0 by default), then exits with `exit_code`."""
    script = (
        "import sys, time\n"
        f"path = {str(starts)!r}\n"
        "with open(path, 'a') as f: f.write(f'{time.monotonic()}\\n')\n"
        "n = sum(1 for _ in open(path))\n"
        f"time.sleep({lives or {}!r}.get(n, 0))\n"
        f"sys.exit({exit_code})\n"
    )
    return [sys.executable, "-c", script]


def start_times(starts: Path) -> list[float]:
    return [float(line) for line in starts.read_text().split()] if starts.exists() else []


def wait_until(condition: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    running = Supervisor(
        env=os.environ, log_dir=tmp_path / "logs", backoff=Backoff(first=0.1, cap=0.4)
    )
    yield running
    running.stop(timeout=5)


def test_a_killed_process_is_started_again_and_the_exit_is_logged(
    supervisor: Supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor.start("registry", SLEEPER)
    first = supervisor.pid("registry")

    os.kill(first, signal.SIGKILL)

    wait_until(lambda: supervisor.restarts("registry") == 1)
    second = supervisor.pid("registry")
    assert second != first
    assert alive(second)
    assert f"registry (pid {first}) exited with SIGKILL; restarting in 0.1 s" in caplog.text
    assert f"registry restarted (pid {second})" in caplog.text


def test_what_a_crashed_process_started_dies_with_it(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    """Like the render workers of documents: their parent's crash must not leave them behind."""
    worker_pid = tmp_path / "worker.pid"
    script = (
        "import subprocess, sys, time\n"
        f"worker = subprocess.Popen({SLEEPER!r})\n"
        f"open({str(worker_pid)!r}, 'w').write(str(worker.pid))\n"
        "time.sleep(600)\n"
    )
    supervisor.start("documents", [sys.executable, "-c", script])
    wait_until(lambda: worker_pid.exists() and worker_pid.read_text() != "")
    worker = int(worker_pid.read_text())
    assert alive(worker)

    os.kill(supervisor.pid("documents"), signal.SIGKILL)

    wait_until(lambda: not alive(worker))


def test_pauses_between_restarts_double_up_to_the_cap(
    supervisor: Supervisor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    starts = tmp_path / "starts"
    supervisor.start("crashing", starts_logger(starts, exit_code=3))

    wait_until(lambda: len(start_times(starts)) >= 6)

    times = start_times(starts)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)][:5]
    pauses = [0.1, 0.2, 0.4, 0.4, 0.4]
    assert all(gap >= pause for gap, pause in zip(gaps, pauses, strict=True)), gaps
    # Uncapped, the last two pauses would be 0.8 and 1.6 s; the slack is the child's start.
    assert gaps[-1] < 1.2, gaps
    assert "crashing (pid " in caplog.text
    assert "exited with code 3; restarting in 0.4 s" in caplog.text


def test_a_process_that_stayed_up_long_enough_is_restarted_after_the_first_pause(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    supervisor = Supervisor(env=os.environ, backoff=Backoff(first=0.1, cap=10, reset_after=1.0))
    # Three quick crashes (pauses 0.1, 0.2, 0.4), then up 1.5 s: the next pause is 0.1, not 0.8.
    supervisor.start("flaky", starts_logger(starts, exit_code=1, lives={4: 1.5}))
    try:
        wait_until(lambda: len(start_times(starts)) >= 5)
    finally:
        supervisor.stop(timeout=5)

    times = start_times(starts)
    assert times[3] - times[2] >= 0.4
    after_long_run = times[4] - times[3] - 1.5
    assert 0.1 <= after_long_run < 0.6, after_long_run


def test_stop_ends_every_process_and_restarts_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    starts = tmp_path / "starts"
    supervisor = Supervisor(env=os.environ, backoff=Backoff(first=0.05, cap=0.05))
    supervisor.start("sleeper", SLEEPER)
    supervisor.start("crashing", starts_logger(starts, exit_code=1))
    sleeper = supervisor.pid("sleeper")
    wait_until(lambda: supervisor.restarts("crashing") >= 2)

    supervisor.stop(timeout=5)

    assert not alive(sleeper)
    assert "sleeper (pid" not in caplog.text, "a stopped process is not reported as exited"
    # The watchers are gone, so nothing can start a process any more.
    assert {"sleeper", "crashing"}.isdisjoint(t.name for t in threading.enumerate())
    with pytest.raises(KeyError):
        supervisor.pid("crashing")


def test_one_process_stopped_on_purpose_stays_down_until_started_again(
    supervisor: Supervisor,
) -> None:
    supervisor.start("registry", SLEEPER)
    supervisor.start("records", SLEEPER)
    stopped = supervisor.pid("registry")

    supervisor.stop("registry")

    assert not alive(stopped)
    assert alive(supervisor.pid("records"))
    with pytest.raises(KeyError):
        supervisor.pid("registry")
    supervisor.start("registry", SLEEPER)
    assert alive(supervisor.pid("registry"))
    assert supervisor.restarts("registry") == 0


def test_a_process_is_supervised_once() -> None:
    supervisor = Supervisor(env=os.environ)
    supervisor.start("registry", SLEEPER)
    try:
        with pytest.raises(ValueError, match="already running"):
            supervisor.start("registry", SLEEPER)
    finally:
        supervisor.stop(timeout=5)


def test_the_child_output_goes_to_its_log_file(supervisor: Supervisor, tmp_path: Path) -> None:
    supervisor.start("talker", [sys.executable, "-c", "print('hello from the child')"])
    log = tmp_path / "logs" / "talker.log"
    wait_until(lambda: log.exists() and log.read_text().count("hello from the child") >= 2)


@pytest.mark.parametrize(
    ("code", "described"),
    [(0, "code 0"), (3, "code 3"), (-9, "SIGKILL"), (-15, "SIGTERM"), (-200, "signal 200")],
)
def test_describe_exit(code: int, described: str) -> None:
    assert describe_exit(code) == described
