"""Log in as a demo person through the edge, as the person would: phone, password, TOTP.

In a test module:

    from tests.e2e.identity_support import DEMO_ENV, login

    @pytest.fixture(scope="module")
    def stack_env() -> dict[str, str]:
        return DEMO_ENV          # the stack seeds the demo people

    def test_something(edge: httpx.Client) -> None:
        headers = login(edge, demo.PATIENT)
        me = edge.get("/api/v1/me", headers=headers).json()

`patient_id(person)` is a demo person's account id (the `{patient_id}` of `/patients/...` paths).
`login` keeps one session per person and stack (the TOTP code of a time step can be used only
once, so logging in again and again would wait for new codes); call `new_session` for a session
of the test's own, e.g. to log it out.
"""

import time
from typing import Any

import httpx
import pyotp

from gosmed.contracts.demo import DemoPerson
from gosmed.identity.demo import account_id as demo_account_id

DEMO_ENV = {"GOSMED_DEMO_DATA": "1"}

# Tokens of the cached sessions and when they were obtained (time.monotonic()).
_sessions: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
REFRESH_MARGIN = 30.0
_last_totp_step: dict[tuple[str, str], int] = {}


def totp_code(edge: httpx.Client, person: DemoPerson) -> str:
    """A TOTP code of the person's app that the server has not seen used yet.

    The server accepts the current, previous and next 30-second step, each once; after the
    next step has been used, this waits for the clock to reach it.
    """
    assert person.totp_secret is not None, f"{person.key} has no authenticator app"
    totp = pyotp.TOTP(person.totp_secret)
    key = (str(edge.base_url), person.key)
    step = max(totp.timecode(time.time()), _last_totp_step.get(key, -1) + 1)
    while step > totp.timecode(time.time()) + 1:
        time.sleep(0.5)
    _last_totp_step[key] = step
    return totp.generate_otp(step)


def start_login(edge: httpx.Client, person: DemoPerson) -> str:
    """Phone and password; the login attempt id."""
    response = edge.post(
        "/api/v1/auth/login", json={"phone": person.phone, "password": person.password}
    )
    assert response.status_code == 200, response.text
    attempt_id: str = response.json()["attempt_id"]
    return attempt_id


def new_session(edge: httpx.Client, person: DemoPerson) -> dict[str, Any]:
    """A fresh session: the answer of POST /auth/mfa (access and refresh tokens)."""
    attempt_id = start_login(edge, person)
    response = edge.post(
        "/api/v1/auth/mfa",
        json={"attempt_id": attempt_id, "factor": "totp", "code": totp_code(edge, person)},
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def login(edge: httpx.Client, person: DemoPerson) -> dict[str, str]:
    """Authorization headers of the person's session on this stack (opened once, refreshed
    shortly before the access token expires)."""
    key = (str(edge.base_url), person.key)
    if key not in _sessions:
        _sessions[key] = (new_session(edge, person), time.monotonic())
    tokens, obtained = _sessions[key]
    if time.monotonic() - obtained > tokens["expires_in"] - REFRESH_MARGIN:
        response = edge.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        fresh = response.json() if response.status_code == 200 else new_session(edge, person)
        _sessions[key] = tokens, obtained = fresh, time.monotonic()
    return bearer(tokens)


def patient_id(person: DemoPerson) -> str:
    """A demo person's account id without logging in (fixed: the same on every start), e.g. for
    the 10-year-old, who has no login."""
    return str(demo_account_id(person))


def account_id(edge: httpx.Client, person: DemoPerson) -> str:
    """The person's account id (the patient id of `/patients/{patient_id}/...` paths)."""
    response = edge.get("/api/v1/me", headers=login(edge, person))
    assert response.status_code == 200, response.text
    found: str = response.json()["account_id"]
    return found
