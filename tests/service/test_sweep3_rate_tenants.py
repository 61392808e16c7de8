"""Over HTTP: another tenant's traffic neither trips nor reveals a tenant's rate() counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service import KeyStore
from tests.service.conftest import bearer

PACK = """\
name: rl
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: msg-rate
    match: {kind: send_message}
    when: rate(str(actor), 60) > 3
    effect: deny
"""


def test_rate_counters_are_per_tenant(
    make_client: Any, tmp_path: Path, keys_file: Path, raw_keys: dict[str, str]
) -> None:
    pack = tmp_path / "rl.yaml"
    pack.write_text(PACK, encoding="utf-8")
    client = make_client(keys=KeyStore.from_file(keys_file), policy=str(pack))
    message = {"kind": "send_message", "actor": "alice", "params": {"message": "hi"}}
    acme, globex = bearer(raw_keys["acme-agent"]), bearer(raw_keys["globex-agent"])
    for _ in range(4):
        client.post("/v1/check", json={"action": message}, headers=globex)
    later = client.post("/v1/check", json={"action": message}, headers=globex).json()
    assert later["verdict"] == "deny"  # globex's own alice is over the limit
    mine = client.post("/v1/check", json={"action": message}, headers=acme).json()
    assert mine["tenant"] == "acme" and mine["verdict"] == "allow"
