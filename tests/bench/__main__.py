import asyncio
import sys
from importlib import import_module

from gosmed.runtime.devstack import stop_on_sigterm

BENCHMARKS = ("rpc", "registry", "records", "documents", "listpage", "scheduling")


def main() -> None:
    stop_on_sigterm()  # a killed benchmark still stops the processes it started
    chosen = sys.argv[1:] or list(BENCHMARKS)
    for name in chosen:
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    for name in chosen:
        asyncio.run(import_module(f"tests.bench.{name}").run())


main()
