"""Who may answer a correction: a clinic's broker user of this vhost, asking for a reply on
its own queues only."""

from uuid import uuid4

import pytest

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode
from gosmed.records.correction_handlers import answering_clinic
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.broker_access import clinic_user, platform_user

VHOST = "gosmed-test"
CLINIC = uuid4()


def test_a_clinic_user_answers_for_its_organization() -> None:
    user = clinic_user(VHOST, CLINIC)
    replies = topology.clinic_queue(CLINIC, topology.CLINIC_REPLIES)
    assert answering_clinic(VHOST, user, replies) == CLINIC
    assert answering_clinic(VHOST, user, None) == CLINIC


@pytest.mark.parametrize(
    ("user", "reply_to", "code"),
    [
        (None, None, ErrorCode.CLINIC_UNIDENTIFIED),
        (platform_user(VHOST, "edge"), None, ErrorCode.CLINIC_UNKNOWN),
        (clinic_user("another-vhost", CLINIC), None, ErrorCode.CLINIC_UNKNOWN),
        (clinic_user(VHOST, CLINIC), "records.rendered-services", ErrorCode.CLINIC_QUEUE_FORBIDDEN),
        (
            clinic_user(VHOST, CLINIC),
            topology.clinic_queue(uuid4(), topology.CLINIC_REPLIES),
            ErrorCode.CLINIC_QUEUE_FORBIDDEN,
        ),
    ],
)
def test_anyone_else_is_refused_with_the_reason(
    user: str | None, reply_to: str | None, code: ErrorCode
) -> None:
    with pytest.raises(RefusedError) as refused:
        answering_clinic(VHOST, user, reply_to)
    assert refused.value.code == code
