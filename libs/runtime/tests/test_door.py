"""The clinics' door: who sent a clinic's message, and where it may be answered."""

from uuid import uuid4

import pytest

from gosmed.contracts.errors import ErrorCode
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.broker_access import clinic_user
from gosmed.runtime.door import sending_clinic

VHOST = "gosmed-test"


def test_the_sender_is_the_clinic_of_the_user_id_and_answers_go_to_its_own_queues() -> None:
    org, other = uuid4(), uuid4()
    user = clinic_user(VHOST, org)
    assert sending_clinic(VHOST, user, queues={"reply_to": f"clinic.{org}.replies"}) == org
    assert sending_clinic(VHOST, user, claimed=org, queues={"reply_to": None}) == org
    for user_id, claimed, reply_to, code in [
        (None, None, None, ErrorCode.CLINIC_UNIDENTIFIED),
        (f"{VHOST}.feedback", None, None, ErrorCode.CLINIC_UNKNOWN),
        (user, other, None, ErrorCode.ORGANIZATION_MISMATCH),
        (user, None, f"clinic.{other}.replies", ErrorCode.CLINIC_QUEUE_FORBIDDEN),
        (user, None, "feedback.answer-review", ErrorCode.CLINIC_QUEUE_FORBIDDEN),
    ]:
        with pytest.raises(RefusedError) as refused:
            sending_clinic(VHOST, user_id, claimed=claimed, queues={"reply_to": reply_to})
        assert refused.value.code is code, (user_id, claimed, reply_to)


def test_a_refusal_names_both_organizations_and_the_field_of_a_foreign_queue() -> None:
    org, other = uuid4(), uuid4()
    with pytest.raises(RefusedError) as mismatch:
        sending_clinic(VHOST, clinic_user(VHOST, other), claimed=org)
    assert str(org) in mismatch.value.message
    assert str(other) in mismatch.value.message
    with pytest.raises(RefusedError, match="sync_queue"):
        sending_clinic(
            VHOST, clinic_user(VHOST, org), queues={"sync_queue": "identity.rpc.start-login"}
        )
