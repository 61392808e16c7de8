"""The console's live list, when its polls fail.

Before: a failing poll only rewrote the Live status text, which is not a live region, so a
screen-reader user was never told that the list had stopped updating (and went on
reading a stale list as current). Now the first failure is announced once in the polite
live region, and the recovery once more; the polls in between say nothing.
"""

from __future__ import annotations

import re
from typing import Any

from tests.test_sweep10_console import browser, needs_chromium, page, site

__all__ = ["browser", "page", "site"]  # fixtures this module uses


@needs_chromium
def test_a_failing_live_list_is_announced_once_and_so_is_its_recovery(page: Any) -> None:
    from playwright.sync_api import expect

    news = page.locator("#live-news")
    polls: list[int] = []

    def fail(route: Any) -> None:
        polls.append(1)
        route.fulfill(status=503, body="down")

    page.route(re.compile(r"/ui/decisions/live"), fail)
    expect(news).to_have_text(re.compile(r"^live updates failed"), timeout=15_000)
    said = news.text_content()
    count = len(polls)
    page.wait_for_timeout(6_000)  # one more failing poll at least
    assert len(polls) > count
    assert news.text_content() == said  # not said again at every poll
    expect(page.locator("#live-status")).to_have_text(re.compile(r"update failed \(HTTP 503\)"))
    page.unroute(re.compile(r"/ui/decisions/live"))
    expect(news).to_have_text(re.compile(r"^live updates resumed"), timeout=15_000)
