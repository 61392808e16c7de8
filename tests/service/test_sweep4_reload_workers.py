"""A reload reaches one worker; every worker sharing the reload file follows before deciding."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service import ServiceState, Settings
from tests.service._server import Sidecar
from tests.service.conftest import PACK, pay

V2 = PACK.replace("version: 1", "version: 2").replace("params.amount > 500", "params.amount > 50")


@pytest.fixture
def two(settings: Settings, tmp_path: Path) -> Iterator[tuple[ServiceState, ServiceState]]:
    """Two states as two workers build them: the same settings, one reload file."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "reloaded").touch()
    shared = settings.with_(reload_file=str(tmp_path / "shared" / "reloaded"))
    first, second = ServiceState.build(shared), ServiceState.build(shared)
    yield first, second
    first.close()
    second.close()


def test_a_reload_in_one_worker_reaches_the_other(
    two: tuple[ServiceState, ServiceState], pack_file: Path
) -> None:
    first, second = two
    pack_file.write_text(V2, encoding="utf-8")
    first.reload()
    assert second.guard.packs["svc-test"].version == 2
    assert second.guard.check(pay(100)).verdict == "escalate"


def test_without_a_reload_file_a_worker_keeps_its_packs(
    settings: Settings, pack_file: Path
) -> None:
    first, second = ServiceState.build(settings), ServiceState.build(settings)
    try:
        pack_file.write_text(V2, encoding="utf-8")
        first.reload()
        assert (first.guard.packs["svc-test"].version, second.guard.packs["svc-test"].version) == (
            2,
            1,
        )
    finally:
        first.close()
        second.close()


def test_a_failed_reload_changes_no_worker(
    two: tuple[ServiceState, ServiceState], pack_file: Path
) -> None:
    first, second = two
    pack_file.write_text(V2 + "  - id: [broken\n", encoding="utf-8")
    with pytest.raises(Exception, match="svc-test.yaml"):
        first.reload()
    assert [s.guard.packs["svc-test"].version for s in two] == [1, 1]


V3 = V2.replace("version: 2", "version: 3")


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param("name: [broken\n", id="broken-since"),
        pytest.param(V3, id="another-version-since"),
    ],
)
def test_a_worker_that_cannot_follow_keeps_its_packs_and_says_so(
    two: tuple[ServiceState, ServiceState],
    pack_file: Path,
    caplog: pytest.LogCaptureFixture,
    edited: str,
) -> None:
    first, second = two
    pack_file.write_text(V2, encoding="utf-8")
    first.reload()
    pack_file.write_text(edited, encoding="utf-8")  # edited again, before it follows
    with caplog.at_level(logging.ERROR, logger="guard.service"):
        assert second.guard.packs["svc-test"].version == 1
    assert "could not" in caplog.text
    caplog.clear()
    assert second.guard.packs["svc-test"].version == 1  # tried once per reload, not per request
    assert caplog.text == ""


def test_a_removed_reload_file_reloads_nothing_until_the_next_reload(
    two: tuple[ServiceState, ServiceState], pack_file: Path, tmp_path: Path
) -> None:
    first, second = two
    shutil.rmtree(tmp_path / "shared")  # as a cleaner of old temporary files would
    pack_file.write_text(V2, encoding="utf-8")
    assert second.guard.packs["svc-test"].version == 1  # an edit alone changes nothing
    first.reload()
    assert second.guard.packs["svc-test"].version == 2


def test_guard_serve_with_two_workers_reloads_both(tmp_path: Path, pack_file: Path) -> None:
    server = Sidecar(
        "--workers", "2", "--policy", str(pack_file), "--audit", f"sqlite:///{tmp_path}/a.db",
        log=tmp_path / "server.log",
    )  # fmt: skip
    try:
        server.wait_ready(timeout=120)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            pack_file.write_text(V2, encoding="utf-8")
            r = client.post("/v1/policies/reload")
            assert r.status_code == 200 and r.json()["items"][0]["version"] == 2
        seen = set()
        for _ in range(40):  # a new connection each time, so both workers answer some
            with httpx.Client(base_url=server.url, timeout=30) as fresh:
                d = fresh.post("/v1/check", json={"action": pay(100)}).json()
                seen.add((d["policy_version"], d["verdict"]))
        assert seen == {(2, "escalate")}
    finally:
        server.stop()
