"""Confirmation codes of other services' actions: sent by SMS to the person acting, bound to
the action, single use, 5 minutes, 5 tries; only a digest is stored."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from gosmed.contracts import demo
from gosmed.contracts.identity.action_codes import CheckActionCode, IssueActionCode
from gosmed.identity import demo as identity_demo
from gosmed.identity.action_codes import ActionCodes
from gosmed.identity.service import Repositories

from .support import Clock

PATIENT = identity_demo.account_id(demo.PATIENT)
SUBJECT = "lab-result:1:delete"


@dataclass
class Phone:
    texts: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, phone: str, text: str, sent_at: datetime) -> None:
        self.texts.append((phone, text))

    def code(self) -> str:
        (code,) = re.findall(r"\b\d{6}\b", self.texts[-1][1])
        return str(code)


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def codes(database: Any, repos: Repositories, phone: Phone, clock: Clock) -> ActionCodes:
    return ActionCodes(database, repos.accounts, phone, clock)


async def issue(codes: ActionCodes) -> UUID:
    issued = await codes.issue(
        IssueActionCode(account_id=PATIENT, subject=SUBJECT, action="удаление результата")
    )
    assert issued.sent_to != demo.PATIENT.phone  # masked
    return issued.code_id


def check(code_id: UUID, code: str, subject: str = SUBJECT) -> CheckActionCode:
    return CheckActionCode(code_id=code_id, account_id=PATIENT, subject=subject, code=code)


async def test_the_code_goes_by_sms_and_confirms_once(
    codes: ActionCodes, phone: Phone, database: Any
) -> None:
    code_id = await issue(codes)
    assert phone.texts[-1][0] == demo.PATIENT.phone
    code = phone.code()
    stored = await database["action_codes"].find_one({"_id": str(code_id)})
    assert code not in str(stored)

    assert not (await codes.check(check(code_id, code, "lab-result:2:delete"))).confirmed
    assert (await codes.check(check(code_id, code))).confirmed
    assert not (await codes.check(check(code_id, code))).confirmed  # single use


async def test_five_wrong_tries_spend_the_code(codes: ActionCodes, phone: Phone) -> None:
    code_id = await issue(codes)
    wrong = "000000" if phone.code() != "000000" else "111111"
    left = [(await codes.check(check(code_id, wrong))).tries_left for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    assert not (await codes.check(check(code_id, phone.code()))).confirmed


async def test_the_code_lasts_five_minutes(codes: ActionCodes, phone: Phone, clock: Clock) -> None:
    code_id = await issue(codes)
    clock.advance(301)
    assert not (await codes.check(check(code_id, phone.code()))).confirmed
