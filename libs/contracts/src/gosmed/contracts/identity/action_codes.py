"""Confirmation codes of sensitive actions: a service asks identity to send a 6-digit code by
SMS to the person acting, and later to check the code they type (single use, 5 minutes, 5
tries). The code is bound to a `subject` naming the action, so it confirms nothing else."""

from datetime import datetime
from uuid import UUID

from pydantic import Field

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

ACTION_CODE_TTL_SECONDS = 300
ACTION_CODE_TRIES = 5


class IssueActionCode(Message):
    account_id: UUID = Field(description="Who acts: the code goes to their phone.")
    subject: str = Field(
        min_length=1, max_length=200, description="The action, e.g. `lab-result:<id>:delete`."
    )
    action: str = Field(
        min_length=1, max_length=100, description="Russian, for the SMS: «удаление результата»."
    )


class ActionCodeIssued(Contract):
    code_id: UUID
    expires_at: datetime
    sent_to: str = Field(description="The phone it went to, masked.")


class CheckActionCode(Message):
    code_id: UUID
    account_id: UUID
    subject: str = Field(min_length=1, max_length=200)
    code: str = Field(pattern=r"^[0-9]{6}$")


class ActionCodeChecked(Contract):
    """`confirmed` once, for the right code within its time and tries; then never again."""

    confirmed: bool
    tries_left: int = 0


ISSUE_ACTION_CODE = Rpc(Service.IDENTITY, "issue-action-code", IssueActionCode, ActionCodeIssued)
CHECK_ACTION_CODE = Rpc(Service.IDENTITY, "check-action-code", CheckActionCode, ActionCodeChecked)
