"""kill -9 under load: every acknowledged decision is in the log and the log verifies."""

from __future__ import annotations

import threading
import time

import httpx

from guard.audit import open_audit
from tests.service._server import Sidecar

ACTIONS = [
    {"kind": "search", "params": {"q": "tile"}},
    {"kind": "run_shell", "params": {"command": "rm -rf /"}},
    {"kind": "purchase", "params": {"amount": 900}},
]


def _load(url: str, acked: list[str], stop: threading.Event, worker: int) -> None:
    with httpx.Client(base_url=url, timeout=5) as client:
        i = 0
        while not stop.is_set():
            body = {"action": ACTIONS[(i + worker) % 3], "context": {"budget_remaining": 500}}
            try:
                r = client.post("/v1/check", json=body)
            except httpx.HTTPError:
                return  # the server is gone
            if r.status_code == 200:
                acked.append(r.json()["id"])  # list.append is atomic
            i += 1


def test_kill_9_loses_no_acknowledged_decision(tmp_path):
    db = tmp_path / "audit.db"
    args = ("--policy", "agent-tools", "--audit", f"sqlite:///{db}")
    server = Sidecar(*args, log=tmp_path / "server.log")
    acked: list[str] = []
    stop = threading.Event()
    try:
        server.wait_ready()
        threads = [
            threading.Thread(target=_load, args=(server.url, acked, stop, w)) for w in range(4)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-load, requests in flight
    finally:
        stop.set()
        server.stop()
    for t in threads:
        t.join(10)
    assert len(acked) >= 50, "the load never got going"

    restarted = Sidecar(*args, log=tmp_path / "server.log")
    try:
        restarted.wait_ready()
        with httpx.Client(base_url=restarted.url, timeout=10) as client:
            for decision_id in acked[-20:]:
                assert client.get(f"/v1/decisions/{decision_id}").status_code == 200
            size = client.get("/v1/audit/head").json()["size"]
    finally:
        restarted.stop()
    with open_audit(f"sqlite:///{db}") as log:
        report = log.verify()
        missing = [i for i in acked if _absent(log, i)]
    assert missing == []
    assert report.size == size >= len(acked)


def _absent(log, decision_id: str) -> bool:
    try:
        log.get(decision_id)
    except Exception:
        return True
    return False
