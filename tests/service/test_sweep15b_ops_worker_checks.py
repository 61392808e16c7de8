"""`guard serve --workers N` refuses in the parent, once and in one line, what each worker
would refuse at start.

Before: with a bad OTEL_TRACES_EXPORTER or a --redis value that is not a Redis URL,
`guard serve --workers 2` never stopped: each worker died at start with a traceback and
uvicorn's supervisor restarted it, over and over (one process refused both in one line).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import service._server as server
from service import Settings
from service._settings import SettingsError
from tests.service._server import LAUNCH, free_port


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: runs.append(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() sets GUARD_* for workers
    return runs


def _settings(tmp_path: Path, pack_file: Path, **changes: Any) -> Settings:
    return Settings(
        policy=str(pack_file),
        audit=f"sqlite:///{tmp_path / 'a.db'}",
        workers=2,
        port=free_port(),
        **changes,
    )


def test_a_bad_trace_exporter_starts_no_worker(
    tmp_path: Path, pack_file: Path, started: list[Any]
) -> None:
    os.environ["OTEL_TRACES_EXPORTER"] = "bogus"
    with pytest.raises(SettingsError, match="OTEL_TRACES_EXPORTER names 'bogus'"):
        server.serve(_settings(tmp_path, pack_file))
    assert started == []


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:6379/0"])
def test_a_redis_url_that_is_not_one_starts_no_worker(
    tmp_path: Path, pack_file: Path, started: list[Any], url: str
) -> None:
    with pytest.raises(ValueError, match="invalid Redis URL"):
        server.serve(_settings(tmp_path, pack_file, redis=url))
    assert started == []


def test_a_good_setup_still_starts_the_workers(
    tmp_path: Path, pack_file: Path, started: list[Any]
) -> None:
    os.environ["OTEL_TRACES_EXPORTER"] = "none"
    server.serve(_settings(tmp_path, pack_file, redis="redis://127.0.0.1:1/0"))
    assert len(started) == 1 and started[0]["workers"] == 2


def test_guard_serve_stops_in_one_line(tmp_path: Path, pack_file: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, "serve", "--port", str(free_port()), "--workers", "2"]
        + ["--policy", str(pack_file), "--audit", f"sqlite:///{tmp_path / 'a.db'}"],
        env={**os.environ, "OTEL_TRACES_EXPORTER": "bogus"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "OTEL_TRACES_EXPORTER names 'bogus'" in done.stderr
    assert "Traceback" not in done.stderr
