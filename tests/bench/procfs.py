"""Processes and their CPU time, read from Linux's /proc."""

import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat from the third (state) on; the second, (comm), may hold
    spaces and parentheses."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far, all its threads."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _argv(pid: int) -> list[str]:
    """The command line; empty for a kernel thread."""
    text = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace")
    return text.removesuffix("\0").split("\0") if text else []


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def children(parent: int) -> dict[int, list[str]]:
    """The running children of a process, with their command lines."""
    found = {}
    for pid in _pids():
        try:
            if int(_stat_fields(pid)[1]) == parent:
                found[pid] = _argv(pid)
        except (OSError, ValueError):  # ended meanwhile
            continue
    return found


def rabbitmq() -> int | None:
    """The Erlang VM of a RabbitMQ server on this machine, if one runs here."""
    for pid in _pids():
        try:
            argv = _argv(pid)
        except OSError:
            continue
        if argv and Path(argv[0]).name == "beam.smp" and any("rabbit" in a for a in argv):
            return pid
    return None
