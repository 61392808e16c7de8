"""The console's substitution table shows each alternative's score (a logit, say), which the
engine now records as 'score'; records written before, with 'probability', still show."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.test_ui import decision_record, seed, signed_in


@pytest.fixture
def ui(keyed: Any) -> Any:
    seed(keyed.app_state)
    return keyed


def _record(decision_id: str, row: dict[str, Any]) -> dict[str, Any]:
    rejected = [{"index": 0, "verdict": "deny", "rule_ids": ["huge-payment"], **row}]
    return decision_record(
        id=decision_id,
        verdict="allow",
        substitution={
            "original_index": 0,
            "chosen_index": 1,
            "reason": "first choice denied by huge-payment",
            "rejected": rejected,
        },
    )


def test_scores_and_old_probabilities_both_show(ui: Any, raw_keys: dict[str, str]) -> None:
    ui.app_state.audit.append_many(
        [
            _record("sub-score", {"score": 41.5}),
            _record("sub-old", {"probability": 0.625}),
            _record("sub-long", {"score": 0.984251968503937}),
        ]
    )
    client = signed_in(ui, raw_keys, "acme-reviewer")
    new = client.get("/ui/decisions/sub-score").text
    assert '<th class="num">Score</th>' in new and '<td class="num">41.5</td>' in new
    old = client.get("/ui/decisions/sub-old").text
    assert '<td class="num">0.625</td>' in old
    long = client.get("/ui/decisions/sub-long").text  # as the reason text shows it
    assert '<td class="num">0.9843</td>' in long
