"""A new reviewer tries the console in Chromium: history, linked time filters, a damaged
log, unknown pages and a phone-width window.

Before: going back from a filtered list to the unfiltered one showed the old filter
values in the form (Chrome restores form fields) over an unfiltered list and export; a
link's since/until written with Z, an offset or a date alone filtered the list but was
shown empty in the From/To fields, so the next Apply dropped it; a tampered record made
its page (and every list and the rules page that read it) the API's JSON error, and an
unknown console address answered JSON too; at 320 px the toolbar broke "Export CSV" and
"Live" into letters stacked one per line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml

from tests.service.conftest import PACK
from tests.service.test_ui import decision_record, login

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


def _state(tmp: Path) -> tuple[Any, str]:
    """A console's state on a rules-only pack and a new audit log, and a reviewer's key."""
    from service import KeyStore, ServiceState, Settings
    from service._auth import new_key

    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raw, entry = new_key("acme-reviewer", ["audit:read", "review"], "acme")
    (tmp / "keys.yaml").write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    settings = Settings(
        policy=str(tmp / "pack.yaml"),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
    )
    return ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml")), raw


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from service import create_app
    from tests.service.test_ui_browser import Server

    state, raw = _state(tmp_path_factory.mktemp("sweep10"))
    records = [decision_record(id=f"row-{i:02d}", actor=f"agent-{i % 3}") for i in range(9)]
    state.audit.append_many(records)
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "key": raw, "state": state}
    finally:
        state.close()


@pytest.fixture
def http(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """A signed-in TestClient on a console of its own (these tests damage its log)."""
    from fastapi.testclient import TestClient

    from service import create_app

    state, raw = _state(tmp_path)
    try:
        with TestClient(create_app(state=state)) as client:
            assert login(client, raw).status_code == 303
            yield client, state
    finally:
        state.close()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["key"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    yield page
    context.close()
    assert errors == []


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@needs_chromium
def test_back_to_the_unfiltered_list_shows_no_filters(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/ui/decisions")
    page.select_option("select[name=verdict]", "deny")
    page.fill("input[name=actor]", "agent-1")
    page.check("input[name=disagree]")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**actor=agent-1*")
    page.go_back()
    page.wait_for_load_state()
    assert page.url == site["url"] + "/ui/decisions"
    # The list and its export are unfiltered: so is the form that shows the filters.
    assert page.input_value("input[name=actor]") == ""
    assert page.input_value("select[name=verdict]") == ""
    assert not page.is_checked("input[name=disagree]")
    page.go_forward()
    page.wait_for_load_state()
    assert page.input_value("input[name=actor]") == "agent-1"
    assert page.input_value("select[name=verdict]") == "deny"


@needs_chromium
@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("2026-11-26T10:00:00Z", "2026-11-26T10:00"),
        ("2026-11-26T12:00+02:00", "2026-11-26T10:00"),
        ("2026-11-26", "2026-11-26T00:00"),
        ("2026-11-26 10:00:30", "2026-11-26T10:00:30"),
        ("2026-11-26T10:00", "2026-11-26T10:00"),
    ],
)
def test_a_linked_time_filter_is_shown_and_kept(
    page: Any, site: dict[str, Any], given: str, shown: str
) -> None:
    page.goto(f"{site['url']}/ui/decisions?since={quote(given)}&until={quote(given)}")
    # Read as a time (no "not a date" error); the one notice is that this window is empty.
    notices = page.locator(".flash.error").all_inner_texts()
    assert len(notices) == 1 and "to is exclusive" in notices[0], notices
    assert page.input_value("input[name=since]") == shown
    assert page.input_value("input[name=until]") == shown
    page.select_option("select[name=verdict]", "allow")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**verdict=allow*")
    query = _query(page.url)
    assert query["since"] == [shown] and query["until"] == [shown]


@needs_chromium
def test_the_toolbar_wraps_whole_words_in_a_phone_width_window(
    page: Any, site: dict[str, Any]
) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(site["url"] + "/ui/decisions")
    lines = page.evaluate(
        """() => [...document.querySelectorAll('.toolbar .button, .toolbar label')].map(e => {
             const text = [...e.childNodes].find(n => n.nodeType === 3 && n.data.trim());
             const r = document.createRange(); r.selectNodeContents(text);
             const tops = [...r.getClientRects()].map(x => Math.round(x.top));
             return [e.textContent.trim(), new Set(tops).size]; })"""
    )
    assert [text for text, _ in lines] == ["Export CSV", "Export JSONL", "Live"]
    assert all(n == 1 for _, n in lines), lines


def _tamper(db: Path, record_id: str, body: bytes) -> None:
    with sqlite3.connect(db) as con:
        con.execute("UPDATE leaves SET record = ? WHERE id = ?", (body, record_id))


@pytest.mark.parametrize(
    "path",
    ["/ui/decisions/bad-1", "/ui/decisions?actor=agent-9", "/ui/rules"],
)
def test_a_tampered_record_gets_a_console_page(
    http: tuple[Any, Any], tmp_path: Path, path: str
) -> None:
    client, state = http
    state.audit.append(decision_record(id="bad-1", actor="agent-9"))
    _tamper(tmp_path / "audit.db", "bad-1", b"[1, 2]")
    r = client.get(path)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in r.headers
    assert "audit log tampered at index 0 (record id &#39;bad-1&#39;)" in r.text
    assert "Back to the decisions" in r.text


def test_an_unknown_console_page_is_a_console_page(http: tuple[Any, Any]) -> None:
    client, _ = http
    r = client.get("/ui/decisions/some/thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "No console page at /ui/decisions/some/thing" in r.text
    # Wrong methods and trailing slashes keep their answers.
    assert client.get("/ui/logout").status_code == 405
    r = client.get("/ui/decisions/", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/ui/decisions")


def test_a_rule_filter_with_spaces_says_why_nothing_matches(http: tuple[Any, Any]) -> None:
    """Rule ids hold no spaces (the store cannot match one that does): words typed in the
    Rule field (a message, say) matched nothing, with no word on why."""
    client, state = http
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "payment needs approval"}
    state.audit.append(decision_record(id="held-1", verdict="escalate", hits=[hit]))
    r = client.get("/ui/decisions", params={"rule": "needs approval"})
    assert r.status_code == 200
    assert "rule ids have no spaces" in r.text and "Search rule messages" in r.text
    assert 'name="rule" list="rule-ids" value=""' in r.text  # dropped, as other bad filters
    assert client.get("/ui/decisions/export", params={"rule": "a b"}).status_code == 400


def test_an_empty_log_says_so(http: tuple[Any, Any]) -> None:
    client, _ = http
    assert "No decisions in the log yet." in client.get("/ui/decisions").text
    filtered = client.get("/ui/decisions", params={"verdict": "deny"}).text
    assert "No decisions match these filters." in filtered


@needs_chromium
def test_a_paused_live_list_says_paused_after_back(page: Any, site: dict[str, Any]) -> None:
    """Chrome puts the unchecked Live box back on Back; the status still said 'live'."""
    from playwright.sync_api import expect

    page.goto(site["url"] + "/ui/decisions")
    page.uncheck("#live")
    assert page.inner_text("#live-status") == "paused"
    page.click("table.decisions tbody tr:nth-child(2) td a")
    page.wait_for_url("**/ui/decisions/row-*")
    page.go_back()
    page.wait_for_load_state()
    assert not page.is_checked("#live")
    expect(page.locator("#live-status")).to_have_text("paused")  # was 'live: every 5 s'


def test_resolving_twice_from_a_decision_page_stays_on_it(http: tuple[Any, Any]) -> None:
    """Before: the second Approve on a decision's page (another tab, another reviewer)
    left it for the escalations list with a 409, away from the decision and its resolution."""
    import re

    client, state = http
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "payment needs approval"}
    state.audit.append(
        decision_record(id="held-2", kind="pay", verdict="escalate", hits=[hit], final_action=None)
    )
    page = client.get("/ui/decisions/held-2").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "back": "detail", "note": "first"}
    first = client.post("/ui/escalations/held-2/resolve", data={**form, "outcome": "deny"})
    assert first.status_code == 200 and "Escalation resolved" in first.text
    second = client.post(
        "/ui/escalations/held-2/resolve",
        data={**form, "outcome": "approve", "note": "second"},
        follow_redirects=False,
    )
    assert second.status_code == 303
    assert second.headers["location"] == "/ui/decisions/held-2?done=already"
    shown = client.get(second.headers["location"]).text
    assert "was already resolved" in shown and "nothing was changed" in shown
    assert "<b>denied</b> by <bdi>acme-reviewer</bdi>" in shown
    assert state.escalations.resolution("held-2")["outcome"] == "deny"


def test_resolving_on_a_later_escalations_page_stays_on_it(http: tuple[Any, Any]) -> None:
    """Before: Approve on the second page of escalations (the oldest, waiting longest)
    went back to the first page; each resolution there cost a click on More again."""
    import html
    import re

    client, state = http
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "payment needs approval"}
    held = [
        decision_record(id=f"held-{i:02d}", kind="pay", verdict="escalate", hits=[hit])
        for i in range(55)
    ]
    state.audit.append_many(held)
    first = client.get("/ui/escalations").text
    more = re.search(r'href="(/ui/escalations\?cursor=[^"]+)">More', first)
    assert more is not None
    later = client.get(html.unescape(more.group(1)))
    cursor = parse_qs(urlsplit(str(later.url)).query)["cursor"][0]
    form = re.search(r'id="esc-held-03">.*?</form>', later.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))
    r = client.post(
        "/ui/escalations/held-03/resolve",
        data={**fields, "outcome": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _query(r.headers["location"]) == {"cursor": [cursor], "done": ["held-03"]}
    page = client.get(r.headers["location"]).text
    assert "more pending, older ones" in page and "Approved" in page
    assert 'id="esc-held-03"' not in page and 'id="esc-held-02"' in page
