"""The rules of login locks (no I/O): which counters a failed login step adds to, and which open
login attempts a lock ends.

Failed steps (wrong password, wrong code) are counted three ways, each with its own limit:

- `pair`: one phone from one client address, the tight limit (`lock_after_failures`). Guessing
  from one place locks that place out of that account, not the owner elsewhere.
- `phone`: one phone from anywhere, a softer limit (`phone_lock_after_failures`, higher), the
  bound on guessing spread over many addresses. Knowing a phone is not enough to lock its owner
  out cheaply.
- `address`: one client address for any phone (`address_lock_after_failures`), against
  password spraying.

Every step (password, code sent, code or TOTP verified) is refused while any of the three is
locked, so a lock cannot be walked around with attempts opened before it.
"""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class LockKind(StrEnum):
    PAIR = "pair"
    PHONE = "phone"
    ADDRESS = "address"


@dataclass(frozen=True)
class LoginLimit:
    """One counter of failed login steps and after how many failures it locks."""

    kind: LockKind
    key: str
    limit: int


@dataclass(frozen=True)
class Thresholds:
    pair: int
    phone: int
    address: int


def login_limits(phone: str, address: str, thresholds: Thresholds) -> tuple[LoginLimit, ...]:
    """The counters a failed step of `phone` from `address` adds to."""
    return (
        LoginLimit(LockKind.PAIR, f"pair:{phone}|{address}", thresholds.pair),
        LoginLimit(LockKind.PHONE, f"phone:{phone}", thresholds.phone),
        LoginLimit(LockKind.ADDRESS, f"address:{address}", thresholds.address),
    )


@dataclass(frozen=True)
class AttemptScope:
    """Open login attempts to end: of `account_id` (None: of any account), started from
    `address` (None: from anywhere), and always `attempt_id` (the one in hand, if any)."""

    account_id: UUID | None
    address: str | None
    attempt_id: UUID | None = None


def ended_by_lock(
    kind: LockKind, account_id: UUID | None, address: str, attempt_id: UUID | None = None
) -> AttemptScope | None:
    """The open attempts a lock of `kind` ends (None: none).

    A pair lock ends the account's attempts started from that address and the attempt whose
    code was guessed (it may have been started elsewhere); a phone lock ends all the account's
    attempts; an address lock ends every attempt started from the address."""
    if kind == LockKind.ADDRESS:
        return AttemptScope(None, address, attempt_id)
    if account_id is None:  # an unknown phone has no attempts
        return None
    if kind == LockKind.PHONE:
        return AttemptScope(account_id, None, attempt_id)
    return AttemptScope(account_id, address, attempt_id)


def may_open_attempt(open_attempts: int, cap: int) -> bool:
    """Whether an account with `open_attempts` unfinished login attempts (the new one
    included) may keep the new one."""
    return open_attempts <= cap
