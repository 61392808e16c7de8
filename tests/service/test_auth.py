"""API keys: hashed, scoped, tenant-bound; 401 versus 403; per-key rate limits."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from service import KeyStore, Principal
from service._auth import OPEN_ACCESS, KeysError, hash_key, new_key
from service._deps import get_principal
from tests.service.conftest import bearer, pay


def test_keystore_authenticates_by_sha256_only(keys_file, raw_keys):
    store = KeyStore.from_file(keys_file)
    p = store.authenticate(raw_keys["acme-agent"])
    assert p == Principal("acme-agent", frozenset({"check"}), "acme")
    assert store.authenticate(raw_keys["acme-agent"] + "x") is None
    assert store.authenticate("") is None
    assert raw_keys["acme-agent"] not in keys_file.read_text()
    assert store.anonymous() is None and not store.is_open


def test_open_access_is_an_admin_of_no_tenant():
    store = KeyStore.open_access()
    assert store.is_open and store.anonymous() is OPEN_ACCESS
    assert OPEN_ACCESS.can("review") and OPEN_ACCESS.tenant is None


@pytest.mark.parametrize(
    ("scopes", "scope", "allowed"),
    [
        pytest.param({"admin"}, "review", True, id="admin-implies-all"),
        pytest.param({"check"}, "check", True, id="own-scope"),
        pytest.param({"check"}, "audit:read", False, id="other-scope"),
        pytest.param({"review", "audit:read"}, "admin", False, id="not-admin"),
    ],
)
def test_principal_can(scopes, scope, allowed):
    assert Principal("k", frozenset(scopes), None).can(scope) is allowed


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            {"name": "a", "sha256": "abc", "scopes": ["check"]},
            "64 lower-case hex",
            id="short-digest",
        ),
        pytest.param(
            {"name": "a", "sha256": "0" * 64, "scopes": ["read"]}, "unknown scopes", id="bad-scope"
        ),
        pytest.param(
            {"name": "a", "sha256": "0" * 64, "scopes": []}, "non-empty list", id="no-scopes"
        ),
        pytest.param({"name": "", "sha256": "0" * 64, "scopes": ["check"]}, "'name'", id="no-name"),
        pytest.param(
            {"name": "a", "sha256": "0" * 64, "scopes": ["check"], "role": "x"},
            "unknown fields",
            id="unknown-field",
        ),
        pytest.param(
            {"name": "a", "sha256": "0" * 64, "scopes": ["check"], "tenant": 3},
            "'tenant'",
            id="tenant-not-string",
        ),
    ],
)
def test_bad_key_entries_are_refused(tmp_path, entry, message):
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump([entry]), encoding="utf-8")
    with pytest.raises(KeysError, match=message):
        KeyStore.from_file(path)


def test_duplicate_key_names_are_refused(tmp_path):
    entry = {"name": "a", "sha256": "0" * 64, "scopes": ["check"]}
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump([entry, entry]), encoding="utf-8")
    with pytest.raises(KeysError, match="duplicate"):
        KeyStore.from_file(path)


def test_new_key_entry_matches_the_key():
    raw, entry = new_key("n", ["check", "review"], "t")
    assert entry.sha256 == hashlib.sha256(raw.encode()).hexdigest() == hash_key(raw)
    assert entry.as_yaml_dict()["scopes"] == ["check", "review"]


def test_cli_keys_create_prints_a_key_and_its_entry(tmp_path):
    out = _run_cli(
        ["keys", "create", "--name", "bot", "--scopes", "check,audit:read", "--tenant", "acme"]
    )
    raw = out.split("key (shown once; give it to the client): ", 1)[1].split()[0]
    entries = yaml.safe_load(out.split("entry for keys.yaml:", 1)[1])
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    p = KeyStore.from_file(path).authenticate(raw)
    assert p == Principal("bot", frozenset({"check", "audit:read"}), "acme")


def _run_cli(args):
    from typer.testing import CliRunner

    from guard.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_missing_or_unknown_key_is_401_with_www_authenticate(keyed):
    for headers in ({}, bearer("gk_wrong"), {"Authorization": "Basic abc"}):
        r = keyed.post("/v1/check", json={"action": pay(1)}, headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("key", "method", "path"),
    [
        pytest.param("acme-auditor", "POST", "/v1/check", id="reader-cannot-check"),
        pytest.param("acme-agent", "GET", "/v1/decisions", id="agent-cannot-read"),
        pytest.param("acme-agent", "GET", "/v1/escalations", id="agent-cannot-list-queue"),
        pytest.param("acme-reviewer", "POST", "/v1/policies/reload", id="reviewer-not-admin"),
    ],
)
def test_valid_key_without_scope_is_403(keyed, raw_keys, key, method, path):
    r = keyed.request(method, path, json={"action": pay(1)}, headers=bearer(raw_keys[key]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "missing_scope"


def test_the_keys_tenant_is_the_decisions_tenant(keyed, raw_keys):
    d = keyed.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw_keys["acme-agent"]))
    assert d.json()["tenant"] == "acme"
    same = keyed.post(
        "/v1/check", json={"action": pay(1, tenant="acme")}, headers=bearer(raw_keys["acme-agent"])
    )
    assert same.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"action": pay(1, tenant="globex")}, id="action"),
        pytest.param(
            {"candidates": [[pay(1), 0.5], [pay(2, tenant="globex"), 0.5]]}, id="candidate"
        ),
        pytest.param(
            {
                "action": {
                    "type": "function",
                    "tenant": "globex",
                    "function": {"name": "pay", "arguments": "{}"},
                }
            },
            id="tool-call",
        ),
    ],
)
def test_an_action_naming_another_tenant_is_403(keyed, raw_keys, body):
    r = keyed.post("/v1/check", json=body, headers=bearer(raw_keys["acme-agent"]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "tenant_mismatch"


def test_batch_and_shield_bind_the_tenant_too(keyed, raw_keys):
    h = bearer(raw_keys["acme-agent"])
    r = keyed.post("/v1/check/batch", json={"actions": [pay(1), pay(2, tenant="x")]}, headers=h)
    assert r.status_code == 403
    r = keyed.post("/v1/shield", json={"actions": [pay(2, tenant="x")]}, headers=h)
    assert r.status_code == 403
    ranked = keyed.post("/v1/rank", json={"items": [{"id": 1}]}, headers=h).json()
    assert ranked["tenant"] == "acme"


def test_a_key_never_reads_another_tenants_decisions(keyed, raw_keys):
    acme = keyed.post(
        "/v1/check", json={"action": pay(900)}, headers=bearer(raw_keys["acme-agent"])
    ).json()
    globex = keyed.post(
        "/v1/check", json={"action": pay(900)}, headers=bearer(raw_keys["globex-agent"])
    ).json()
    h = bearer(raw_keys["globex-reader"])
    ids = [i["id"] for i in keyed.get("/v1/decisions", headers=h).json()["items"]]
    assert ids == [globex["id"]]
    for path in (f"/v1/decisions/{acme['id']}", f"/v1/decisions/{acme['id']}/proof"):
        r = keyed.get(path, headers=h)
        assert r.status_code == 404 and r.json()["error"]["code"] == "decision_not_found"
    r = keyed.get("/v1/decisions", params={"tenant": "acme"}, headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "tenant_mismatch"
    export = keyed.get("/v1/decisions/export", headers=h).text
    assert acme["id"] not in export and globex["id"] in export
    queue = keyed.get("/v1/escalations", headers=h).json()["items"]
    assert [e["decision_id"] for e in queue] == [globex["id"]]
    r = keyed.post(f"/v1/escalations/{acme['id']}/resolve", json={"outcome": "approve"}, headers=h)
    assert r.status_code == 404
    r = keyed.post(f"/v1/decisions/{acme['id']}/review", json={"label": "correct"}, headers=h)
    assert r.status_code == 404
    r = keyed.get(f"/v1/escalations/{acme['id']}/wait", params={"timeout": 0}, headers=h)
    assert r.status_code == 404


def test_an_operator_key_reads_every_tenant(keyed, raw_keys):
    for key in ("acme-agent", "globex-agent"):
        keyed.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw_keys[key]))
    items = keyed.get("/v1/decisions", headers=bearer(raw_keys["admin"])).json()["items"]
    assert {i["record"]["tenant"] for i in items} == {"acme", "globex"}


def test_dependency_override_injects_a_principal(keyed):
    keyed.app.dependency_overrides[get_principal] = lambda: Principal(
        "fake", frozenset({"check"}), "initech"
    )
    try:
        d = keyed.post("/v1/check", json={"action": pay(1)}).json()
    finally:
        keyed.app.dependency_overrides.clear()
    assert d["tenant"] == "initech"


def test_rate_limit_is_429_with_retry_after(make_client, keys_file, raw_keys):
    c = make_client(keys=KeyStore.from_file(keys_file), rate_limit="3/minute")
    h = bearer(raw_keys["acme-agent"])
    codes = [c.post("/v1/check", json={"action": pay(1)}, headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.post("/v1/check", json={"action": pay(1)}, headers=h)
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    other = c.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw_keys["globex-agent"]))
    assert other.status_code == 200  # limits are per key


def test_guessing_keys_is_throttled_per_address(make_client, keys_file, raw_keys):
    c = make_client(keys=KeyStore.from_file(keys_file), rate_limit="3/minute")
    codes = [
        c.post("/v1/check", json={"action": pay(1)}, headers=bearer(f"guess-{i}")).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert c.post("/v1/check", json={"action": pay(1)}).status_code == 429  # no key at all
    ok = c.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw_keys["acme-agent"]))
    assert ok.status_code == 200  # a valid key is limited on its own count
