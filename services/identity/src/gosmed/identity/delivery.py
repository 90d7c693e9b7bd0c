"""The SMS gateway adapter (e-mail goes through `gosmed.runtime.mail`)."""

import asyncio
import json
from datetime import datetime
from pathlib import Path


class JsonLinesSmsGateway:
    """Development SMS gateway: appends each SMS as a JSON line to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")

    async def send(self, phone: str, text: str, sent_at: datetime) -> None:
        line = json.dumps(
            {"to": phone, "text": text, "sent_at": sent_at.isoformat()}, ensure_ascii=False
        )
        await asyncio.to_thread(self._append, line)
