"""A new reviewer's first session, in Chromium: keyboard, live list, long values, narrow window.

Before: Enter in an escalation's note field approved the payment (the form's default
button was Approve); each 5 s live update of the list moved keyboard focus to the top of
the page and dropped selected text; one 200-character actor (the API's limit) or a long
review note made the list and detail pages thousands of pixels wide; in a phone-width
window the header's links and Sign out were drawn off the dark bar, and tables widened
the whole page instead of scrolling in their box.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.service.test_ui import decision_record

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LONG_ACTOR = "a" * 200
LONG_KIND = "send_message_" + "k" * 180
HELD = [f"held-{i}" for i in range(3)]
# The page's width and the elements that stick out of the window, if any.
OVERFLOW = """() => [document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => !e.closest('.table-scroll, pre, ol.source'))
    .slice(0, 5).map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))]"""


def _pay(decision_id: str, actor: str = "agent-3") -> dict[str, Any]:
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "payment needs approval"}
    return decision_record(
        id=decision_id,
        kind="pay",
        actor=actor,
        verdict="escalate",
        hits=[hit],
        action={"kind": "pay", "params": {"amount": 700}},
        final_action=None,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from service import KeyStore, ServiceState, Settings, create_app
    from service._auth import new_key
    from tests.service.conftest import PACK
    from tests.service.test_ui_browser import Server

    tmp = tmp_path_factory.mktemp("sweep8")
    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raw, entry = new_key("acme-reviewer", ["audit:read", "review"], "acme")
    (tmp / "keys.yaml").write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    settings = Settings(
        policy=str(tmp / "pack.yaml"),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    records = [decision_record(id=f"row-{i:02d}", actor=f"agent-{i}") for i in range(12)]
    records += [_pay(i) for i in HELD]
    records.append(decision_record(id="long-values", actor=LONG_ACTOR, kind=LONG_KIND))
    state.audit.append_many(records)
    state.label("row-03", "correct", "n" * 2000, "acme-reviewer", "acme", key="acme-reviewer")
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "key": raw, "state": state}
    finally:
        state.close()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _signed_in(browser: Any, site: dict[str, Any], width: int = 1280) -> Any:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["key"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    return page


@pytest.mark.parametrize(
    ("path", "form"),
    [("/ui/escalations", "#esc-held-0 form.resolve"), ("/ui/decisions/held-1", "#escalation form")],
)
def test_enter_in_the_note_resolves_nothing(
    browser: Any, site: dict[str, Any], path: str, form: str
) -> None:
    page = _signed_in(browser, site)
    page.goto(site["url"] + path)
    note = page.locator(f"{form} input[name=note]")
    note.fill("this looks like fraud")
    note.press("Enter")
    page.wait_for_load_state("load")
    decision_id = "held-0" if "escalations" in path else "held-1"
    assert site["state"].escalations.resolution(decision_id) is None
    assert page.url == site["url"] + path
    page.locator(f"{form} button[value=deny]").click()  # the buttons still work
    page.wait_for_url("**done*")
    resolution = site["state"].escalations.resolution(decision_id)
    assert resolution is not None and resolution["outcome"] == "deny"
    assert resolution["note"] == "this looks like fraud"
    assert page.errors == []
    page.context.close()


def _refresh_now(page: Any) -> None:
    """Run the live update at once (as its 5 s timer would) and wait until it is done."""
    page.evaluate("document.getElementById('live-status').textContent = ''")
    page.evaluate("document.getElementById('live').dispatchEvent(new Event('change'))")
    page.wait_for_function(
        "() => /^(updated|update skipped)/.test(document.getElementById('live-status').textContent)"
    )


def test_a_live_update_keeps_keyboard_focus_on_the_row(browser: Any, site: dict[str, Any]) -> None:
    page = _signed_in(browser, site)
    link = page.locator("table.decisions tbody tr:nth-child(5) td a")
    href = link.get_attribute("href")
    link.focus()
    _refresh_now(page)
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    page.keyboard.press("Enter")  # and the reviewer goes on with the keyboard
    page.wait_for_url("**" + str(href))
    assert page.errors == []
    page.context.close()


def test_a_live_update_keeps_text_selected_in_the_list(browser: Any, site: dict[str, Any]) -> None:
    page = _signed_in(browser, site)
    page.evaluate(
        """() => { const cell = document.querySelector('table.decisions tbody td:nth-child(5)');
        window.getSelection().selectAllChildren(cell); }"""
    )
    selected = page.evaluate("window.getSelection().toString()")
    _refresh_now(page)
    assert selected and page.evaluate("window.getSelection().toString()") == selected
    page.context.close()


@pytest.mark.parametrize(
    "path", ["/ui/decisions", "/ui/decisions/long-values", "/ui/decisions/row-03"]
)
def test_long_values_wrap_inside_the_window(browser: Any, site: dict[str, Any], path: str) -> None:
    page = _signed_in(browser, site)
    page.goto(site["url"] + path)
    width, window, sticking_out = page.evaluate(OVERFLOW)
    assert (width, sticking_out) == (window, [])
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/ui/decisions",
        "/ui/escalations",
        "/ui/rules",
        "/ui/policies",
        "/ui/policies/svc-test",
        "/ui/decisions/held-2",
        "/ui/decisions/long-values",
    ],
)
def test_a_phone_width_window_keeps_every_page_inside_it(
    browser: Any, site: dict[str, Any], path: str
) -> None:
    page = _signed_in(browser, site, width=390)
    page.goto(site["url"] + path)
    width, window, sticking_out = page.evaluate(OVERFLOW)
    assert (width, sticking_out) == (window, [])
    header = page.locator("header.top").bounding_box()
    for name in ("Decisions", "Escalations", "Rules", "Policies", "Sign out"):
        box = page.locator("header.top").get_by_text(name, exact=True).bounding_box()
        assert box["y"] + box["height"] <= header["y"] + header["height"], name
        assert box["x"] + box["width"] <= window, name
    assert page.errors == []
    page.context.close()
