"""The SMS login routes on a fake RPC caller: what they send to identity, their statuses, and
the refusals of the factor rule as problem+json."""

from datetime import timedelta
from uuid import uuid4

import httpx

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.auth import (
    SEND_LOGIN_CODE,
    START_SMS_LOGIN,
    VERIFY_LOGIN,
    VERIFY_SMS_LOGIN,
    LoginChallenge,
    SecondFactor,
    SmsLoginStarted,
)
from gosmed.runtime.testing import FakeRpc


async def test_asking_for_a_code_answers_202_with_the_challenge(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    now = utc_now()
    started = SmsLoginStarted(
        challenge_id=uuid4(), expires_at=now + timedelta(minutes=5), resend_after=now
    )
    rpc.reply(START_SMS_LOGIN, started)
    response = await client.post("/api/v1/auth/login/sms", json={"phone": "+79161000001"})
    assert response.status_code == 202, response.text
    assert response.json()["challenge_id"] == str(started.challenge_id)
    [sent] = rpc.sent(START_SMS_LOGIN)
    assert sent.phone == "+79161000001"
    assert sent.client_address == "127.0.0.1"


async def test_too_soon_for_a_new_code_is_429(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    rpc.fail(START_SMS_LOGIN, ServiceError(ErrorCode.RATE_LIMITED, "Код уже отправлен."))
    response = await client.post("/api/v1/auth/login/sms", json={"phone": "+79161000001"})
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


async def test_the_sms_code_answers_the_second_factors(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    challenge = LoginChallenge(
        attempt_id=uuid4(), factors=(SecondFactor.TOTP, SecondFactor.EMAIL), expires_at=utc_now()
    )
    rpc.reply(VERIFY_SMS_LOGIN, challenge)
    challenge_id = uuid4()
    body = {"challenge_id": str(challenge_id), "code": "123456"}
    response = await client.post("/api/v1/auth/login/sms/verify", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["factors"] == ["totp", "email"]
    [sent] = rpc.sent(VERIFY_SMS_LOGIN)
    assert (sent.challenge_id, sent.code) == (challenge_id, "123456")


async def test_a_code_that_is_not_six_digits_is_422_without_asking_identity(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    body = {"challenge_id": str(uuid4()), "code": "12345"}
    response = await client.post("/api/v1/auth/login/sms/verify", json=body)
    assert response.status_code == 422
    assert rpc.sent(VERIFY_SMS_LOGIN) == []


async def test_no_second_factor_is_409_with_its_code(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.fail(VERIFY_SMS_LOGIN, ServiceError(ErrorCode.NO_SECOND_FACTOR))
    body = {"challenge_id": str(uuid4()), "code": "123456"}
    response = await client.post("/api/v1/auth/login/sms/verify", json=body)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "no_second_factor"
    assert "Войдите по паролю" in response.json()["detail"]


async def test_an_sms_second_factor_refused_by_identity_is_409_factor_not_allowed(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    refusal = ServiceError(ErrorCode.FACTOR_NOT_ALLOWED)
    rpc.fail(SEND_LOGIN_CODE, refusal)
    rpc.fail(VERIFY_LOGIN, refusal)
    attempt_id = str(uuid4())
    sent = await client.post(
        "/api/v1/auth/mfa/code", json={"attempt_id": attempt_id, "factor": "sms"}
    )
    checked = await client.post(
        "/api/v1/auth/mfa", json={"attempt_id": attempt_id, "factor": "sms", "code": "123456"}
    )
    for response in (sent, checked):
        assert response.status_code == 409
        assert response.json()["code"] == "factor_not_allowed"
        assert response.json()["title"] == response.json()["detail"]
