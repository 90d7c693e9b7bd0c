"""The rules of login locks, without a store: counters, what a lock ends, the open-attempt cap."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from gosmed.identity.domain import FailureCount
from gosmed.identity.login_limits import (
    AttemptScope,
    LockKind,
    LoginLimit,
    Thresholds,
    ended_by_lock,
    login_limits,
    may_open_attempt,
)

PHONE, ADDRESS = "+79161000001", "192.0.2.10"


def test_a_failure_counts_for_the_pair_the_phone_and_the_address_each_with_its_limit() -> None:
    assert login_limits(PHONE, ADDRESS, Thresholds(pair=5, phone=30, address=20)) == (
        LoginLimit(LockKind.PAIR, "pair:+79161000001|192.0.2.10", 5),
        LoginLimit(LockKind.PHONE, "phone:+79161000001", 30),
        LoginLimit(LockKind.ADDRESS, "address:192.0.2.10", 20),
    )


def test_the_same_phone_from_another_address_is_another_pair() -> None:
    thresholds = Thresholds(pair=5, phone=30, address=20)
    here = login_limits(PHONE, ADDRESS, thresholds)
    there = login_limits(PHONE, "198.51.100.7", thresholds)
    assert here[0].key != there[0].key
    assert here[1] == there[1]  # the phone's softer limit is shared


def test_a_pair_lock_ends_the_accounts_attempts_from_that_address_and_the_one_in_hand() -> None:
    account, attempt = uuid4(), uuid4()
    assert ended_by_lock(LockKind.PAIR, account, ADDRESS, attempt) == AttemptScope(
        account, ADDRESS, attempt
    )


def test_a_phone_lock_ends_all_the_accounts_attempts() -> None:
    account = uuid4()
    assert ended_by_lock(LockKind.PHONE, account, ADDRESS) == AttemptScope(account, None)


def test_an_address_lock_ends_every_attempt_begun_there() -> None:
    assert ended_by_lock(LockKind.ADDRESS, uuid4(), ADDRESS) == AttemptScope(None, ADDRESS)
    assert ended_by_lock(LockKind.ADDRESS, None, ADDRESS) == AttemptScope(None, ADDRESS)


def test_a_lock_of_an_unknown_phone_ends_nothing() -> None:
    assert ended_by_lock(LockKind.PAIR, None, ADDRESS) is None
    assert ended_by_lock(LockKind.PHONE, None, ADDRESS) is None


def test_open_attempts_up_to_the_cap_are_kept() -> None:
    assert may_open_attempt(5, 5)
    assert not may_open_attempt(6, 5)


def test_a_lock_lasts_until_its_end() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    lock = FailureCount(5, now + timedelta(seconds=60), lock_started=True)
    assert lock.locked(now)
    assert lock.locked(now + timedelta(seconds=59))
    assert not lock.locked(now + timedelta(seconds=60))
    assert not FailureCount(4).locked(now)
