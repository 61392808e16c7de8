"""Console pages a new reviewer misread.

Before: a decision whose every alternative was refused said "chosen #-1" (the engine's
index for none); a From later than To listed "No decisions match" with no hint why.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.ui._query import Filters
from tests.service.test_ui import decision_record, seed, signed_in


@pytest.fixture
def ui(keyed: Any) -> Any:
    """The keyed app (tenants acme and globex) with the console tests' decisions."""
    seed(keyed.app_state)
    return keyed


REJECTED = [
    {"index": 0, "verdict": "deny", "rule_ids": ["huge-payment"], "probability": 0.7},
    {"index": 1, "verdict": "deny", "rule_ids": ["no-shell"], "probability": 0.3},
]


def _substituted(decision_id: str, chosen: int) -> dict[str, Any]:
    return decision_record(
        id=decision_id,
        verdict="deny" if chosen < 0 else "allow",
        substitution={
            "original_index": 0,
            "chosen_index": chosen,
            "reason": "first choice refused",
            "rejected": REJECTED[: 2 if chosen < 0 else 1],
        },
    )


def test_a_substitution_that_found_nothing_says_so(ui: Any, raw_keys: dict[str, str]) -> None:
    ui.app_state.audit.append_many([_substituted("sub-none", -1), _substituted("sub-one", 1)])
    client = signed_in(ui, raw_keys, "acme-reviewer")
    none = client.get("/ui/decisions/sub-none").text
    assert "#-1" not in none
    assert "none chosen: every alternative was refused" in none
    one = client.get("/ui/decisions/sub-one").text
    assert "original choice #0 → chosen #1" in one
    assert "none chosen" not in one


def test_from_later_than_to_is_reported() -> None:
    params = {"since": "2030-01-02T00:00", "until": "2020-01-01T00:00"}
    filters, errors = Filters.from_params(params)
    assert errors == [
        "from '2030-01-02T00:00' is later than to '2020-01-01T00:00', "
        "so no decision can match; swap them"
    ]
    assert (filters.since, filters.until) == ("2030-01-02T00:00", "2020-01-01T00:00")
    for since, until in [("2020-01-01T00:00", "2030-01-01T00:00"), ("2020-01-01", "2020-01-01")]:
        assert Filters.from_params({"since": since, "until": until})[1] == []


def test_the_list_page_shows_the_inverted_range(ui: Any, raw_keys: dict[str, str]) -> None:
    client = signed_in(ui, raw_keys, "acme-reviewer")
    html = client.get("/ui/decisions?since=2030-01-02T00:00&until=2020-01-01T00:00").text
    assert "is later than to" in html
