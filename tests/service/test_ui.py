"""The review console at /ui, through the real app: sessions, CSRF, tenants, pages, exports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from guard._models import DecisionEventV1
from service import KeyStore, ServiceState
from service._state import RESOLUTION_SCHEMA, REVIEW_SCHEMA
from service.ui._charts import attribution_chart, timeline, tree_chart
from service.ui._query import Filters
from service.ui._routes import _local_path
from service.ui._session import COOKIE, MAX_AGE, SessionCodec
from tests.service.conftest import pay

RAW_EMAIL = "jo.smith@example.com"

ATTRIBUTION: dict[str, Any] = {
    "kind": "attribution",
    "method": "shap.TreeExplainer",
    "feature_names": ["amount", "account_age_days", "prior_disputes", "is_new_payee", "hour"],
    "values": [0.42, -0.18, 0.11, 0.07, -0.02],
    "inputs": [700.0, 12.0, 1.0, 1.0, 23.0],
    "base_value": 0.1,
    "output": 0.5,
    "check": {"name": "additivity_gap", "value": 2e-7, "ok": True},
}

RATIONALE: dict[str, Any] = {
    "kind": "rationale",
    "chosen": "send_quote",
    "chosen_label": "send quote",
    "rule": "most_visits",
    "actions": [
        {
            "action": "ask_details",
            "label": "ask for details",
            "visits": 301,
            "visit_share": 0.301,
            "q": 0.55,
            "prior": 0.3,
            "outcome": None,
            "shielded": False,
            "shield_rule": None,
        },
        {
            "action": "send_quote",
            "label": "send quote",
            "visits": 612,
            "visit_share": 0.612,
            "q": 0.72,
            "prior": 0.35,
            "outcome": None,
            "shielded": False,
            "shield_rule": None,
        },
        {
            "action": "share_phone",
            "label": "share phone number",
            "visits": 0,
            "visit_share": 0.0,
            "q": None,
            "prior": 0.2,
            "outcome": None,
            "shielded": True,
            "shield_rule": "no-contact-before-contract",
        },
    ],
    "principal_variation": ["send_quote", "client_accepts", "schedule_job"],
    "simulations": 1000,
    "text": "chose send quote: 61% of 1000 visits, Q 0.72 vs 0.55 for ask for details",
}


def decision_record(**fields: Any) -> dict[str, Any]:
    """A decision audit record with the engine's shape; `fields` override the defaults."""
    values: dict[str, Any] = {
        "id": f"ui-{fields.get('verdict', 'allow')}-{len(fields)}",
        "time": datetime.now(UTC).isoformat(),
        "policy": "svc-test",
        "policy_version": 1,
        "policy_digest": "sha256:" + "ab" * 32,
        "mode": "enforce",
        "tenant": "acme",
        "actor": "agent-7",
        "kind": "send_message",
        "action_digest": "sha256:" + "cd" * 32,
        "action": {"kind": "send_message", "params": {"message": "hi"}},
        "final_action": {"kind": "send_message", "params": {"message": "hi"}},
        "verdict": "allow",
        "hits": [],
        "pii": [],
        "pii_report": None,
    }
    values.update(fields)
    return DecisionEventV1(**values).model_dump(mode="json")


def pii_record(decision_id: str = "ui-pii-1", tenant: str = "acme") -> dict[str, Any]:
    """A redacted message as the engine records it: masked text, findings, explanations."""
    masked = "mail me at <EMAIL_ADDRESS> or ask for <PERSON>"
    return decision_record(
        id=decision_id,
        tenant=tenant,
        verdict="redact",
        masked=["params.message"],
        action={"kind": "send_message", "params": {"message": masked, "to": "u2"}},
        final_action={"kind": "send_message", "params": {"message": masked, "to": "u2"}},
        hits=[
            {
                "rule_id": "no-contact-before-contract",
                "effect": "redact",
                "message": "contact details removed before a contract exists",
                "severity": "medium",
                "evidence": {
                    "get(context.has_contract, false)": False,
                    'pii.any("EMAIL_ADDRESS")': True,
                },
            }
        ],
        pii=[
            {
                "entity_type": "EMAIL_ADDRESS",
                "field": "params.message",
                "start": 11,
                "end": 31,
                "score": 1.0,
                "recognizer": "OfflineEmailRecognizer",
            },
            {
                "entity_type": "PERSON",
                "field": "params.message",
                "start": 43,
                "end": 51,
                "score": 0.85,
                "recognizer": "SpacyRecognizer",
            },
        ],
        pii_report={
            "detectors": ["presidio-analyzer"],
            "entities_scanned": ["EMAIL_ADDRESS"],
            "fields_scanned": ["params.message"],
        },
        shadow={
            "policy": "svc-test-next",
            "version": 2,
            "digest": "sha256:" + "ef" * 32,
            "verdict": "deny",
            "hits": [],
            "agrees": False,
        },
        explanations=[ATTRIBUTION, RATIONALE],
    )


def seed(state: ServiceState) -> dict[str, str]:
    """Decisions of two tenants through the guard, plus a hand-made PII record."""
    g = state.guard
    ids = {
        "esc_acme": g.check(pay(700, tenant="acme")).id,
        "deny_acme": g.check({"kind": "run_shell", "actor": "bot", "tenant": "acme"}).id,
        "allow_globex": g.check(pay(100, tenant="globex", actor="globex-bot")).id,
        "esc_globex": g.check(pay(900, tenant="globex", actor="globex-bot")).id,
    }
    state.audit.append(pii_record())
    ids["pii_acme"] = "ui-pii-1"
    return ids


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: Any, raw: str) -> Any:
    token = csrf_of(client.get("/ui/login").text)
    return client.post("/ui/login", data={"key": raw, "csrf": token}, follow_redirects=False)


@pytest.fixture
def ui(keyed: Any) -> Any:
    """A keyed app (tenants acme and globex) with seeded decisions; `ui.ids` names them."""
    keyed.ids = seed(keyed.app_state)
    return keyed


def signed_in(ui: Any, raw_keys: dict[str, str], name: str) -> Any:
    ui.cookies.clear()
    assert login(ui, raw_keys[name]).status_code == 303
    return ui


# -- access -------------------------------------------------------------------------------


def test_pages_redirect_to_login_without_a_session(ui):
    r = ui.get("/ui/decisions?verdict=deny", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ui/login?next=")
    assert "verdict%3Ddeny" in r.headers["location"]
    assert ui.get("/ui/decisions/live").status_code == 401


def test_login_sets_an_httponly_samesite_cookie_and_goes_back(ui, raw_keys):
    token = csrf_of(ui.get("/ui/login").text)
    r = ui.post(
        "/ui/login",
        data={"key": raw_keys["acme-reviewer"], "csrf": token, "next": "/ui/rules"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/rules"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    assert raw_keys["acme-reviewer"] not in cookie
    page = ui.get("/ui/decisions")
    assert page.status_code == 200 and "acme-reviewer" in page.text


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        pytest.param(None, 401, "not valid", id="unknown-key"),
        pytest.param("acme-agent", 403, "lacks the &#39;audit:read&#39; scope", id="no-scope"),
    ],
)
def test_login_refuses_bad_keys(ui, raw_keys, name, status, text):
    r = login(ui, raw_keys[name] if name else "gk_not-a-key")
    assert r.status_code == status and text in r.text
    assert (
        COOKIE not in ui.cookies
        or ui.get("/ui/decisions", follow_redirects=False).status_code == 303
    )


def test_login_needs_the_forms_csrf_token(ui, raw_keys):
    ui.get("/ui/login")
    r = ui.post(
        "/ui/login", data={"key": raw_keys["admin"], "csrf": "forged"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert ui.get("/ui/decisions", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "wanted",
    ["https://evil.example/ui/", "//evil.example/ui/", "/\\evil.example", "javascript:x"],
)
def test_login_never_redirects_off_site(ui, raw_keys, wanted):
    token = csrf_of(ui.get("/ui/login").text)
    r = ui.post(
        "/ui/login",
        data={"key": raw_keys["admin"], "csrf": token, "next": wanted},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/ui/decisions"
    assert _local_path(wanted) == ""


def test_a_forged_cookie_is_a_login(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    value = ui.cookies[COOKIE]
    body, _, mac = value.rpartition(".")
    ui.cookies.set(COOKIE, body + "." + "0" * len(mac), path="/ui")
    assert ui.get("/ui/decisions", follow_redirects=False).status_code == 303


def test_sessions_expire(keys_file, raw_keys, monkeypatch):
    keys = KeyStore.from_file(keys_file)
    codec = SessionCodec(keys, b"s" * 32)
    principal = keys.authenticate(raw_keys["admin"])
    assert principal is not None
    _, cookie = codec.login(principal)
    later = time.time() + MAX_AGE + 1
    monkeypatch.setattr("service.ui._session.time.time", lambda: later)
    assert codec.load(cookie) is None


def test_a_removed_key_ends_its_sessions(keys_file, raw_keys):
    keys = KeyStore.from_file(keys_file)
    codec = SessionCodec(keys, b"s" * 32)
    principal = keys.authenticate(raw_keys["acme-reviewer"])
    assert principal is not None
    session, cookie = codec.login(principal)
    assert codec.load(cookie) == session
    fewer = KeyStore([e for e in keys.entries if e.name != "acme-reviewer"])
    assert SessionCodec(fewer, b"s" * 32).load(cookie) is None
    assert SessionCodec(keys, b"t" * 32).load(cookie) is None  # another secret


def test_logout_needs_csrf_and_clears_the_session(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    page = ui.get("/ui/decisions").text
    assert ui.post("/ui/logout", data={"csrf": "x"}).status_code == 403
    r = ui.post("/ui/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
    assert ui.get("/ui/decisions", follow_redirects=False).status_code == 303


def test_open_access_needs_no_login_and_says_so(client):
    seed(client.app_state)
    page = client.get("/ui/decisions")
    assert page.status_code == 200
    assert "Open access." in page.text and "Sign out" not in page.text
    assert "HttpOnly" in page.headers["set-cookie"]
    assert client.get("/ui/login", follow_redirects=False).status_code == 303
    # CSRF still guards every form
    r = client.post("/ui/decisions/ui-pii-1/label", data={"label": "correct"})
    assert r.status_code == 403


def test_every_page_sends_a_strict_csp(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    for path in (
        "/ui/decisions",
        f"/ui/decisions/{ui.ids['pii_acme']}",
        "/ui/escalations",
        "/ui/rules",
        "/ui/policies",
        "/ui/policies/svc-test",
        "/ui/login",
    ):
        r = ui.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert "<script>" not in r.text and " style=" not in r.text


# -- tenant isolation ---------------------------------------------------------------------


def test_a_tenant_key_never_sees_another_tenants_decisions(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-reviewer")
    ids = ui.ids
    page = ui.get("/ui/decisions", params={"tenant": "globex"}).text
    for name in ("esc_acme", "deny_acme", "pii_acme"):
        assert ids[name] in page
    for name in ("allow_globex", "esc_globex"):
        assert ids[name] not in page
    assert "globex-bot" not in page
    assert ui.get(f"/ui/decisions/{ids['esc_globex']}").status_code == 404
    assert ids["esc_globex"] not in ui.get("/ui/escalations").text
    export = ui.get("/ui/decisions/export", params={"format": "jsonl", "tenant": "globex"})
    assert export.status_code == 403  # refused, as the API refuses it
    assert "globex-bot" not in export.text and ids["esc_globex"] not in export.text
    r = ui.post(
        f"/ui/decisions/{ids['allow_globex']}/label",
        data={"label": "false_positive", "csrf": csrf_of(page)},
    )
    assert r.status_code == 404
    r = ui.post(
        f"/ui/escalations/{ids['esc_globex']}/resolve",
        data={"outcome": "approve", "csrf": csrf_of(page)},
    )
    assert r.status_code == 404
    assert ui.app_state.escalations.resolution(ids["esc_globex"]) is None


def test_an_operator_key_sees_every_tenant_and_can_filter_one(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    everything = ui.get("/ui/decisions").text
    assert all(i in everything for i in ui.ids.values())
    globex = ui.get("/ui/decisions", params={"tenant": "globex"}).text
    assert ui.ids["esc_globex"] in globex and ui.ids["esc_acme"] not in globex


# -- the list -----------------------------------------------------------------------------


def _rows(html: str) -> list[str]:
    return re.findall(r'href="/ui/decisions/([^"?/]+)"', html.split('class="decisions"')[1])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"verdict": "escalate"}, {"esc_acme", "esc_globex"}, id="verdict"),
        pytest.param({"rule": "no-shell"}, {"deny_acme"}, id="rule"),
        pytest.param({"policy": "svc-test", "version": "1"}, "all", id="policy-version"),
        pytest.param({"version": "2"}, set(), id="version-miss"),
        pytest.param({"actor": "globex-bot"}, {"allow_globex", "esc_globex"}, id="actor"),
        pytest.param({"tenant": "acme", "verdict": "redact"}, {"pii_acme"}, id="tenant"),
        pytest.param({"disagree": "1"}, {"pii_acme"}, id="shadow-disagrees"),
        pytest.param({"q": "NEEDS APPROVAL"}, {"esc_acme", "esc_globex"}, id="search"),
        pytest.param({"q": "no such words"}, set(), id="search-miss"),
        pytest.param({"last": "1h"}, "all", id="last-hour"),
        pytest.param({"since": "2999-01-01T00:00"}, set(), id="since-future"),
        pytest.param({"until": "2000-01-01T00:00"}, set(), id="until-past"),
    ],
)
def test_filters_narrow_the_list(ui, raw_keys, params, expected):
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/decisions", params=params).text
    want = set(ui.ids.values()) if expected == "all" else {ui.ids[n] for n in expected}
    assert set(_rows(html)) == want


def test_label_filter_and_counts(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    state = ui.app_state
    state.label(ui.ids["deny_acme"], "false_positive", "harmless", "ana", None)
    assert set(_rows(ui.get("/ui/decisions?label=any").text)) == {ui.ids["deny_acme"]}
    assert set(_rows(ui.get("/ui/decisions?label=false_positive").text)) == {ui.ids["deny_acme"]}
    assert ui.ids["deny_acme"] not in _rows(ui.get("/ui/decisions?label=none").text)
    assert _rows(ui.get("/ui/decisions?label=correct").text) == []


def test_the_list_counts_verdicts_and_rules_and_charts_them(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/decisions").text
    counts = dict(re.findall(r'class="verdict v-(\w+)">\w+</span> <b>(\d+)</b>', html))
    assert counts == {"allow": "1", "redact": "1", "escalate": "2", "deny": "1"}
    assert re.search(r'rule=big-payment">big-payment</a></td><td class="num">2<', html)
    assert html.count('<rect class="v-') >= 4 and "Verdicts over time" in html
    narrowed = ui.get("/ui/decisions?tenant=globex").text
    counts = dict(re.findall(r'class="verdict v-(\w+)">\w+</span> <b>(\d+)</b>', narrowed))
    assert counts == {"allow": "1", "redact": "0", "escalate": "1", "deny": "0"}


def test_bad_filter_values_are_reported_not_fatal(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    r = ui.get(
        "/ui/decisions", params={"verdict": "<b>x</b>", "since": "yesterday", "cursor": "garbage"}
    )
    assert r.status_code == 200
    assert "unknown verdict &#39;&lt;b&gt;x&lt;/b&gt;&#39;" in r.text
    assert "is not a date and time" in r.text and "invalid cursor" in r.text


def test_the_list_pages_with_cursors(ui, raw_keys):
    for i in range(55):
        ui.app_state.guard.check(pay(i + 1, tenant="acme", actor=f"bulk-{i}"))
    signed_in(ui, raw_keys, "admin")
    first = ui.get("/ui/decisions?rule=&actor=").text
    assert len(_rows(first)) == 50
    older = re.search(r'href="(/ui/decisions\?cursor=[^"]+)" id="older"', first)
    assert older
    second = ui.get(older.group(1).replace("&amp;", "&")).text
    rest = _rows(second)
    assert len(rest) == 55 + len(ui.ids) - 50 and not set(rest) & set(_rows(first))
    assert "data-live-url" not in second  # only the newest page polls


def test_the_live_fragment_carries_the_same_filters(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    page = ui.get("/ui/decisions?verdict=deny").text
    live = re.search(r'data-live-url="([^"]+)"', page)
    assert live and "verdict=deny" in live.group(1)
    fragment = ui.get(live.group(1).replace("&amp;", "&"))
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert set(_rows(fragment.text)) == {ui.ids["deny_acme"]}
    later = ui.app_state.guard.check({"kind": "run_shell", "tenant": "acme"}).id
    assert later in ui.get(live.group(1).replace("&amp;", "&")).text


# -- the detail page ----------------------------------------------------------------------


def test_detail_masks_pii_and_lists_findings(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-auditor")
    html = ui.get("/ui/decisions/ui-pii-1").text
    assert '<mark class="pii" title="masked PII">&lt;EMAIL_ADDRESS&gt;</mark>' in html
    assert '<mark class="pii" title="masked PII">&lt;PERSON&gt;</mark>' in html
    assert RAW_EMAIL not in html
    table = html.split('class="compact pii-table"')[1].split("</table>")[0]
    for text in (
        "EMAIL_ADDRESS",
        "params.message",
        "11–31",
        "OfflineEmailRecognizer",
        "0.85",
        "SpacyRecognizer",
    ):
        assert text in table
    assert 'name="label"' not in html  # an auditor without `review` gets no label form


def test_detail_shows_hits_evidence_policy_shadow_and_proof(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    html = ui.get(f"/ui/decisions/{ui.ids['esc_acme']}").text
    assert "big-payment" in html and "payment of 700 needs approval" in html
    assert "<code>params.amount</code>" in html and "<code>700</code>" in html
    assert 'href="/ui/policies/svc-test#L' in html
    assert 'href="/v1/policies/svc-test"' in html
    assert "✓ In the signed log" in html
    size = ui.app_state.audit.size
    assert f"of {size}" in html
    shadow = ui.get("/ui/decisions/ui-pii-1").text
    assert "svc-test-next" in shadow and "disagrees with the live verdict" in shadow


def test_detail_draws_the_attribution_sorted_with_its_check(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/decisions/ui-pii-1").text
    svg = html.split('class="chart attribution"')[1].split("</svg>")[0]
    labels = re.findall(r'class="lbl"[^>]*>([^<]+)<', svg)
    assert [lbl.split(" = ")[0] for lbl in labels] == [
        "amount",
        "account_age_days",
        "prior_disputes",
        "is_new_payee",
        "hour",
    ]
    assert svg.count('class="pos"') == 3 and svg.count('class="neg"') == 2
    assert "base value <b>0.1</b>" in html and "output <b>0.5</b>" in html
    assert "✓ additivity gap 2.00e-07" in html


def test_detail_draws_the_search_tree_with_shielded_actions(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/decisions/ui-pii-1").text
    svg = html.split('class="chart tree"')[1].split("</svg>")[0]
    assert re.search(r'<g class="node chosen">\s*<title>send quote', svg)
    assert re.search(r'<g class="node shielded">\s*<title>share phone number', svg)
    assert "shielded by no-contact-before-contract" in svg
    assert "612 visits (61%) · Q 0.72 · prior 0.35" in svg
    assert "client_accepts" in svg and "schedule_job" in svg
    assert svg.index("send quote") < svg.index("ask for details") < svg.index("share phone")


@pytest.mark.parametrize(
    "explanation",
    [
        pytest.param({"kind": "attribution"}, id="attribution-empty"),
        pytest.param(
            {
                "kind": "attribution",
                "feature_names": ["a"],
                "values": ["x", None],
                "base_value": "nan",
                "check": "broken",
            },
            id="attribution-garbage",
        ),
        pytest.param(
            {
                "kind": "attribution",
                "feature_names": ["a", "b"],
                "values": [1, 2],
                "check_name": "convergence_delta",
                "check_value": 0.3,
                "check_ok": False,
                "tolerance": 0.01,
            },
            id="attribution-flat-check",
        ),
        pytest.param({"kind": "rationale"}, id="rationale-empty"),
        pytest.param(
            {
                "kind": "rationale",
                "actions": [{"visits": "many"}, 3, None],
                "principal_variation": "abc",
                "shielded": [{"action": "z"}],
            },
            id="rationale-garbage",
        ),
        pytest.param({"kind": "unavailable", "reason": "shap is not installed"}, id="unavailable"),
        pytest.param({"no": "kind"}, id="unknown"),
    ],
)
def test_malformed_explanations_never_break_the_page(ui, raw_keys, explanation):
    ui.app_state.audit.append(decision_record(id="ui-odd", explanations=[explanation]))
    signed_in(ui, raw_keys, "admin")
    r = ui.get("/ui/decisions/ui-odd")
    assert r.status_code == 200 and "Explanations" in r.text


def test_record_text_is_escaped_everywhere(ui, raw_keys):
    evil = '<script>alert("x")</script>'
    ui.app_state.audit.append(
        decision_record(
            id="ui-evil",
            actor=evil,
            kind=evil,
            verdict="deny",
            final_action=None,
            hits=[{"rule_id": evil, "effect": "deny", "message": evil, "evidence": {evil: evil}}],
            explanations=[
                {**ATTRIBUTION, "method": evil, "feature_names": [evil] * 5},
                {**RATIONALE, "text": evil},
            ],
        )
    )
    signed_in(ui, raw_keys, "admin")
    for path in ("/ui/decisions", "/ui/decisions/ui-evil", "/ui/rules"):
        html = ui.get(path).text
        assert evil not in html and "<script>alert" not in html, path
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in ui.get("/ui/decisions/ui-evil").text


def test_unknown_decisions_are_404_pages(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    r = ui.get("/ui/decisions/nope")
    assert r.status_code == 404 and "No decision with id" in r.text


# -- escalations --------------------------------------------------------------------------


def _wait_in_thread(state: ServiceState, decision_id: str) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []

    def run() -> None:
        got.append(asyncio.run(state.escalations.wait(decision_id, 20.0)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, got


def test_approving_an_escalation_releases_the_waiting_agent(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-reviewer")
    held = ui.ids["esc_acme"]
    queue = ui.get("/ui/escalations").text
    assert f'id="esc-{held}"' in queue and "payment of 700 needs approval" in queue
    thread, got = _wait_in_thread(ui.app_state, held)
    r = ui.post(
        f"/ui/escalations/{held}/resolve",
        data={"outcome": "approve", "note": "known vendor", "csrf": csrf_of(queue)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    thread.join(10)
    assert got and got[0]["outcome"] == "approve" and got[0]["reviewer"] == "acme-reviewer"
    after = ui.get(r.headers["location"]).text
    assert "Approved" in after and f'id="esc-{held}"' not in after
    assert "known vendor" in after  # the recently-resolved table
    record = ui.app_state.audit.get(f"{held}.resolution").record
    assert record["schema_version"] == RESOLUTION_SCHEMA and record["note"] == "known vendor"


def test_a_second_resolution_is_a_conflict(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    held = ui.ids["esc_globex"]
    token = csrf_of(ui.get("/ui/escalations").text)
    ui.post(f"/ui/escalations/{held}/resolve", data={"outcome": "deny", "csrf": token})
    r = ui.post(f"/ui/escalations/{held}/resolve", data={"outcome": "approve", "csrf": token})
    assert r.status_code == 409 and "already resolved" in r.text


@pytest.mark.parametrize(
    ("key", "outcome", "csrf", "status"),
    [
        pytest.param("acme-auditor", "approve", "real", 403, id="no-review-scope"),
        pytest.param("acme-reviewer", "approve", "forged", 403, id="forged-csrf"),
        pytest.param("acme-reviewer", "approve", None, 403, id="no-csrf"),
        pytest.param("acme-reviewer", "maybe", "real", 400, id="bad-outcome"),
    ],
)
def test_resolving_needs_scope_csrf_and_a_known_outcome(ui, raw_keys, key, outcome, csrf, status):
    signed_in(ui, raw_keys, key)
    token = csrf_of(ui.get("/ui/decisions").text)
    body = {"outcome": outcome}
    if csrf is not None:
        body["csrf"] = token if csrf == "real" else csrf
    r = ui.post(f"/ui/escalations/{ui.ids['esc_acme']}/resolve", data=body)
    assert r.status_code == status
    assert ui.app_state.escalations.resolution(ui.ids["esc_acme"]) is None


def test_resolving_a_decision_that_was_not_held_is_a_conflict(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    token = csrf_of(ui.get("/ui/escalations").text)
    r = ui.post(
        f"/ui/escalations/{ui.ids['deny_acme']}/resolve", data={"outcome": "approve", "csrf": token}
    )
    assert r.status_code == 409


def test_a_cross_site_origin_is_refused(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    token = csrf_of(ui.get("/ui/escalations").text)
    r = ui.post(
        f"/ui/escalations/{ui.ids['esc_acme']}/resolve",
        data={"outcome": "approve", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403


# -- labels and rules ---------------------------------------------------------------------


def test_labelling_writes_a_review_record_and_shows_it(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-reviewer")
    target = ui.ids["deny_acme"]
    page = ui.get(f"/ui/decisions/{target}").text
    r = ui.post(
        f"/ui/decisions/{target}/label",
        data={"label": "false_positive", "note": "a dry run", "csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = ui.get(r.headers["location"]).text
    assert "Label saved" in after and "false positive" in after and "a dry run" in after
    reviews = ui.app_state.audit.query(record_type=REVIEW_SCHEMA, ref_id=target).items
    assert [(s.record["label"], s.record["reviewer"], s.record["tenant"]) for s in reviews] == [
        ("false_positive", "acme-reviewer", "acme")
    ]


def test_labels_need_the_review_scope_and_a_known_label(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-auditor")
    token = csrf_of(ui.get("/ui/decisions").text)
    target = f"/ui/decisions/{ui.ids['deny_acme']}/label"
    assert ui.post(target, data={"label": "correct", "csrf": token}).status_code == 403
    signed_in(ui, raw_keys, "acme-reviewer")
    token = csrf_of(ui.get("/ui/decisions").text)
    assert ui.post(target, data={"label": "meh", "csrf": token}).status_code == 400


def test_the_rules_page_shows_false_positive_rates(ui, raw_keys):
    state = ui.app_state
    shells = [state.guard.check({"kind": "run_shell", "tenant": "acme"}).id for _ in range(3)]
    for decision_id, label in zip(
        shells, ["false_positive", "false_positive", "correct"], strict=True
    ):
        state.label(decision_id, label, "", "ana", None)
    state.label(ui.ids["deny_acme"], "correct", "", "ana", None)
    state.label(ui.ids["allow_globex"], "false_negative", "", "ana", None)
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/rules").text
    row = html.split('id="rule-svc-test-no-shell"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(?:<a [^>]+>)?(\d+)', row)
    assert cells == ["4", "2", "2", "0"]  # hits, correct, false +, false −
    assert "<b>50%</b>" in row and "of 4" in row
    assert "Missed by every rule" in html
    # a tenant key's rules page counts only its tenant
    signed_in(ui, raw_keys, "globex-reader")
    globex = ui.get("/ui/rules").text
    row = globex.split('id="rule-svc-test-no-shell"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(?:<a [^>]+>)?(\d+)', row) == ["0", "0", "0", "0"]


def test_the_policy_page_shows_the_source_with_line_anchors(ui, raw_keys):
    signed_in(ui, raw_keys, "admin")
    html = ui.get("/ui/policies/svc-test").text
    pack = ui.app_state.guard.packs["svc-test"]
    line = next(r.line for r in pack.rules if r.id == "no-shell")
    assert f'<li id="L{line}" class="rule-line"><code>  - id: no-shell</code></li>' in html
    assert ui.get("/ui/policies/nope").status_code == 404
    assert "svc-test" in ui.get("/ui/policies").text


# -- exports ------------------------------------------------------------------------------


def test_csv_export_holds_the_filtered_set(ui, raw_keys):
    ui.app_state.audit.append(
        decision_record(
            id="ui-formula",
            verdict="deny",
            actor='=HYPERLINK("http://x")',
            hits=[{"rule_id": "no-shell", "effect": "deny", "message": "+cmd"}],
        )
    )
    signed_in(ui, raw_keys, "admin")
    r = ui.get("/ui/decisions/export", params={"verdict": "deny"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["id"] for row in rows} == {ui.ids["deny_acme"], "ui-formula"}
    formula = next(row for row in rows if row["id"] == "ui-formula")
    assert formula["actor"].startswith("'=") and formula["messages"] == "'+cmd"
    assert next(row for row in rows if row["id"] == ui.ids["deny_acme"])["rule_ids"] == "no-shell"


def test_jsonl_export_holds_masked_records(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-auditor")
    r = ui.get("/ui/decisions/export", params={"format": "jsonl", "verdict": "redact"})
    records = [json.loads(line) for line in r.text.splitlines()]
    assert [x["id"] for x in records] == ["ui-pii-1"]
    assert records[0]["action"]["params"]["message"].startswith("mail me at <EMAIL_ADDRESS>")
    assert RAW_EMAIL not in r.text
    assert ui.get("/ui/decisions/export", params={"since": "nonsense"}).status_code == 400
    assert ui.get("/ui/decisions/export", params={"format": "xml"}).status_code == 400


# -- pieces -------------------------------------------------------------------------------


def test_the_package_exports_only_the_router_factory():
    import service.ui

    assert service.ui.__all__ == ["create_ui_router"]


def test_static_files_are_served_and_nothing_else(ui, raw_keys):
    assert ui.get("/ui/static/ui.css").headers["content-type"].startswith("text/css")
    assert ui.get("/ui/static/ui.js").status_code == 200
    assert ui.get("/ui/static/..%2F_routes.py").status_code == 404
    assert ui.get("/ui/static/missing.css").status_code == 404


def test_attribution_chart_sorts_by_magnitude_and_sums_the_rest():
    names = [f"f{i}" for i in range(25)]
    values = [(-1) ** i * (i + 1) / 100 for i in range(25)]
    chart = attribution_chart({"feature_names": names, "values": values, "base_value": 1.0})
    assert [b.name for b in chart.bars][:3] == ["f24", "f23", "f22"]
    assert len(chart.bars) == 20 and chart.omitted == 5
    assert chart.output == f"{1.0 + sum(values):.3f}".rstrip("0")
    assert all(b.x >= chart.label_w for b in chart.bars)
    pos = next(b for b in chart.bars if b.positive)
    neg = next(b for b in chart.bars if not b.positive)
    assert pos.x == pytest.approx(chart.zero_x) and neg.x + neg.w == pytest.approx(chart.zero_x)


def test_tree_chart_puts_shielded_actions_last_and_follows_the_pv():
    chart = tree_chart(RATIONALE)
    assert [n.full_label for n in chart.nodes] == [
        "send quote",
        "ask for details",
        "share phone number",
    ]
    assert [n.chosen for n in chart.nodes] == [True, False, False]
    assert chart.nodes[2].shielded and chart.nodes[2].shield_rule == "no-contact-before-contract"
    assert [s.full for s in chart.pv] == ["client_accepts", "schedule_job"]


def test_timeline_buckets_cover_the_window():
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    times = [
        (now - timedelta(minutes=m), v)
        for m, v in [(1, "deny"), (2, "allow"), (50, "allow"), (59, "escalate")]
    ]
    chart = timeline(times, now - timedelta(hours=1), None, now)
    assert chart is not None and chart.step_text == "5 min"
    assert sum(1 for r in chart.rects) == 4
    assert timeline([], None, None, now) is None


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        pytest.param({"verdict": "deny", "last": "24h"}, 0, id="good"),
        pytest.param({"verdict": "block"}, 1, id="bad-verdict"),
        pytest.param({"label": "meh", "last": "2y"}, 2, id="bad-label-and-last"),
        pytest.param({"until": "2030-13-01T00:00"}, 1, id="bad-date"),
        pytest.param({"disagree": "on"}, 0, id="disagree-on"),
        pytest.param({"disagree": "bogus"}, 1, id="bad-disagree"),
    ],
)
def test_filters_validate_their_values(params, errors):
    filters, found = Filters.from_params(params)
    assert len(found) == errors
    assert set(filters.params()) <= set(params)


def test_workers_share_one_session_secret(settings, keys_file, raw_keys, monkeypatch):
    """`guard serve --workers 2`: a session made by one worker is valid on the other."""
    import os

    from fastapi.testclient import TestClient

    import service._server as server
    from service import app_from_env

    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    monkeypatch.setattr(os, "environ", env)  # what serve() exports stays in this test
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: started.append(kw))
    server.serve(settings.with_(workers=2, keys=str(keys_file)))
    assert started and started[0]["workers"] == 2
    assert len(env["GUARD_SESSION_SECRET"]) >= 32
    with TestClient(app_from_env()) as one, TestClient(app_from_env()) as two:
        assert login(one, raw_keys["admin"]).status_code == 303
        assert one.get("/ui/decisions", follow_redirects=False).status_code == 200
        two.cookies.set(COOKIE, one.cookies[COOKIE])
        assert two.get("/ui/decisions", follow_redirects=False).status_code == 200


def test_without_a_shared_secret_another_process_signs_you_out(settings, keys_file, raw_keys):
    """The control for the test above: two apps with their own secrets do not share."""
    from fastapi.testclient import TestClient

    from service import create_app

    keyed = settings.with_(keys=str(keys_file))
    with TestClient(create_app(keyed)) as one, TestClient(create_app(keyed)) as two:
        assert login(one, raw_keys["admin"]).status_code == 303
        two.cookies.set(COOKIE, one.cookies[COOKIE])
        assert two.get("/ui/decisions", follow_redirects=False).status_code == 303
