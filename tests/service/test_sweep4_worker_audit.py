"""`guard serve --workers N`: every worker writes to one log and signs with one key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import service._server as server
from service import ServiceState, Settings
from service._settings import SettingsError
from tests.service.test_backends import _postgres_url
from tests.service.test_sweep_workers import _free_port


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment serve() exports to its workers, kept inside this test."""
    scratch = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_") or "_TEST_" in k}
    monkeypatch.setattr(os, "environ", scratch)
    return scratch


@pytest.mark.parametrize(
    "audit", [pytest.param("memory://", id="memory"), pytest.param("", id="empty")]
)
def test_a_log_in_each_workers_memory_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], pack_file: Path, audit: str
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("workers were started"))
    # An empty audit URL is refused by Settings itself (it was taken as memory://).
    refused = "each of the 2 workers would keep its own" if audit else r"\(GUARD_AUDIT\) is empty"
    with pytest.raises(SettingsError, match=refused):
        settings = Settings(policy=str(pack_file), audit=audit, workers=2, port=_free_port())
        server.serve(settings)


def test_workers_on_postgres_sign_with_one_key(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], pack_file: Path
) -> None:
    url = _postgres_url()
    keys: list[str] = []

    def run(*args: Any, **kwargs: Any) -> None:  # what two workers would do
        for _ in range(2):
            state = ServiceState.build(Settings.from_env(env))
            keys.append(state.audit.public_key_hex)
            state.close()

    monkeypatch.setattr("uvicorn.run", run)
    server.serve(Settings(policy=str(pack_file), audit=url, workers=2, port=_free_port()))
    assert len(keys) == 2 and keys[0] == keys[1]
    assert not Path(env["GUARD_SIGNING_KEY"]).exists()  # a key for this server's life only


def test_a_given_signing_key_is_kept(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], pack_file: Path, tmp_path: Path
) -> None:
    url = _postgres_url()
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    given = str(tmp_path / "log.key")
    server.serve(
        Settings(policy=str(pack_file), audit=url, workers=2, port=_free_port(), signing_key=given)
    )
    assert env["GUARD_SIGNING_KEY"] == given and Path(given).exists()
