"""A guarded planner whose every root action is denied: the decision's rationale says so."""

from __future__ import annotations

from typing import Any

import pytest

from guard import ActionBlocked, Guard

ACTIONS: dict[int, dict[str, Any]] = {
    0: {"kind": "run_shell", "params": {"command": "rm -rf /var/cache/app"}},
    1: {"kind": "run_shell", "params": {"command": "mkfs.ext4 /dev/sdb1"}},
    2: {"kind": "run_shell", "params": {"command": "shutdown -h now"}},
}
TREE = {
    "visits": 20,
    "children": [
        {"action": 0, "visits": 11, "total_value": 6.6, "children": []},
        {"action": 1, "visits": 6, "total_value": 3.0, "children": []},
        {"action": 2, "visits": 3, "total_value": 0.9, "children": []},
    ],
}


@pytest.mark.parametrize("mode", ["enforce", "shadow"])
def test_a_tree_with_every_root_action_denied_records_each_as_shielded(mode: str) -> None:
    with Guard.from_policy("agent-tools", audit="memory://", mode=mode) as g:

        @g.agent(action_of=lambda a: ACTIONS[a])
        def plan(state: str) -> dict[str, Any]:
            return TREE

        if mode == "enforce":
            with pytest.raises(ActionBlocked) as caught:
                plan("s0")
            decision = caught.value.decision
        else:  # the first choice runs unenforced; the record says what enforcing would do
            decision = plan("s0").decision
        # ground truth: what each root action gets when checked alone
        truth = {
            a: sorted(
                h.rule_id for h in g.check(act, policy="agent-tools").hits if h.effect == "deny"
            )
            for a, act in ACTIONS.items()
        }
        assert all(truth.values())  # each is denied by some rule
        assert decision.verdict.value == "deny"
        assert decision.substitution is not None and decision.substitution.chosen_index == -1
        why = decision.explanations[0]
        assert why["kind"] == "rationale"
        shielded = {s["action"]: sorted(s["rule"].split(", ")) for s in why["shielded"]}
        assert shielded == truth
        for stat in why["actions"]:
            assert stat["shielded"] is True
            assert sorted(stat["shield_rule"].split(", ")) == truth[stat["action"]]
        assert "removed every root action" in why["text"]
        # the search's own figures are those of the tree it searched
        visits = {s["action"]: s["visits"] for s in why["actions"]}
        assert visits == {c["action"]: c["visits"] for c in TREE["children"]}
        assert why["chosen"] == 0  # the most visited: what it would have played


def test_a_tree_with_one_root_action_denied_alone_is_shielded() -> None:
    tree = {"visits": 5, "children": [{"action": 2, "visits": 5, "total_value": 1.0}]}
    with Guard.from_policy("agent-tools") as g:

        @g.agent(action_of=lambda a: ACTIONS[a])
        def plan(state: str) -> dict[str, Any]:
            return tree

        with pytest.raises(ActionBlocked) as caught:
            plan("s0")
    why = caught.value.decision.explanations[0]
    assert [s["action"] for s in why["shielded"]] == [2]
    assert why["actions"][0]["shielded"] is True
