"""Confirmation codes of sensitive actions of other services (e.g. deleting a lab result):
a 6-digit code by SMS to the person acting, bound to the action, single use, 5 minutes, 5
tries. Only a digest of the code is stored."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from motor.motor_asyncio import AsyncIOMotorDatabase

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.action_codes import (
    ACTION_CODE_TRIES,
    ACTION_CODE_TTL_SECONDS,
    ActionCodeChecked,
    ActionCodeIssued,
    CheckActionCode,
    IssueActionCode,
)
from gosmed.identity.credentials import code_digest, codes_equal, new_code
from gosmed.identity.repository import AccountRepository
from gosmed.identity.service import SmsGateway
from gosmed.runtime.masking import mask_phone

NO_PHONE = "В профиле нет номера телефона для кода подтверждения."


class ActionCodes:
    def __init__(
        self,
        database: AsyncIOMotorDatabase[Any],
        accounts: AccountRepository,
        sms: SmsGateway,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.codes = database["action_codes"]
        self.accounts = accounts
        self.sms = sms
        self.clock = clock

    async def ensure_indexes(self) -> None:
        await self.codes.create_index("expires_at", expireAfterSeconds=24 * 3600)

    async def issue(self, request: IssueActionCode) -> ActionCodeIssued:
        account = await self.accounts.get(request.account_id)
        if account is None or not account.phone:
            raise ServiceError(ErrorCode.CONFLICT, NO_PHONE)
        now = self.clock()
        code_id, code = uuid4(), new_code()
        expires_at = now + timedelta(seconds=ACTION_CODE_TTL_SECONDS)
        await self.codes.insert_one(
            {
                "_id": str(code_id),
                "account_id": str(request.account_id),
                "subject": request.subject,
                "digest": code_digest(code_id, code),
                "expires_at": expires_at,
                "tries_left": ACTION_CODE_TRIES,
                "used": False,
            }
        )
        await self.sms.send(
            account.phone,
            f"Код {code} подтверждает: {request.action}. Действует 5 минут. Никому его не "
            "сообщайте.",
            now,
        )
        return ActionCodeIssued(
            code_id=code_id, expires_at=expires_at, sent_to=mask_phone(account.phone)
        )

    async def check(self, request: CheckActionCode) -> ActionCodeChecked:
        """Confirmed once for the right code in time; a wrong one spends a try."""
        live = {
            "_id": str(request.code_id),
            "account_id": str(request.account_id),
            "subject": request.subject,
            "used": False,
            "tries_left": {"$gt": 0},
            "expires_at": {"$gt": self.clock()},
        }
        doc = await self.codes.find_one(live)
        if doc is None:
            return ActionCodeChecked(confirmed=False)
        if codes_equal(doc["digest"], request.code_id, request.code):
            used = await self.codes.update_one(live, {"$set": {"used": True}})
            return ActionCodeChecked(confirmed=used.modified_count == 1)
        spent = await self.codes.find_one_and_update(
            live, {"$inc": {"tries_left": -1}}, projection={"tries_left": 1}, return_document=True
        )
        return ActionCodeChecked(confirmed=False, tries_left=spent["tries_left"] if spent else 0)
