"""GUARD_* settings an operator gets wrong are refused at start, naming the setting.

Before:
- `GUARD_AUDIT=` (set but empty, as `GUARD_AUDIT=${AUDIT_URL}` gives when AUDIT_URL is
  unset) or `--audit ""` served with a log kept in memory: every decision's record was
  lost when the process stopped, and nothing said so.
- `GUARD_HOST=` bound every interface's wildcard address ("").
- `GUARD_RATE_LIMIT=lots` stopped with `couldn't parse rate limit string 'lots'`, naming
  no setting; `10/second;100/minute` silently applied the first limit only; `0/minute`
  started a server refusing every request with 429.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service._settings import Settings, SettingsError
from tests.service._server import LAUNCH, free_port


@pytest.mark.parametrize("name", ["AUDIT", "HOST", "POLICY", "RATE_LIMIT", "LOG_LEVEL"])
def test_a_string_setting_set_but_empty_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=f"GUARD_{name} is set but empty"):
        Settings.from_env({f"GUARD_{name}": ""})


@pytest.mark.parametrize("name", ["KEYS", "REDIS", "SHADOW", "SIGNING_KEY", "SESSION_SECRET"])
def test_an_optional_setting_set_but_empty_is_unset(name: str) -> None:
    assert getattr(Settings.from_env({f"GUARD_{name}": ""}), name.lower()) is None


@pytest.mark.parametrize("audit", ["", "   "])
def test_an_empty_audit_url_is_refused(audit: str) -> None:
    with pytest.raises(SettingsError, match=r"audit \(GUARD_AUDIT\) is empty"):
        Settings(audit=audit)


def test_memory_audit_is_still_taken_when_asked_for() -> None:
    assert Settings(audit="memory://").audit == "memory://"


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("lots", ""),
        ("1e3/minute", ""),
        ("5/fortnight", ""),
        ("10/second;100/minute", "one limit per key is applied, not 2"),
        ("10/second, 100/minute", "one limit per key is applied, not 2"),
        ("0/minute", "a limit of 0 would refuse every request"),
    ],
)
def test_a_bad_rate_limit_is_refused_naming_the_setting(expression: str, why: str) -> None:
    with pytest.raises(SettingsError, match=r"rate_limit \(GUARD_RATE_LIMIT\) must be") as info:
        Settings.from_env({"GUARD_RATE_LIMIT": expression})
    assert why in str(info.value)


@pytest.mark.parametrize("expression", ["1200/minute", "20/second", "1200 per minute", "5/2 hours"])
def test_a_good_rate_limit_is_taken(expression: str) -> None:
    assert Settings(rate_limit=expression).rate_limit == expression


def _serve(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", LAUNCH, "serve", "--port", str(free_port()), *args],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        ((), {"GUARD_AUDIT": ""}, "GUARD_AUDIT is set but empty"),
        (("--audit", ""), {}, "audit (GUARD_AUDIT) is empty"),
        ((), {"GUARD_RATE_LIMIT": "10/second;100/minute"}, "one limit per key"),
    ],
)
def test_guard_serve_stops_with_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], said: str
) -> None:
    done = _serve(tmp_path, *args, env=env)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("error:") == 1
    assert not list(tmp_path.iterdir())  # no log was made


@pytest.mark.parametrize("secret", ["x", "short-secret", "a" * 15])
def test_a_short_session_secret_is_refused_without_showing_it(secret: str) -> None:
    # Before: GUARD_SESSION_SECRET=x was taken, and the console's session cookies were
    # signed with a one-letter HMAC key anyone holding one cookie could find offline.
    with pytest.raises(SettingsError, match="at least 16 characters") as info:
        Settings.from_env({"GUARD_SESSION_SECRET": secret})
    assert secret not in str(info.value)


def test_a_long_session_secret_is_taken() -> None:
    secret = "one-secret-for-both-workers"
    assert Settings.from_env({"GUARD_SESSION_SECRET": secret}).session_secret == secret
