"""`guard serve --workers N` refuses what every worker would refuse, once, before forking."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import service._server as server
from guard._exceptions import GuardError
from service._auth import KeysError
from service._settings import Settings


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("workers were started")

    monkeypatch.setattr(uvicorn, "run", refuse)


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(audit=f"sqlite:///{tmp_path / 'a.db'}", workers=2, port=_free_port())
    return base.with_(**changes)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_missing_keys_file_stops_the_parent(tmp_path: Path, no_uvicorn: None) -> None:
    with pytest.raises(KeysError, match="cannot read keys file"):
        server.serve(_settings(tmp_path, keys=str(tmp_path / "missing.yaml")))


def test_a_bad_audit_url_stops_the_parent(tmp_path: Path, no_uvicorn: None) -> None:
    with pytest.raises(GuardError, match="unsupported audit URL"):
        server.serve(_settings(tmp_path, audit="sqlite://nope"))


def test_a_port_in_use_stops_the_parent(tmp_path: Path, no_uvicorn: None) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            server.serve(_settings(tmp_path, port=port))


def test_ready_waits_until_the_port_accepts(tmp_path: Path) -> None:
    calls: list[str] = []
    port = _free_port()
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", port))
        listening.listen()
        server._when_listening("0.0.0.0", port, lambda: calls.append("ready"))
    assert calls == ["ready"]
