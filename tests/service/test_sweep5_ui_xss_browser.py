"""Stored XSS sweep: hostile agent text in every field, every console page loaded in Chromium.

Agents are untrusted: kind, actor, params keys and values, ranked item ids, messages
filled from params, feature names and search-tree labels all carry script payloads. The
page must run no script but ui.js, hold no event-handler attribute or javascript: URL,
and trip no Content-Security-Policy violation (an injection the CSP merely blocked).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from tests.service.test_ui import ATTRIBUTION, RATIONALE, decision_record

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=2">',
    "javascript:window.__pwned=3",
    "</script><script>window.__pwned=4</script>",
    '<svg onload="window.__pwned=5"><script>alert(5)</script></svg>',
    "' onmouseover='window.__pwned=6' x='",
    "{{7*7}}<style>*{}</style><iframe src=javascript:alert(7)>",
    "\u202e<script>alert(8)</script>",
]
ALL = "|".join(PAYLOADS)
PACK = """\
name: xss-pack
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: echo
    when: has(params.x)
    effect: escalate
    message: "x is {params.x}, kind {kind}, actor {actor}"
  - id: keys
    when: "true"
    effect: allow
    message: "params {params}"
  - id: drop
    scope: item
    when: get(item.bad, false) == true
    effect: deny
    message: "item {item.id} dropped: {item.note}"
"""
PROBE = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  scripts: [...document.scripts].map(s => s.getAttribute('src') || 'inline: ' + s.text),
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
  urls: [...document.querySelectorAll('[href],[src],[action],[formaction]')]
      .flatMap(e => ['href', 'src', 'action', 'formaction'].map(n => e.getAttribute(n)))
      .filter(u => u !== null && !/^(\\/|#|data:,$)/.test(u)),
  frames: document.querySelectorAll('iframe,object,embed').length,
  violations: window.__violations || [],
})"""
WATCH = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from service import KeyStore, ServiceState, Settings, create_app
    from service._auth import new_key
    from tests.service.test_ui_browser import Server

    tmp = tmp_path_factory.mktemp("xss")
    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raws, entries = {}, []
    for name, scopes in (("agent", ["check"]), ("reviewer", ["audit:read", "review"])):
        raws[name], entry = new_key(name, scopes, "acme")
        entries.append(entry.as_yaml_dict())
    (tmp / "keys.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")
    settings = Settings(
        policy=str(tmp / "pack.yaml"),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    try:
        with Server(create_app(state=state)) as server:
            ids = _seed(server.url, state, raws["agent"])
            yield {"url": server.url, "key": raws["reviewer"], "ids": ids}
    finally:
        state.close()


def _seed(url: str, state: Any, agent: str) -> list[str]:
    ids = []
    for evil in PAYLOADS:  # through the API, as an agent sends them
        action = {"kind": evil, "actor": evil, "params": {evil: evil, "x": evil}}
        r = httpx.post(
            f"{url}/v1/check",
            headers={"Authorization": f"Bearer {agent}"},
            json={"policy": "xss-pack", "action": action},
        )
        r.raise_for_status()
        ids.append(str(r.json()["id"]))
    ranked = state.guard.rank(  # through the Python API
        [{"id": e, "score": 0.5, "bad": True, "note": e} for e in PAYLOADS],
        policy="xss-pack",
        tenant="acme",
        actor=ALL,
        query=ALL,
    )
    ids.append(ranked.id)
    named = zip(RATIONALE["actions"], PAYLOADS, strict=False)  # 3 actions, the first 3 payloads
    actions = [{**a, "action": e, "label": e} for a, e in named]
    state.audit.append(
        decision_record(
            id="xss-explained",
            policy="xss-pack",
            actor=ALL,
            kind=ALL,
            verdict="escalate",
            hits=[{"rule_id": ALL, "effect": "escalate", "message": ALL, "evidence": {ALL: ALL}}],
            explanations=[
                {**ATTRIBUTION, "method": ALL, "target": ALL, "feature_names": PAYLOADS[:5]},
                {
                    **RATIONALE,
                    "text": ALL,
                    "rule": ALL,
                    "chosen": PAYLOADS[0],
                    "chosen_label": ALL,
                    "actions": actions,
                    "principal_variation": PAYLOADS,
                    "shielded": [{"action": PAYLOADS[2], "rule": ALL}],
                },
                {"kind": ALL, "reason": ALL},
            ],
        )
    )
    ids.append("xss-explained")
    return ids


def test_no_console_page_runs_agent_text_as_script(hostile: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, evil = hostile["url"], quote(PAYLOADS[1], safe="")
    paths = [
        "/ui/decisions",
        f"/ui/decisions?q={evil}&actor={evil}&verdict={evil}",
        f"/ui/decisions/live?q={evil}",
        "/ui/escalations",
        f"/ui/escalations?done={evil}&cursor={evil}",
        "/ui/rules",
        "/ui/policies",
        "/ui/policies/xss-pack",
        f"/ui/policies/{evil}",
        f"/ui/decisions/{evil}",
        *(f"/ui/decisions/{i}" for i in hostile["ids"]),
    ]
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.add_init_script(WATCH)
            page.goto(f"{url}/ui/login?next={evil}")
            page.fill("input[name=key]", hostile["key"])
            page.click("button:has-text('Sign in')")
            page.wait_for_url("**/ui/decisions*")
            found = {}
            for path in paths:
                page.goto(url + path)
                page.wait_for_load_state("load")
                page.hover("body")
                found[path] = page.evaluate(PROBE)
        finally:
            browser.close()
    clean = {"pwned": None, "handlers": [], "urls": [], "frames": 0, "violations": []}
    for path, seen in found.items():
        scripts = seen.pop("scripts")
        assert seen == clean, path
        assert all(s.startswith("/ui/static/ui.js?v=") for s in scripts), (path, scripts)
    assert dialogs == []
    assert "xss-explained" in hostile["ids"] and len(found) == len(paths)
