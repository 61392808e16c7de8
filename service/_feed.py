"""Example traffic for `make run`: the demo's marketplace, ranking and tool traffic, over HTTP.

It goes through `guard.client` exactly as a policy in another process would, and leaves
the review queue with work in it: some escalations pending, one approved, one label.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

from guard._demo import MESSAGES, TOOLS
from guard._exceptions import ActionBlocked, ActionEscalated
from guard._models import Decision
from guard.client import GuardClient, RemoteGuard

__all__ = ["feed_demo", "wait_ready"]


# A planner choosing the next tool call; the most-visited branch is a destructive command.
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
            "value": 161.0,
            "prior": 0.45,
            "children": [{"action": 1, "visits": 120, "value": 80.0, "children": []}],
        },
        {
            "action": 1,
            "visits": 110,
            "value": 60.5,
            "prior": 0.35,
            "children": [{"action": 2, "visits": 50, "value": 30.0, "children": []}],
        },
        {"action": 2, "visits": 60, "value": 27.0, "prior": 0.2, "children": []},
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
    """Send the demo traffic; return verdict counts, examples and the audit head."""
    rng = random.Random(seed)
    guard = RemoteGuard("", client=client)
    decisions: list[Decision] = []
    examples: list[str] = []
    decisions += _messages(guard, rng, examples)
    decisions += _payments(guard, examples)
    decisions += _ranking(guard, rng, examples)
    decisions += client.check_batch(TOOLS, {"budget_remaining": 500}, policy="agent-tools")
    decisions += _tool_calls(client)
    decisions += _planner(client, examples)
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


def _messages(guard: RemoteGuard, rng: random.Random, examples: list[str]) -> list[Decision]:
    @guard.agent(
        policy="marketplace-agent",
        context=lambda text, contract: {"has_contract": contract, "role": "agent"},
    )
    def assistant(text: str, contract: bool) -> dict[str, Any]:
        return {
            "kind": "send_message",
            "actor": f"user-{rng.randint(1, 5)}",
            "params": {"to": "client-1", "message": text},
        }

    out = []
    for text in MESSAGES:
        try:
            sent = assistant(text, rng.random() < 0.3)
        except (ActionBlocked, ActionEscalated) as exc:
            out.append(exc.decision)
            continue
        out.append(sent.decision)
        if sent.decision.verdict.value == "redact":
            examples.append(f"redacted: {sent['params']['message']!r}")
    return out


def _payments(guard: RemoteGuard, examples: list[str]) -> list[Decision]:
    @guard.agent(policy="marketplace-agent", context={"role": "agent"})
    def payer(actor: str, amounts: list[float]) -> list[tuple[dict[str, Any], float]]:
        total = sum(abs(a) for a in amounts) or 1.0
        return [
            (
                {"kind": "release_payment", "actor": actor, "params": {"amount": a}},
                abs(a) / total,
            )
            for a in amounts
        ]

    out = []
    # One payer each: the pack sums one actor's payments over 24 hours.
    scenarios = ([120.0], [700.0, 300.0], [25000.0, 400.0], [-5.0], [900.0], [1500.0])
    for number, amounts in enumerate(scenarios, start=1):
        try:
            paid = payer(f"user-{number}", amounts)
        except (ActionBlocked, ActionEscalated) as exc:
            out.append(exc.decision)
            examples.append(f"{type(exc).__name__}: {exc}")
            continue
        out.append(paid.decision)
        if paid.decision.substitution:
            examples.append(f"substituted: {paid.decision.substitution.reason}")
    return out


def _ranking(guard: RemoteGuard, rng: random.Random, examples: list[str]) -> list[Decision]:
    @guard.ranker(policy="ranking")
    def search(query: str) -> list[dict[str, Any]]:
        items = [
            {
                "id": f"listing-{i}",
                "score": round(1 - i / 12, 3),
                "verified": i % 4 != 3,
                "agency_id": f"agency-{i % 3}",
                "status": "suspended" if i == 2 else "active",
            }
            for i in range(12)
        ]
        items[5]["seller_email"] = "seller5@example.com"
        rng.shuffle(items)
        return sorted(items, key=lambda it: -float(it["score"]))

    ranked = search("plumber toronto")
    dropped = [o for o in ranked.decision.items or [] if o.verdict.value == "deny"]
    examples.append(
        f"ranking: kept {len(ranked)} of 12, dropped {len(dropped)} "
        f"({', '.join(sorted({r for o in dropped for r in o.rule_ids}))})"
    )
    return [ranked.decision]


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
        examples.append(f"approved held decision {held[0].id}; {len(held) - 1} left pending")
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
    examples.append(f"planner: {why.text}")
    return [decision]
