"""Real `guard serve` processes sharing one audit log (and one Redis): the review queue,
/metrics and the rate limits agree whichever worker or process answers."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from service._auth import new_key
from tests.service._server import Sidecar
from tests.service.conftest import pay
from tests.service.test_backends import RATE_PACK, _redis_url


def _fresh(url: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request on a new connection, so that any worker may answer it."""
    with httpx.Client(base_url=url, timeout=90) as client:
        return client.request(method, path, **kw)


def _workers(tmp_path: Path, pack: Path, *args: str) -> Sidecar:
    server = Sidecar(
        "--workers", "2", "--policy", str(pack), "--audit", f"sqlite:///{tmp_path}/a.db", *args,
        log=tmp_path / "server.log",
    )  # fmt: skip
    server.wait_ready(timeout=120)
    return server


def test_a_wait_on_one_worker_ends_with_a_resolution_on_any(
    tmp_path: Path, pack_file: Path
) -> None:
    server = _workers(tmp_path, pack_file)
    try:
        held = _fresh(server.url, "POST", "/v1/check", json={"action": pay(700)}).json()
        assert held["verdict"] == "escalate"
        waited: list[httpx.Response] = []
        wait = f"/v1/escalations/{held['id']}/wait"
        waiter = threading.Thread(
            target=lambda: waited.append(_fresh(server.url, "GET", wait, params={"timeout": 60}))
        )
        waiter.start()
        resolve = f"/v1/escalations/{held['id']}/resolve"
        codes: list[int] = []
        racers = [
            threading.Thread(
                target=lambda o=o: codes.append(
                    _fresh(server.url, "POST", resolve, json={"outcome": o}).status_code
                )
            )
            for o in ("approve", "deny")
        ]
        for t in racers:
            t.start()
        for t in [*racers, waiter]:
            t.join(120)
        assert sorted(codes) == [200, 409]  # one resolution, whichever worker won the race
        assert waited[0].status_code == 200  # not 408: the other worker's resolution was seen
        assert waited[0].json()["status"] in ("approved", "denied")
        replays = [_fresh(server.url, "POST", resolve, json={"outcome": "deny"}) for _ in range(6)]
        assert {r.status_code for r in replays} == {409}
        assert {r.json()["error"]["code"] for r in replays} == {"already_resolved"}
    finally:
        server.stop()


def test_metrics_count_every_workers_decisions(tmp_path: Path, pack_file: Path) -> None:
    server = _workers(tmp_path, pack_file)
    try:
        for _ in range(20):
            assert _fresh(server.url, "POST", "/v1/check", json={"action": pay(1)}).is_success
        totals = set()
        for _ in range(6):
            text = _fresh(server.url, "GET", "/metrics").text
            found = re.findall(r"^guard_decisions_total\{[^}]*\} (\S+)$", text, re.M)
            totals.add(sum(float(n) for n in found))
        assert totals == {20.0}
    finally:
        server.stop()


def test_two_processes_share_rate_and_key_limits_in_redis(tmp_path: Path) -> None:
    redis = _redis_url()
    pack = tmp_path / "rated.yaml"
    pack.write_text(RATE_PACK, encoding="utf-8")
    raw, entry = new_key(f"k-{uuid.uuid4().hex[:8]}", ["check"], "acme")
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    args = ["--policy", str(pack), "--audit", f"sqlite:///{tmp_path}/a.db", "--keys", str(keys)]
    env = {"GUARD_RATE_LIMIT": "4/minute"}
    servers = [
        Sidecar(*args, "--redis", redis, env=env, log=tmp_path / f"server-{n}.log") for n in (1, 2)
    ]
    try:
        for server in servers:
            server.wait_ready(timeout=120)
        actor = f"actor-{uuid.uuid4().hex}"
        seen = []
        for n in range(6):
            r = _fresh(
                servers[n % 2].url,
                "POST",
                "/v1/check",
                json={"action": {"kind": "x", "actor": actor}},
                headers={"Authorization": f"Bearer {raw}"},
            )
            seen.append(r.json()["verdict"] if r.is_success else r.status_code)
        assert seen == ["allow", "allow", "deny", "deny", 429, 429]
    finally:
        for server in servers:
            server.stop()


def test_the_metrics_docs_say_whose_counts_they_are(client: Any) -> None:
    described = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]["description"]
    assert "every worker" in described and "scrape each" in described
