"""Login attempts, SMS login challenges and failure counters, in the store."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gosmed.identity.domain import (
    FailureCount,
    FirstFactor,
)
from gosmed.identity.login_limits import AttemptScope

log = logging.getLogger(__name__)

Document = dict[str, Any]


# Failure counters idle this long are deleted (longer than any failure window or lock).
FAILURE_RETENTION_SECONDS = 86_400


@dataclass(frozen=True)
class SentCode:
    digest: str
    expires_at: datetime
    sent_at: datetime


@dataclass(frozen=True)
class LoginAttempt:
    id: UUID
    account_id: UUID
    expires_at: datetime
    failures: int
    completed: bool
    codes: dict[str, SentCode]
    first_factor: FirstFactor = FirstFactor.PASSWORD


class _LoginSteps:
    """What login attempts and SMS login challenges share: wrong codes are counted, a step is
    passed once, and a lock ends the open ones it covers."""

    def __init__(self, collection: Any) -> None:
        self._steps = collection

    async def ensure_indexes(self) -> None:
        await self._steps.create_index("expires_at", expireAfterSeconds=3600)
        await self._steps.create_index([("account_id", ASCENDING), ("completed", ASCENDING)])
        await self._steps.create_index([("client_address", ASCENDING), ("completed", ASCENDING)])

    async def end_open(self, scope: AttemptScope, now: datetime) -> int:
        """End the open steps in `scope` (they can no longer send or check a code);
        how many were ended."""
        matches: list[Document] = []
        if scope.account_id is not None or scope.address is not None:
            chosen: Document = {}
            if scope.account_id is not None:
                chosen["account_id"] = str(scope.account_id)
            if scope.address is not None:
                chosen["client_address"] = scope.address
            matches.append(chosen)
        if scope.attempt_id is not None:
            matches.append({"_id": str(scope.attempt_id)})
        if not matches:
            return 0
        result = await self._steps.update_many(
            {"completed": False, "expires_at": {"$gt": now}, "$or": matches},
            {"$set": {"completed": True, "ended_by_lock": now}},
        )
        return int(result.modified_count)

    async def count_failure(self, step_id: UUID) -> int:
        doc = await self._steps.find_one_and_update(
            {"_id": str(step_id)},
            {"$inc": {"failures": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["failures"]) if doc else 0

    async def complete(self, step_id: UUID, max_failures: int) -> bool:
        """Mark the step passed; only one concurrent caller can succeed."""
        result = await self._steps.update_one(
            {"_id": str(step_id), "completed": False, "failures": {"$lt": max_failures}},
            {"$set": {"completed": True}},
        )
        return bool(result.modified_count)


class LoginAttemptRepository(_LoginSteps):
    """Logins whose first factor passed, waiting for their second."""

    def __init__(self, database: Any) -> None:
        self.attempts = database["login_attempts"]
        super().__init__(self.attempts)

    async def add(
        self,
        attempt_id: UUID,
        account_id: UUID,
        expires_at: datetime,
        client_address: str,
        first_factor: FirstFactor = FirstFactor.PASSWORD,
    ) -> None:
        await self.attempts.insert_one(
            {
                "_id": str(attempt_id),
                "account_id": str(account_id),
                "client_address": client_address,
                "expires_at": expires_at,
                "failures": 0,
                "completed": False,
                "codes": {},
                "first_factor": first_factor.value,
            }
        )

    async def remove(self, attempt_id: UUID) -> None:
        await self.attempts.delete_one({"_id": str(attempt_id)})

    async def open_count(self, account_id: UUID, now: datetime, max_failures: int) -> int:
        """Login attempts of the account that are unfinished, unexpired and have code tries
        left."""
        return int(
            await self.attempts.count_documents(
                {
                    "account_id": str(account_id),
                    "completed": False,
                    "expires_at": {"$gt": now},
                    "failures": {"$lt": max_failures},
                }
            )
        )

    async def get(self, attempt_id: UUID) -> LoginAttempt | None:
        doc = await self.attempts.find_one({"_id": str(attempt_id)})
        if doc is None:
            return None
        return LoginAttempt(
            id=attempt_id,
            account_id=UUID(doc["account_id"]),
            expires_at=doc["expires_at"],
            failures=doc["failures"],
            completed=doc["completed"],
            codes={k: SentCode(**v) for k, v in doc["codes"].items()},
            first_factor=FirstFactor(doc.get("first_factor", FirstFactor.PASSWORD)),
        )

    async def store_code(
        self, attempt_id: UUID, factor: str, code: SentCode, resend_after: timedelta
    ) -> bool:
        """Keep a new code of `factor`; False if the previous one was sent too recently."""
        not_recent = {
            "$or": [
                {f"codes.{factor}": {"$exists": False}},
                {f"codes.{factor}.sent_at": {"$lte": code.sent_at - resend_after}},
            ]
        }
        result = await self.attempts.update_one(
            {"_id": str(attempt_id), "completed": False, **not_recent},
            {"$set": {f"codes.{factor}": code.__dict__}},
        )
        return bool(result.modified_count)


@dataclass(frozen=True)
class SmsChallenge:
    """The first step of a login by SMS code: the code sent to `phone`. `account_id` is None
    for a phone without an account (no SMS went out; no code can pass)."""

    id: UUID
    phone: str
    account_id: UUID | None
    expires_at: datetime
    digest: str
    failures: int = 0
    completed: bool = False


class SmsChallengeRepository(_LoginSteps):
    """SMS login challenges, and when a code last went to each phone (the resend interval
    holds per phone, known or not)."""

    def __init__(self, database: Any) -> None:
        self.challenges = database["sms_login_challenges"]
        self.sends = database["sms_login_sends"]
        super().__init__(self.challenges)

    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        # Kept longer than any resend interval.
        await self.sends.create_index("sent_at", expireAfterSeconds=FAILURE_RETENTION_SECONDS)

    async def claim_send(self, phone: str, now: datetime, resend_after: timedelta) -> bool:
        """Record a code sent to `phone` now; False if the previous one went too recently
        (of concurrent callers, one wins)."""
        try:
            await self.sends.update_one(
                {"_id": phone, "sent_at": {"$lte": now - resend_after}},
                {"$set": {"sent_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def add(self, challenge: SmsChallenge, client_address: str) -> None:
        await self.challenges.insert_one(
            {
                "_id": str(challenge.id),
                "phone": challenge.phone,
                "account_id": str(challenge.account_id) if challenge.account_id else None,
                "client_address": client_address,
                "expires_at": challenge.expires_at,
                "digest": challenge.digest,
                "failures": 0,
                "completed": False,
            }
        )

    async def get(self, challenge_id: UUID) -> SmsChallenge | None:
        doc = await self.challenges.find_one({"_id": str(challenge_id)})
        if doc is None:
            return None
        return SmsChallenge(
            id=challenge_id,
            phone=doc["phone"],
            account_id=UUID(doc["account_id"]) if doc["account_id"] else None,
            expires_at=doc["expires_at"],
            digest=doc["digest"],
            failures=doc["failures"],
            completed=doc["completed"],
        )


class FailureRepository:
    """Failed logins per counter of `login_limits` (keys `pair:…`, `phone:…`, `address:…`),
    and support requests per account or address (`support:…`, see `support_rules.limit_key`)."""

    def __init__(self, database: Any) -> None:
        self.failures = database["login_failures"]

    async def ensure_indexes(self) -> None:
        await self.failures.create_index(
            "window_start", expireAfterSeconds=FAILURE_RETENTION_SECONDS
        )

    async def get(self, key: str) -> FailureCount:
        doc = await self.failures.find_one({"_id": key})
        if doc is None:
            return FailureCount()
        return FailureCount(doc["failures"], doc.get("locked_until"))

    async def count(
        self, key: str, now: datetime, limit: int, window: timedelta, lock: timedelta
    ) -> FailureCount:
        """Add a failure; failures older than `window` are forgotten, and at `limit` failures
        the key is locked for `lock` and counting starts anew."""
        await self.failures.update_one(
            {"_id": key, "window_start": {"$lt": now - window}},
            {"$set": {"failures": 0, "window_start": now}},
        )
        doc = await self.failures.find_one_and_update(
            {"_id": key},
            {"$inc": {"failures": 1}, "$setOnInsert": {"window_start": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc["failures"] >= limit:
            await self.failures.update_one(
                {"_id": key},
                {"$set": {"failures": 0, "window_start": now, "locked_until": now + lock}},
            )
            return FailureCount(doc["failures"], now + lock, lock_started=True)
        return FailureCount(doc["failures"], doc.get("locked_until"))

    async def clear(self, key: str) -> None:
        await self.failures.delete_one({"_id": key})
