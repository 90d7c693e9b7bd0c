"""Write the AsyncAPI document of every service's queues and messages, for clinics.

`make asyncapi` runs `python -m gosmed.runtime.asyncapi docs/asyncapi.json`. Services are
imported by name, as the launcher starts them, so the runtime library does not depend on them.
"""

import json
import sys
from importlib import import_module
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from gosmed.contracts.topology import Service
from gosmed.runtime.service import ServiceRuntime

DESCRIPTION = """\
Очереди и сообщения gosmed для медицинских организаций и интеграторов.

Clinics publish commands (for example rendered-service reports) to the durable queues below and
may bind their own queues to the `gosmed.events` topic exchange. Every message is JSON (UTF-8)
with `message_id` (UUID, used to drop duplicates) and `occurred_at` (ISO 8601 with a time zone).
A message that fails validation is moved to `<queue>.dead-letter` with the headers
`x-gosmed-error-code` and `x-gosmed-error-reason` (Russian).
"""


def build_document() -> dict[str, Any]:
    runtimes: list[ServiceRuntime] = [
        import_module(f"gosmed.{service.value}.main").create() for service in Service
    ]
    spec = AsyncAPI(
        *(runtime.broker for runtime in runtimes),
        title="gosmed",
        version=version("gosmed-contracts"),
        description=DESCRIPTION,
    )
    for runtime in runtimes:
        runtime.store.close()
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/asyncapi.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
