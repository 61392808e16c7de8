"""Rankers may score items with numpy or torch numbers; ActionBlocked names its decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from guard import ActionBlocked, Guard
from guard._exceptions import InvalidAction

PACK = """\
name: native
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: low-score
    scope: item
    when: item.score < 0.3
    effect: deny
  - id: no-delete
    match: {kind: delete}
    when: "true"
    effect: deny
"""


@pytest.fixture
def guard(tmp_path) -> Guard:
    path = tmp_path / "native.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(str(path))


def test_numpy_scores_in_ranked_items_are_read_as_numbers(guard: Guard) -> None:
    items = [
        {"id": "a", "score": np.float32(0.9), "tags": np.array([1, 2])},
        {"id": "b", "score": np.float64(0.1)},
        {"id": "c", "score": np.int64(1)},
    ]

    @guard.ranker
    def search() -> list[dict[str, object]]:
        return items

    kept = search()
    assert [item["id"] for item in kept] == ["a", "c"]
    assert type(kept[0]["score"]) is float and kept[0]["tags"] == [1, 2]
    assert type(items[0]["score"]) is np.float32  # the caller's items are left as they were


def test_torch_scores_in_ranked_items_are_read_as_numbers(guard: Guard) -> None:
    torch = pytest.importorskip("torch")

    @guard.ranker
    def search() -> list[dict[str, object]]:
        return [{"id": "a", "score": torch.tensor(0.8, requires_grad=True)}]

    assert [item["id"] for item in search()] == ["a"]


def test_a_nan_numpy_score_is_still_refused(guard: Guard) -> None:
    @guard.ranker
    def search() -> list[dict[str, object]]:
        return [{"id": "a", "score": np.float32(math.nan)}]

    with pytest.raises(InvalidAction, match="finite"):
        search()


def test_action_blocked_carries_the_decision_id(guard: Guard) -> None:
    @guard.agent
    def act() -> dict[str, object]:
        return {"kind": "delete"}

    with pytest.raises(ActionBlocked) as info:
        act()
    assert info.value.decision_id == info.value.decision.id
