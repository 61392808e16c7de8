"""A reviewer works through a filtered queue in Chromium.

Before: from a decision opened in a filtered list (say, unlabelled escalations of one
actor, page 2), the "Decisions" link above it went to the whole log; after each label the
reviewer typed the filters again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
            decision_record(
                id=f"q-{i:03d}",
                actor=f"agent-{i % 2}",
                verdict="escalate" if i % 3 else "allow",
                hits=[HIT] if i % 3 else [],
            )
            for i in range(160)
        ]
    )
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "key": raw, "state": state}
    finally:
        state.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _signed_in(browser: Any, site: dict[str, Any]) -> Any:
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["key"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    return page


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_back_from_a_decision_is_the_filtered_page_it_came_from(
    browser: Any, site: dict[str, Any]
) -> None:
    page = _signed_in(browser, site)
    page.goto(site["url"] + "/ui/decisions?verdict=escalate&actor=agent-1&label=none")
    page.click("#older")
    page.wait_for_url("**cursor=*")
    queue = page.url
    page.locator("table.decisions tbody td:first-child a").first.click()
    page.wait_for_url("**/ui/decisions/q-*")
    page.check("input[value=correct]")
    page.click(".label-form button.primary")
    page.wait_for_url("**done=labelled")
    page.click("nav.crumbs a:has-text('Decisions')")
    page.wait_for_load_state()
    assert _query(page.url) == _query(queue)
    assert page.input_value("select[name=verdict]") == "escalate"
    assert page.input_value("input[name=actor]") == "agent-1"


def test_a_decision_opened_in_a_new_tab_links_the_whole_list(
    browser: Any, site: dict[str, Any]
) -> None:
    """Nothing stored for that tab (a link from a colleague): the link is the whole list."""
    page = _signed_in(browser, site)
    page.goto(site["url"] + "/ui/decisions?verdict=allow")
    other = page.context.new_page()
    other.goto(site["url"] + "/ui/decisions/q-003")
    assert other.get_attribute("nav.crumbs a", "href") == "/ui/decisions"
    # And back to the unfiltered list, the link is the unfiltered list again.
    page.goto(site["url"] + "/ui/decisions")
    page.goto(site["url"] + "/ui/decisions/q-003")
    assert page.get_attribute("nav.crumbs a", "href") == "/ui/decisions"
