"""The review console in a real browser: headless Chromium against a real uvicorn server.

Decisions come in through the API (an agent's key) and the Guard, with real PII
redaction by the shipped marketplace pack; the reviewer signs in, filters, opens
details, approves an escalation an agent is long-polling on, labels and exports.
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from guard.policy import shipped_dir
from service import KeyStore, ServiceState, Settings, create_app
from service._auth import new_key
from tests.service.test_ui import ATTRIBUTION, RATIONALE, decision_record

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RAW_EMAIL = "jo.smith@example.com"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)

KEYS = {
    "acme-agent": (["check"], "acme"),
    "acme-reviewer": (["audit:read", "review"], "acme"),
    "globex-agent": (["check"], "globex"),
}

EXPLAINED = {
    **ATTRIBUTION,
    "method": "captum.IntegratedGradients",
    "feature_names": [
        "amount_usd",
        "payee_age_days",
        "disputes_90d",
        "new_payee",
        "hour_of_day",
        "invoice_matches",
        "velocity_1h",
        "country_risk",
    ],
    "values": [0.31, -0.22, 0.12, 0.09, -0.04, -0.15, 0.05, 0.02],
    "inputs": [7200.0, 3.0, 2.0, 1.0, 23.0, 0.0, 4.0, 0.4],
    "base_value": 0.2,
    "output": 0.38,
    "check": {"name": "convergence_delta", "value": 0.0031, "ok": True},
}


class Server:
    """A uvicorn server in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            loop="asyncio",
            http="h11",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shipped packs with PII detection, keys for two tenants, and seeded decisions."""
    tmp = tmp_path_factory.mktemp("console")
    raws, entries = {}, []
    for name, (scopes, tenant) in KEYS.items():
        raws[name], entry = new_key(name, scopes, tenant)
        entries.append(entry.as_yaml_dict())
    (tmp / "keys.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")
    settings = Settings(
        policy=str(shipped_dir()),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
        long_poll_max=30.0,
        poll_interval=0.05,
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    try:
        with Server(create_app(state=state)) as server:
            ids = _seed(server.url, state, raws)
            yield {"url": server.url, "state": state, "keys": raws, "ids": ids}
    finally:
        state.close()


def _check(url: str, raw: str, action: dict[str, Any], context: dict[str, Any]) -> str:
    r = httpx.post(
        f"{url}/v1/check",
        headers={"Authorization": f"Bearer {raw}"},
        json={"policy": "marketplace-agent", "action": action, "context": context},
    )
    r.raise_for_status()
    return str(r.json()["id"])


def _seed(url: str, state: ServiceState, raws: dict[str, str]) -> dict[str, str]:
    now = datetime.now(UTC)
    history = []
    plan = [
        ("allow", []),
        ("allow", []),
        ("redact", ["no-contact-before-contract"]),
        ("escalate", ["payment-needs-approval"]),
        ("allow", []),
        ("deny", ["payment-hard-limit"]),
    ]
    for i in range(72):
        verdict, rules = plan[i % len(plan)] if i % 7 else ("allow", [])
        hits = [
            {
                "rule_id": r,
                "effect": verdict,
                "message": f"{r.replace('-', ' ')}",
                "severity": "high",
            }
            for r in rules
        ]
        history.append(
            decision_record(
                id=f"hist-{i:03d}",
                time=(now - timedelta(minutes=175 - i * 2.4)).isoformat(),
                policy="marketplace-agent",
                actor=f"agent-{i % 5}",
                verdict=verdict,
                hits=hits,
                kind="release_payment" if "payment" in "".join(rules) else "send_message",
                mode="enforce" if verdict != "escalate" else "shadow",
            )
        )
    state.audit.append_many(history)
    state.audit.append(
        decision_record(
            id="globex-secret",
            tenant="globex",
            actor="globex-bot",
            verdict="deny",
            policy="marketplace-agent",
            hits=[{"rule_id": "payment-hard-limit", "effect": "deny", "message": "globex only"}],
        )
    )
    agent = raws["acme-agent"]
    ids = {
        "pii": _check(
            url,
            agent,
            {
                "kind": "send_message",
                "actor": "agent-42",
                "params": {
                    "to": "client-9",
                    "message": f"Great to meet you! Mail me at {RAW_EMAIL}, we skip the fees.",
                },
            },
            {"has_contract": False},
        ),
        "allowed": _check(
            url,
            agent,
            {
                "kind": "send_message",
                "actor": "agent-42",
                "params": {"to": "client-9", "message": "The proposal is attached."},
            },
            {"has_contract": True},
        ),
        "denied": _check(
            url,
            agent,
            {"kind": "release_payment", "actor": "agent-42", "params": {"amount": 25000}},
            {"role": "agent"},
        ),
        "held": _check(
            url,
            agent,
            {"kind": "release_payment", "actor": "agent-42", "params": {"amount": 700}},
            {"role": "agent"},
        ),
    }
    ranking = state.guard.rank(
        [
            {"id": "pro-1", "score": 0.93, "verified": True},
            {"id": "pro-2", "score": 0.88, "status": "suspended"},
            {"id": "pro-3", "score": 0.71, "verified": True, "seller_email": "x@y.example"},
        ],
        policy="ranking",
        tenant="acme",
        actor="search",
        query="plumber",
    )
    ids["ranking"] = ranking.id
    state.audit.append(
        decision_record(
            id="explained-1",
            policy="marketplace-agent",
            actor="planner-3",
            kind="release_payment",
            verdict="escalate",
            mode="shadow",
            action={"kind": "release_payment", "params": {"amount": 7200, "payee": "<PERSON>"}},
            final_action=None,
            hits=[
                {
                    "rule_id": "payment-needs-approval",
                    "effect": "escalate",
                    "message": "payment of 7200 needs approval",
                    "severity": "high",
                    "evidence": {"params.amount": 7200, 'get(context.role, "agent")': "agent"},
                }
            ],
            pii=[
                {
                    "entity_type": "PERSON",
                    "field": "params.payee",
                    "start": 0,
                    "end": 9,
                    "score": 0.85,
                    "recognizer": "SpacyRecognizer",
                }
            ],
            shadow={
                "policy": "marketplace-agent",
                "version": 2,
                "digest": "sha256:" + "ef" * 32,
                "verdict": "deny",
                "hits": [],
                "agrees": False,
            },
            explanations=[EXPLAINED, RATIONALE],
        )
    )
    ids["explained"] = "explained-1"
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"browser errors: {errors}"


def _sign_in(page: Any, site: dict[str, Any], path: str = "/ui/decisions") -> None:
    page.goto(site["url"] + path)
    assert "/ui/login" in page.url
    page.fill("input[name=key]", site["keys"]["acme-reviewer"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"**{path}*")


def test_list_filters_and_live_updates(page, site):
    from playwright.sync_api import expect

    _sign_in(page, site)
    table = page.locator("table.decisions tbody")
    expect(table.locator(f"a[href$='/{site['ids']['pii']}']")).to_have_count(1)
    assert "globex" not in page.content()  # a tenant key sees its tenant only
    assert page.locator("svg.timeline rect").count() > 10
    page.screenshot(path=str(ARTIFACTS / "ui-decisions.png"), full_page=True)

    page.select_option("select[name=verdict]", "redact")
    page.fill("input[name=q]", "contact details")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**verdict=redact**")
    rows = table.locator("tr")
    expect(rows.first).to_contain_text("no-contact-before-contract")
    for text in rows.all_inner_texts():
        assert "REDACT" in text.upper()
    expect(page.locator(".verdict-counts")).to_contain_text("redact")

    page.goto(site["url"] + "/ui/decisions")
    newest = (
        site["state"]
        .guard.check(
            {
                "kind": "release_payment",
                "actor": "live-agent",
                "tenant": "acme",
                "params": {"amount": 20000},
            },
            {"role": "agent"},
            policy="marketplace-agent",
        )
        .id
    )
    expect(table.locator(f"a[href$='/{newest}']")).to_have_count(1, timeout=12_000)
    expect(page.locator("#live-status")).to_contain_text("updated")


def test_detail_shows_masked_pii_attributions_and_search_tree(page, site):
    from playwright.sync_api import expect

    _sign_in(page, site)
    page.goto(f"{site['url']}/ui/decisions/{site['ids']['pii']}")
    expect(page.locator("mark.pii").first).to_have_text("<EMAIL_ADDRESS>")
    assert RAW_EMAIL not in page.content()
    expect(page.locator(".pii-table")).to_contain_text("EMAIL_ADDRESS")
    expect(page.locator("#proof")).to_contain_text("In the signed log")
    page.screenshot(path=str(ARTIFACTS / "ui-decision-pii.png"), full_page=True)

    page.goto(f"{site['url']}/ui/decisions/{site['ids']['explained']}")
    bars = page.locator("svg.attribution rect")
    expect(bars).to_have_count(8)
    assert page.locator("svg.attribution text.lbl").first.text_content().startswith("amount_usd")
    expect(page.locator(".explain-head .check.ok")).to_contain_text("convergence delta")
    expect(page.locator("svg.tree g.node.shielded")).to_contain_text("share phone number")
    expect(page.locator("svg.tree g.node.chosen")).to_contain_text("send quote")
    expect(page.locator("svg.tree g.pv")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "ui-decision.png"), full_page=True)

    page.goto(f"{site['url']}/ui/decisions/{site['ids']['ranking']}")
    expect(page.locator("body")).to_contain_text("pro-2")
    expect(page.locator("body")).to_contain_text("drop-suspended")


def test_approving_releases_the_agent_long_polling(page, site):
    from playwright.sync_api import expect

    held = site["ids"]["held"]
    answer: list[httpx.Response] = []

    def agent_waits() -> None:
        answer.append(
            httpx.get(
                f"{site['url']}/v1/escalations/{held}/wait",
                params={"timeout": 30},
                headers={"Authorization": f"Bearer {site['keys']['acme-agent']}"},
                timeout=40,
            )
        )

    waiter = threading.Thread(target=agent_waits, daemon=True)
    waiter.start()
    _sign_in(page, site, "/ui/escalations")
    row = page.locator(f"tr[id='esc-{held}']")
    expect(row).to_contain_text("payment of 700 needs approval")
    page.screenshot(path=str(ARTIFACTS / "ui-escalations.png"), full_page=True)
    assert waiter.is_alive()  # the agent is still waiting for a person
    row.locator("input[name=note]").fill("vendor verified by phone")
    row.locator("button:has-text('Approve')").click()
    expect(page.locator(".flash.ok")).to_contain_text("Approved")
    waiter.join(15)
    assert answer and answer[0].status_code == 200
    body = answer[0].json()
    assert "approve" in str(body)
    expect(page.locator(f"tr[id='esc-{held}']")).to_have_count(0)


def test_labels_feed_the_rules_page_and_exports_download(page, site, tmp_path):
    from playwright.sync_api import expect

    _sign_in(page, site)
    page.goto(f"{site['url']}/ui/decisions/{site['ids']['denied']}")
    page.check("input[name=label][value=false_positive]")
    page.fill("#review input[name=note]", "the customer had pre-approval")
    page.click("button:has-text('Save label')")
    expect(page.locator(".flash.ok")).to_contain_text("Label saved")
    expect(page.locator("#review")).to_contain_text("false positive")

    page.goto(site["url"] + "/ui/rules")
    row = page.locator("tr[id='rule-marketplace-agent-payment-hard-limit']")
    expect(row).to_contain_text("100%")
    page.screenshot(path=str(ARTIFACTS / "ui-rules.png"), full_page=True)

    page.goto(site["url"] + "/ui/decisions?label=false_positive")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("id,time,tenant") and site["ids"]["denied"] in text
    assert len(text.strip().splitlines()) == 2 and "globex" not in text
