"""Sweep 15: `expect.kept` names the surviving items as the guard knows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guard import PolicyError
from guard.policy import run_tests

PACK = """\
name: shop
version: 1
rules:
  - id: drop-suspended
    scope: item
    when: get(item.status, "active") == "suspended"
    effect: deny
"""


def _run(tmp_path: Path, cases: str) -> Any:
    (tmp_path / "shop.yaml").write_text(PACK)
    (tmp_path / "shop.test.yaml").write_text("cases:\n" + cases)
    (report,) = run_tests(tmp_path / "shop.yaml")
    return report


@pytest.mark.parametrize(
    ("items", "kept"),
    [
        # an item without an id is known by its position, in the decision and in `kept`
        pytest.param("[{status: suspended}, {x: 1}]", "[1]", id="no-ids"),
        pytest.param("[{id: a, status: suspended}, {x: 1}, {id: c}]", "[1, c]", id="mixed"),
    ],
)
def test_items_without_an_id_are_kept_by_position(tmp_path: Path, items: str, kept: str) -> None:
    report = _run(
        tmp_path,
        f"  - note: positions\n    items: {items}\n    expect: {{verdict: redact, kept: {kept}}}\n",
    )
    assert [r.passed for r in report.results] == [True], report.results


def test_a_wrong_position_still_fails(tmp_path: Path) -> None:
    report = _run(
        tmp_path,
        "  - note: positions\n    items: [{status: suspended}, {x: 1}]\n"
        "    expect: {verdict: redact, kept: [0]}\n",
    )
    [result] = report.results
    assert not result.passed and "kept [1], expected [0]" in result.detail


@pytest.mark.parametrize("value", ["true", "1.0", "null"])
def test_a_kept_entry_that_is_no_id_is_refused_at_its_place(tmp_path: Path, value: str) -> None:
    # `kept: [true]` passed for an item with the id 1: an id is a string or an integer
    with pytest.raises(PolicyError) as info:
        _run(
            tmp_path,
            "  - note: ids\n    items: [{id: 1}]\n"
            f"    expect: {{verdict: allow, kept: [{value}]}}\n",
        )
    err = info.value
    assert (err.line, err.column) == (4, 37)
    assert "kept" in str(err)
