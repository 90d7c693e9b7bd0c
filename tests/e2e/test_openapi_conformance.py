"""The OpenAPI document tells the truth about the running system.

Schemathesis sends every operation of `/openapi.json` generated requests (a bounded number each,
then sequences along the document's links) with demo data loaded and a demo patient logged in.
Any 5xx, any answer whose status, content type, headers or body the document does not
describe, and any schema-valid request refused without a documented reason fails the run;
`schemathesis.toml` beside this file holds the settings and the few documented exceptions.
"""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gosmed.contracts import demo
from gosmed.runtime.devstack import DevStack
from tests.e2e.identity_support import DEMO_ENV, new_session

CONFIG = Path(__file__).with_name("schemathesis.toml")
RUN_TIMEOUT = 300
"""Seconds the run may take; it takes about 100 on two shared cores."""

SESSIONS = {
    "GOSMED_TEST_ACCESS_TOKEN": demo.PATIENT,
    "GOSMED_TEST_LOGOUT_TOKEN": demo.PARENT,
    "GOSMED_TEST_END_SESSIONS_TOKEN": demo.REPRESENTATIVE,
}
"""The variables of schemathesis.toml, each the access token of a session of its own."""


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    # Tokens that outlive the run, so that only the operations under test end sessions.
    return {**DEMO_ENV, "GOSMED_IDENTITY_ACCESS_TOKEN_TTL": str(3 * RUN_TIMEOUT)}


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_every_operation_answers_as_the_document_says(
    stack: DevStack, edge: httpx.Client, tmp_path: Path
) -> None:
    stack.load_demo_data()
    tokens = {name: new_session(edge, person)["access_token"] for name, person in SESSIONS.items()}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"]
    run = subprocess.run(
        [*command, f"{stack.base_url}/openapi.json", "--no-color"],
        env={**os.environ, **tokens},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-30000:] + run.stderr[-5000:]
    paths = edge.get("/openapi.json").json()["paths"]
    operations = sum(len(item) for item in paths.values())
    assert f"Tested: {operations}\n" in run.stdout, run.stdout[-3000:]
