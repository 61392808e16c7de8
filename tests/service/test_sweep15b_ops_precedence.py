"""`guard serve`: an option given wins over its GUARD_* variable, which is then not read;
`guard serve --help` names every GUARD_* setting.

Before: `GUARD_PORT=abc guard serve --port 9000` stopped with "GUARD_PORT must be a
number" although the option overrode it (the variable was parsed first), and the help
said only "settings also from GUARD_* variables", naming none of them: the settings that
have no option (GUARD_RATE_LIMIT, GUARD_REQUEST_TIMEOUT, ...) were found only by reading
service/_settings.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import httpx

from service._settings import Settings
from tests.service._server import LAUNCH, Sidecar


def test_an_override_wins_and_its_variable_is_not_read() -> None:
    env = {"GUARD_PORT": "abc", "GUARD_DOCS": "maybe", "GUARD_WORKERS": "3"}
    settings = Settings.from_env(env, port=9123, docs=False, workers=None)
    assert (settings.port, settings.docs, settings.workers) == (9123, False, 3)


def test_guard_serve_with_a_bad_variable_its_option_overrides(tmp_path: Path) -> None:
    sidecar = Sidecar(
        "--audit",
        f"sqlite:///{tmp_path / 'a.db'}",
        "--policy",
        "marketplace-agent",
        "--no-docs",
        env={"GUARD_PORT": "not-a-port", "GUARD_DOCS": "maybe"},
    )
    try:
        sidecar.wait_ready()
        assert httpx.get(sidecar.url + "/openapi.json").status_code == 404
    finally:
        sidecar.stop()


def test_the_help_names_every_guard_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    missing = [
        f"GUARD_{f.name.upper()}"
        for f in fields(Settings)
        if f"GUARD_{f.name.upper()}" not in done.stdout
    ]
    assert not missing, missing
    assert "an option given wins over its variable" in done.stdout
