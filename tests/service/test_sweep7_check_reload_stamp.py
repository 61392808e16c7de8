"""POST /v1/check looks at the reload file once per request, and still follows a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import service._state
from service import ServiceState, Settings
from tests.service.conftest import PACK, pay

V2 = PACK.replace("version: 1", "version: 2").replace("params.amount > 500", "params.amount > 50")


@pytest.fixture
def reload_file(tmp_path: Path) -> Path:
    path = tmp_path / "reloaded"
    path.touch()
    return path


def test_a_check_reads_the_reload_file_stamp_once(
    make_client: Callable[..., object], reload_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(reload_file=str(reload_file))
    stamp = service._state._stamp
    calls: list[str | None] = []

    def counting(path: str | None) -> tuple[int, int] | None:
        calls.append(path)
        return stamp(path)

    monkeypatch.setattr(service._state, "_stamp", counting)
    response = client.post("/v1/check", json={"action": pay(100)})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    assert calls == [str(reload_file)]


@pytest.mark.parametrize(
    ("reload_elsewhere", "verdict"),
    [
        pytest.param(True, "escalate", id="another-process-reloaded"),
        pytest.param(False, "allow", id="nobody-reloaded"),
    ],
)
def test_a_check_decides_with_the_packs_another_process_reloaded(
    make_client: Callable[..., object],
    settings: Settings,
    pack_file: Path,
    reload_file: Path,
    reload_elsewhere: bool,
    verdict: str,
) -> None:
    client = make_client(reload_file=str(reload_file))
    other = ServiceState.build(settings.with_(reload_file=str(reload_file)))
    try:
        pack_file.write_text(V2, encoding="utf-8")
        if reload_elsewhere:
            other.reload()
        response = client.post("/v1/check", json={"action": pay(100)})  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        assert response.json()["verdict"] == verdict
    finally:
        other.close()
