"""Long filter values in the console: an actor longer than 200 characters.

Before: every filter was cut to 200 characters without a word, so a decision whose actor
(the engine sets no length limit on it) was longer could not be found: filtering on its
exact actor said "No decisions match these filters", and so did its CSV export. A filter
past the limit is now refused with an error, never cut.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import create_app
from tests.service.test_ui import decision_record, login
from tests.test_sweep10_console import _state

LONG = "agent-" + "é" * 300


@pytest.fixture
def client(tmp_path: Path) -> Any:
    state, raw = _state(tmp_path)
    state.audit.append_many(
        [
            decision_record(id="long", actor=LONG),
            decision_record(id="short", actor="agent-1"),
            decision_record(id="impostor", actor="agent-1\u00a0"),
        ]
    )
    try:
        with TestClient(create_app(state=state)) as http:
            assert login(http, raw).status_code == 303
            yield http
    finally:
        state.close()


def _errors(html: str) -> list[str]:
    return re.findall(r'class="flash error"[^>]*>(.*?)</p>', html, re.S)


def test_a_long_actor_is_found(client: Any) -> None:
    page = client.get("/ui/decisions", params={"actor": LONG})
    assert page.status_code == 200
    assert _errors(page.text) == []
    assert "/ui/decisions/long" in page.text
    assert "/ui/decisions/short" not in page.text
    assert f'name="actor" value="{LONG}"' in page.text
    export = client.get("/ui/decisions/export", params={"format": "csv", "actor": LONG})
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["id"] for r in rows] == ["long"]


def test_a_filter_past_the_limit_is_refused_not_cut(client: Any) -> None:
    page = client.get("/ui/decisions", params={"actor": "x" * 1001})
    assert _errors(page.text) == ["actor is 1,001 characters long; the limit is 1,000"]
    assert "/ui/decisions/long" in page.text  # the filter is dropped, as other bad values
    export = client.get("/ui/decisions/export", params={"format": "csv", "q": "x" * 1001})
    assert export.status_code == 400


def test_a_bad_escalations_cursor_is_said(client: Any) -> None:
    """Before: /ui/escalations?cursor=zzz showed the first page as if it were the one asked
    for (the decisions page says the cursor is invalid)."""
    page = client.get("/ui/escalations", params={"cursor": "zzz"})
    assert page.status_code == 200
    assert len(_errors(page.text)) == 1
    assert "invalid cursor" in _errors(page.text)[0]


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2003"])
def test_an_actor_padded_with_a_unicode_space_is_not_the_plain_one(client: Any, space: str) -> None:
    """Before: every filter was stripped of all Unicode white space, so filtering on an
    impostor actor "agent-1" + U+00A0 listed (and exported) the real agent-1's decisions."""
    page = client.get("/ui/decisions", params={"actor": "agent-1" + space})
    assert "/ui/decisions/short" not in page.text
    assert ("/ui/decisions/impostor" in page.text) is (space == "\u00a0")
    page = client.get("/ui/decisions", params={"actor": " agent-1\t"})  # typed spaces go
    assert "/ui/decisions/short" in page.text
    assert "/ui/decisions/impostor" not in page.text
