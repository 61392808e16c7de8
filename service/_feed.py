"""Example traffic for `make run`: the demo's marketplace, ranking and tool traffic, over HTTP,
then a planner with its search-tree rationale and a scored choice with its attribution.

It goes through `guard.client` exactly as a policy in another process would, and leaves
the review queue with work in it: some escalations pending, one approved, one label.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

from guard._demo import PAYMENTS as DEMO_PAYMENTS
from guard._demo import TOOLS, marketplace, ranking
from guard._exceptions import PolicyNotFound
from guard._models import Decision
from guard.client import GuardClient, RemoteGuard

__all__ = ["feed_demo", "wait_ready"]

# The shipped packs the traffic is for.
DEMO_PACKS = ("marketplace-agent", "ranking", "agent-tools")

# The demo's payments and two more above the approval limit, left pending for a reviewer.
PAYMENTS = [*DEMO_PAYMENTS, [(900, 1.0)], [(1500, 1.0)]]


# A planner choosing the next tool call; the most-visited branch is a destructive command.
# Its rewards are in [0, 1]; a node's `total_value` sums them over its visits (a mean value
# under `value` would be read as one: "mean value +161").
PLAN_ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("clear the cache", {"kind": "run_shell", "params": {"command": "rm -rf /var/cache/app"}}),
    ("search the docs", {"kind": "search", "params": {"q": "cache eviction policy"}}),
    ("read the runbook", {"kind": "read_file", "params": {"path": "/workspace/runbook.md"}}),
]
PLAN_TREE = {
    "visits": 400,
    "children": [
        {
            "action": 0,
            "visits": 230,
            "total_value": 161.0,
            "prior": 0.45,
            "children": [{"action": 1, "visits": 120, "total_value": 80.0, "children": []}],
        },
        {
            "action": 1,
            "visits": 110,
            "total_value": 60.5,
            "prior": 0.35,
            "children": [{"action": 2, "visits": 50, "total_value": 30.0, "children": []}],
        },
        {"action": 2, "visits": 60, "total_value": 27.0, "prior": 0.2, "children": []},
    ],
}


def wait_ready(client: GuardClient, timeout: float = 60.0) -> bool:
    """Poll /readyz until the sidecar answers or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.ready():
            return True
        time.sleep(0.2)
    return False


def feed_demo(client: GuardClient, *, seed: int = 7) -> dict[str, Any]:
    """Send the demo traffic; return verdict counts, examples and the audit head.

    Nothing is sent unless the sidecar serves every pack the traffic is for: a sidecar
    serving some of them would record part of it, then fail at the first pack it lacks.
    """
    loaded = sorted(str(p["name"]) for p in client.policies())
    missing = [name for name in DEMO_PACKS if name not in loaded]
    if missing:
        raise PolicyNotFound(
            f"the demo traffic is for the shipped packs {', '.join(DEMO_PACKS)}, and this "
            f"sidecar does not serve {', '.join(missing)} (it serves {', '.join(loaded)}); "
            "nothing was sent: serve them too (drop --policy, or give the folder policies/), "
            "or drop --demo"
        )
    rng = random.Random(seed)
    guard = RemoteGuard("", client=client)
    decisions: list[Decision] = []
    examples: list[str] = []
    decisions += marketplace(guard, rng, examples, PAYMENTS)
    decisions += ranking(guard, rng, examples)
    decisions += client.check_batch(TOOLS, {"budget_remaining": 500}, policy="agent-tools")
    decisions += _tool_calls(client)
    decisions += _planner(client, examples)
    decisions += _scored_step(client, examples)
    _review(client, decisions, examples)
    counts: dict[str, Counter[str]] = {}
    for d in decisions:
        counts.setdefault(d.policy, Counter())[d.verdict.value] += 1
    return {
        "verdicts": {k: dict(v) for k, v in counts.items()},
        "examples": examples,
        "head": client.head(),
        "decisions": len(decisions),
    }


def _tool_calls(client: GuardClient) -> list[Decision]:
    """OpenAI-style tool calls, as an LLM emits them."""
    calls = [
        {"type": "function", "function": {"name": "search", "arguments": '{"q": "tile grout"}'}},
        {
            "type": "function",
            "function": {"name": "run_shell", "arguments": '{"command": "rm -rf /srv"}'},
        },
    ]
    return [client.check(c, {"budget_remaining": 500}, policy="agent-tools") for c in calls]


def _review(client: GuardClient, decisions: list[Decision], examples: list[str]) -> None:
    held = [d for d in decisions if d.verdict.value == "escalate"]
    if held:
        client.resolve(held[0].id, "approve", note="invoice checked", reviewer="demo-reviewer")
        examples.append(
            f"approved held decision {held[0].id}; {len(held) - 1} more from this run left pending"
        )
    redacted = [d for d in decisions if d.verdict.value == "redact"]
    if redacted:
        client.review(
            redacted[0].id,
            "correct",
            note="contact details, rightly removed",
            reviewer="demo-reviewer",
        )


def _planner(client: GuardClient, examples: list[str]) -> list[Decision]:
    """A planner in another process: shield its root actions, explain, then decide."""
    from explain import rationale

    actions = [a for _, a in PLAN_ACTIONS]
    verdicts = client.shield_verdicts(actions, policy="agent-tools")
    # /v1/shield names every rule that fired (the allow-list too); name only those that deny
    shielded: dict[int | str, str] = {
        i: ", ".join(h["rule_id"] for h in v["hits"] if h["effect"] == "deny") or str(v["verdict"])
        for i, v in enumerate(verdicts)
        if v["verdict"] == "deny"
    }
    labels = {i: label for i, (label, _) in enumerate(PLAN_ACTIONS)}
    why = rationale(PLAN_TREE, shielded=shielded, labels=labels)
    shares = {int(s.action): s.visit_share for s in why.actions}
    order = sorted(shares, key=lambda a: -shares[a])
    decision = client.check(
        candidates=[(actions[a], shares[a]) for a in order],
        context={"rationale": why.as_dict()},
        policy="agent-tools",
        explanations=[why.model_dump(mode="json")],
    )
    examples.append(f"planner: {why.text.split('. ')[0]}.")  # the rest is in the console
    return [decision]


# The assistant's next step scored by a linear model over four features, as in the README's
# explanation example: the payment scores highest but is over the hard limit, so the message
# runs, and an exact SHAP attribution says what made the message's score.
STEP_FEATURES = ["budget", "trust", "urgency", "age_days"]
STEP_ACTIONS: list[dict[str, Any]] = [
    {"kind": "search", "actor": "user-7", "params": {"q": "tiles"}},
    {
        "kind": "send_message",
        "actor": "user-7",
        "params": {"to": "client-1", "message": "I can start on Monday."},
    },
    {"kind": "release_payment", "actor": "user-7", "params": {"amount": 25000}},
]
STEP_WEIGHTS = [[0.5, -0.2, 0.3, 0.1], [0.2, 0.8, 0.4, -0.2], [1.0, 1.2, 0.5, 0.4]]
STEP_BIAS = [0.0, 0.1, -0.2]
STEP_BACKGROUND = [[0.5, 0.5, 0.5, 0.5], [0.8, 0.3, 0.6, 0.2], [0.3, 0.6, 0.2, 0.9]]
STEP_OBSERVATION = [0.2, 0.9, 0.1, 0.5]


def _scored_step(client: GuardClient, examples: list[str]) -> list[Decision]:
    """Score the next step, explain the one the pack lets run, then decide with it."""
    import math

    import explain

    context = {"role": "agent"}
    scores = [
        sum(w * x for w, x in zip(row, STEP_OBSERVATION, strict=True)) + b
        for row, b in zip(STEP_WEIGHTS, STEP_BIAS, strict=True)
    ]
    total = sum(math.exp(s) for s in scores)
    probabilities = [round(math.exp(s) / total, 4) for s in scores]
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    verdicts = client.shield_verdicts(STEP_ACTIONS, context, policy="marketplace-agent")
    runs = next(i for i in order if verdicts[i]["verdict"] != "deny")
    model = explain.shap((STEP_WEIGHTS, STEP_BIAS), STEP_BACKGROUND, STEP_FEATURES)
    attribution = model.explain(STEP_OBSERVATION, target=runs)
    decision = client.check(
        candidates=[(STEP_ACTIONS[i], probabilities[i], i) for i in order],
        context=context,
        policy="marketplace-agent",
        explanations=[attribution.model_dump(mode="json")],
    )
    feature, value = attribution.top(1)[0]
    examples.append(
        f"attribution: {STEP_ACTIONS[runs]['kind']} scored {attribution.output:.2f} "
        f"against a background mean of {attribution.base_value:.2f}, most from {feature} "
        f"({value:+.2f})"
    )
    return [decision]
