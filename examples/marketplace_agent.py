"""A marketplace assistant guarded by the `marketplace-agent` pack.

Run: .venv/bin/python examples/marketplace_agent.py
"""

from __future__ import annotations

from typing import Any

from guard import ActionBlocked, ActionEscalated, Guard


def main() -> None:
    g = Guard.from_policy("marketplace-agent", audit="sqlite:///examples-audit.db")

    @g.agent(context=lambda text, contract=False: {"has_contract": contract, "role": "agent"})
    def reply(text: str, contract: bool = False) -> dict[str, Any]:
        return {
            "kind": "send_message",
            "actor": "freelancer-7",
            "params": {"to": "client-3", "message": text},
        }

    for text, contract in [
        ("I can start on Monday.", False),
        ("mail me at jo.smith@example.com so we avoid the fees", False),
        ("write to jo at example dot com", False),
        ("call me on 416-555-0199", True),
    ]:
        sent = reply(text, contract)
        why = "  (a contract exists)" if contract else ""
        print(f"{sent.decision.verdict.value:8} {sent['params']['message']!r}{why}")

    @g.agent(context={"role": "agent"})
    def pay(invoice: str) -> list[tuple[dict[str, Any], float]]:
        # the policy's preference order: pay everything at once, or in two parts
        return [
            ({"kind": "release_payment", "actor": "client-3", "params": {"amount": 12000}}, 0.8),
            ({"kind": "release_payment", "actor": "client-3", "params": {"amount": 450}}, 0.2),
        ]

    paid = pay("inv-17")
    print(f"paid {paid['params']['amount']}: {paid.decision.substitution.reason}")  # type: ignore[union-attr]

    @g.agent(context={"role": "agent"})
    def pay_big() -> dict[str, Any]:
        return {"kind": "release_payment", "actor": "client-3", "params": {"amount": 900}}

    try:
        pay_big()
    except ActionEscalated as exc:
        print(f"held for review: decision {exc.decision_id} ({exc.decision.hits[0].message})")
    except ActionBlocked as exc:
        print(f"blocked: {exc}")
    if g.audit is not None:
        head = g.audit.head()
        print(f"audit log: {head.size} records, root {head.root}")
    g.close()


if __name__ == "__main__":
    main()
