"""GET /v1/policies, /v1/policies/{name} and the atomic POST /v1/policies/reload."""

from __future__ import annotations

import pytest

from guard import PolicyError
from service import ServiceState, Settings, create_app
from tests.service.conftest import PACK, pay


def test_list_and_detail(client, pack_file):
    page = client.get("/v1/policies").json()
    assert page["next_cursor"] is None
    (summary,) = page["items"]
    assert (summary["name"], summary["version"], summary["rules"]) == ("svc-test", 1, 5)
    assert summary["digest"].startswith("sha256:")
    detail = client.get("/v1/policies/svc-test").json()
    assert detail["source"] == PACK and detail["file"] == str(pack_file)
    assert detail["digest"] == summary["digest"]
    assert [r["id"] for r in detail["rule_list"]][:2] == ["no-shell", "big-payment"]


def test_unknown_policy_is_404(client):
    r = client.get("/v1/policies/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "policy_not_found"


def test_reload_swaps_in_the_new_version(client, pack_file):
    pack_file.write_text(PACK.replace("version: 1", "version: 2"), encoding="utf-8")
    r = client.post("/v1/policies/reload")
    assert r.status_code == 200 and r.json()["items"][0]["version"] == 2
    assert client.post("/v1/check", json={"action": pay(1)}).json()["policy_version"] == 2


def test_a_bad_reload_leaves_the_old_pack_serving(client, pack_file):
    before = client.get("/v1/policies/svc-test").json()["digest"]
    pack_file.write_text(PACK.replace("effect: escalate", "effect: block"), encoding="utf-8")
    r = client.post("/v1/policies/reload")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "policy_invalid" and "block" in error["message"]
    assert error["details"]["file"] == str(pack_file) and error["details"]["line"] > 0
    assert client.get("/v1/policies/svc-test").json()["digest"] == before
    assert client.post("/v1/check", json={"action": pay(900)}).json()["verdict"] == "escalate"


def test_a_bad_pack_refuses_to_start(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        PACK.replace("when: params.amount > 500", "when: __import__('os')"), encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="bad.yaml"):
        create_app(Settings(policy=str(bad), audit="memory://"))


def test_shadow_pack_digest_is_listed(tmp_path, pack_file, settings):
    shadow = tmp_path / "shadow" / "svc-test.yaml"
    shadow.parent.mkdir()
    shadow.write_text(PACK.replace("amount > 500", "amount > 50"), encoding="utf-8")
    state = ServiceState.build(settings.with_(shadow=str(shadow)))
    try:
        assert state.shadow["svc-test"].digest != state.guard.packs["svc-test"].digest
        d = state.guard.check(pay(100))
        assert d.shadow is not None and d.shadow.agrees is False
        page = state.audit.query(shadow_disagrees=True)
        assert [s.id for s in page.items] == [d.id]
    finally:
        state.close()
