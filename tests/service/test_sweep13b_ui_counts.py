"""The decision list's counts when a search reads past the scan budget.

Before: with a free-text search or a review-label filter (run on the records the store
returns), the counts read only the newest 20,000 records (the scan budget) and said
"N decisions match these filters", no "+": a log whose matches lay further back read
"0 decisions match these filters" over a list whose "Older" link kept searching.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import create_app
from service.ui import _query
from tests.service.test_ui import decision_record, login
from tests.test_sweep10_console import _state

HIT = {"rule_id": "payment-hard-limit", "effect": "deny", "message": "over the hard limit"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(_query, "SCAN_BUDGET", 10)
    state, raw = _state(tmp_path)
    old = [
        decision_record(id=f"old-{i}", actor=f"old-{i}", verdict="deny", hits=[HIT])
        for i in range(3)
    ]
    new = [decision_record(id=f"new-{i:02d}", verdict="allow", hits=[]) for i in range(12)]
    state.audit.append_many(old + new)  # the matches are older than the newest 10
    try:
        with TestClient(create_app(state=state)) as http:
            assert login(http, raw).status_code == 303
            yield http
    finally:
        state.close()


def _heading(html: str) -> str:
    found = re.search(r'<section class="stats">.*?<h2>(.*?)</h2>', html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.mark.parametrize("path", ["/ui/decisions", "/ui/decisions/live"])
def test_counts_cut_by_the_scan_budget_say_so(client: Any, path: str) -> None:
    page = client.get(path, params={"q": "hard limit"})
    assert page.status_code == 200
    heading = _heading(page.text)
    assert heading.startswith("0+ decisions"), heading
    assert "newest 10 searched" in heading, heading


def test_counts_within_the_budget_are_exact(client: Any) -> None:
    heading = _heading(client.get("/ui/decisions", params={"q": "limit", "verdict": "deny"}).text)
    assert heading == "3 decisions match these filters", heading
    heading = _heading(client.get("/ui/decisions", params={"verdict": "deny"}).text)
    assert heading == "3 decisions match these filters", heading


def test_one_match_reads_as_one(client: Any) -> None:
    """Before: "1 decision match these filters"."""
    heading = _heading(client.get("/ui/decisions", params={"actor": "old-1"}).text)
    assert heading == "1 decision matches these filters", heading
