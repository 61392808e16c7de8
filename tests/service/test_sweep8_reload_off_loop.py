"""Following another worker's reload loads the packs in a thread: the event loop keeps
serving with the previous guard meanwhile, and the new one is swapped in whole."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import service._state
from service import ServiceState, Settings, create_app
from tests.service.conftest import PACK, pay

V2 = PACK.replace("version: 1", "version: 2").replace("params.amount > 500", "params.amount > 50")


async def _three_checks(app: Any, started: threading.Event, release: threading.Event) -> list[Any]:
    """A check that meets the reload, one while its packs load, and the first one's answer."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sidecar") as client:
        first = asyncio.create_task(client.post("/v1/check", json={"action": pay(100)}))
        loaded = await anyio.to_thread.run_sync(started.wait, 30.0)
        listed = await client.get("/v1/policies")
        during = await client.post("/v1/check", json={"action": pay(100)})
        release.set()
        after = await first
    return [loaded, listed, during, after]


@pytest.mark.parametrize(
    "pii", [pytest.param(False, id="rules-only"), pytest.param(True, id="warm-up-model")]
)
def test_a_followed_reload_loads_off_the_loop_while_the_old_guard_serves(
    settings: Settings,
    pack_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pii: bool,
) -> None:
    (tmp_path / "reloaded").touch()
    shared = settings.with_(reload_file=str(tmp_path / "reloaded"))
    worker, other = ServiceState.build(shared), ServiceState.build(shared)
    try:
        pack_file.write_text(V2, encoding="utf-8")
        other.reload()  # another worker reloads; `worker` follows at its next request
        loop_thread = threading.get_ident()  # asyncio.run below runs the loop on this thread
        started, release = threading.Event(), threading.Event()
        on_loop: list[bool] = []

        def slow(*args: Any) -> Any:
            on_loop.append(threading.get_ident() == loop_thread)
            started.set()
            if not on_loop[-1]:  # blocking the loop itself would hang this test, not fail it
                release.wait(30.0)
            return real(*args)

        # The slow step: loading the packs, or warming the PII model up.
        name = "warm_up" if pii else "load"
        real = getattr(service._state, name)
        monkeypatch.setattr(service._state, name, slow)
        loaded, listed, during, after = asyncio.run(
            _three_checks(create_app(state=worker), started, release)
        )
    finally:
        worker.close()
        other.close()
    assert loaded and on_loop == [False]
    assert listed.status_code == 200 and listed.json()["items"][0]["version"] == 1
    assert (during.status_code, during.json()["policy_version"]) == (200, 1)
    assert during.json()["verdict"] == "allow"
    assert (after.status_code, after.json()["policy_version"]) == (200, 2)
    assert after.json()["verdict"] == "escalate"
    assert worker.guard.packs["svc-test"].version == 2
