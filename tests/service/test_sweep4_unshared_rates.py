"""Several workers without Redis would each count rate() and the per-key limit on their own."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

import service._server as server
from service import ServiceState, Settings
from service._errors import UnsharedCounters
from tests.service.test_sweep_workers import _free_port

RATED = """\
name: rated
version: 1
rules:
  - id: too-many
    when: rate(str(actor), 60) > 2
    effect: deny
"""


@pytest.fixture
def rated(tmp_path: Path) -> Path:
    path = tmp_path / "rated.yaml"
    path.write_text(RATED, encoding="utf-8")
    return path


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: runs.append(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() sets GUARD_* for workers
    return runs


@pytest.mark.parametrize(
    ("workers", "redis", "refused"),
    [
        pytest.param(2, None, True, id="two-workers-no-redis-refused"),
        pytest.param(2, "redis://127.0.0.1:1/0", False, id="two-workers-with-redis"),
        pytest.param(1, None, False, id="one-worker-no-redis"),
    ],
)
def test_rate_packs_need_shared_counters_with_workers(
    settings: Settings, rated: Path, workers: int, redis: str | None, refused: bool
) -> None:
    wanted = settings.with_(policy=str(rated), workers=workers, redis=redis)
    if refused:
        with pytest.raises(UnsharedCounters, match=r"\['rated'\] use rate\(\).*--redis"):
            ServiceState.build(wanted)
    else:
        ServiceState.build(wanted).close()


def test_guard_serve_refuses_before_starting_workers(
    tmp_path: Path, rated: Path, started: list[dict[str, Any]]
) -> None:
    settings = Settings(
        policy=str(rated), audit=f"sqlite:///{tmp_path / 'a.db'}", workers=2, port=_free_port()
    )
    with pytest.raises(UnsharedCounters, match="each of the 2 workers would count on its own"):
        server.serve(settings)
    assert started == []


def test_a_reload_to_a_rate_pack_is_refused_with_workers(make_client: Any, pack_file: Path) -> None:
    client = make_client(workers=2)
    pack_file.write_text(RATED.replace("name: rated", "name: svc-test"), encoding="utf-8")
    r = client.post("/v1/policies/reload")
    assert r.status_code == 422 and r.json()["error"]["code"] == "rate_not_shared"
    assert client.get("/v1/policies").json()["items"][0]["rules"] == 5  # the old pack serves


@pytest.mark.parametrize(
    ("redis", "warned"),
    [
        pytest.param(None, True, id="no-redis-warns"),
        pytest.param("redis://127.0.0.1:1/0", False, id="redis-shares-the-limits"),
    ],
)
def test_per_key_limits_per_worker_are_said(
    tmp_path: Path,
    pack_file: Path,
    started: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    redis: str | None,
    warned: bool,
) -> None:
    settings = Settings(
        policy=str(pack_file),
        audit=f"sqlite:///{tmp_path / 'a.db'}",
        workers=2,
        port=_free_port(),
        redis=redis,
    )
    with caplog.at_level(logging.WARNING, logger="guard.service"):
        server.serve(settings)
    assert len(started) == 1
    assert ("up to 2 times 1200/minute" in caplog.text) is warned
