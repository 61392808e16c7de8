"""A PROMETHEUS_MULTIPROC_DIR that is not a folder is refused at start, in one line.

Before: with PROMETHEUS_MULTIPROC_DIR naming a folder that does not exist (a typo, or a
tmpfs not mounted yet), `guard serve` stopped with "No such file or directory:
'.../histogram_8281.db'", naming no setting, and `guard serve --workers 2` never stopped:
each worker died with a traceback at start and uvicorn restarted it, over and over.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import service._server as server
from service import Settings, create_app
from service._settings import SettingsError
from tests.service.test_sweep_workers import _free_port


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: runs.append(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() sets GUARD_* for workers
    return runs


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_workers_are_not_started_with_a_bad_metrics_folder(
    tmp_path: Path, pack_file: Path, started: list[Any], kind: str
) -> None:
    folder = tmp_path / kind
    if kind == "a-file":
        folder.write_text("", encoding="utf-8")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    settings = Settings(
        policy=str(pack_file),
        audit=f"sqlite:///{tmp_path / 'a.db'}",
        workers=2,
        port=_free_port(),
    )
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR names .* is not a folder"):
        server.serve(settings)
    assert started == []


def test_create_app_refuses_it_too(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app(settings)
