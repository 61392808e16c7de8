"""A reviewer in Chromium sends a review form twice by accident.

Before: Enter pressed twice in a label's note (or a second click while a slow server
answered the first) posted the form twice, and the decision got the same label twice in
the audit log; the second Approve of an escalation came back as a 409 page saying it was
already resolved, over the reviewer's own approval.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service import create_app
from tests.service.test_ui import decision_record
from tests.service.test_ui_browser import Server
from tests.test_sweep10_console import _state

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
HIT = {"rule_id": "payment-needs-approval", "effect": "escalate", "message": "needs approval"}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    state, raw = _state(tmp_path)
    state.audit.append_many(
        [
            decision_record(id="to-label", actor="agent-1"),
            decision_record(id="held", verdict="escalate", kind="release_payment", hits=[HIT]),
        ]
    )
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "key": raw, "state": state}
    finally:
        state.close()


@pytest.fixture
def page(site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(site["url"] + "/ui/login")
            page.fill("input[name=key]", site["key"])
            page.click("button:has-text('Sign in')")
            page.wait_for_url("**/ui/decisions*")
            yield page
        finally:
            browser.close()


# Each submit event the page lets through (not prevented): the window hears it after the
# console's own handler, and keeps the page here so the next key press meets the same form.
WATCH = """() => {
  window.sent = [];
  window.addEventListener("submit", (event) => {
    window.sent.push(!event.defaultPrevented);
    event.preventDefault();
  });
}"""


def test_enter_twice_sends_the_label_once(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/ui/decisions/to-label")
    page.evaluate(WATCH)
    page.check("input[value=false_positive]")
    page.fill(".label-form input[name=note]", "a typo")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate("window.sent") == [True, False]


def test_a_second_approve_is_not_sent(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/ui/escalations")
    page.evaluate(WATCH)
    page.locator("form.resolve input[name=note]").fill("ok")
    page.click("form.resolve button.approve")
    page.click("form.resolve button.deny")
    assert page.evaluate("window.sent") == [True, False]


def test_one_label_per_send_and_again_after_going_back(page: Any, site: dict[str, Any]) -> None:
    """The guard is per page view: back on the decision, the reviewer can label again."""
    page.goto(site["url"] + "/ui/decisions/to-label")
    for label in ("correct", "false_negative"):
        page.check(f"input[value={label}]")
        page.click(".label-form button.primary")
        page.wait_for_url("**done=labelled")
        page.go_back()
        page.wait_for_load_state()
    reviews = site["state"].audit.query(record_type="guard.review/v1").items
    assert sorted(r.record["label"] for r in reviews) == ["correct", "false_negative"]
