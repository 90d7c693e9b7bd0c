"""Redocly's recommended rules find nothing in the OpenAPI document: no error, no warning."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings

REDOCLY = "@redocly/cli@2.77.0"
"""Pinned: a new release may add rules (and a newer one needs Node.js 22)."""


@pytest.mark.timeout(300)
def test_recommended_lint_finds_nothing(edge_settings: EdgeSettings, tmp_path: Path) -> None:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (Node.js) is not installed, so Redocly's lint cannot run")
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(create_app(edge_settings).openapi()))
    lint = subprocess.run(
        [npx, "--yes", REDOCLY, "lint", "--format", "json", str(document)],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert lint.stdout, lint.stderr
    report = json.loads(lint.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]
    assert lint.returncode == 0, lint.stderr
