"""A search ranker guarded by the `ranking` pack: suspended sellers, contact fields, agency caps.

Run: .venv/bin/python examples/ranker.py
"""

from __future__ import annotations

from typing import Any

from guard import Guard


def main() -> None:
    g = Guard.from_policy("ranking")

    @g.ranker(context=lambda query, verified_only=False: {"verified_only": verified_only})
    def search(query: str, verified_only: bool = False) -> list[dict[str, Any]]:
        return [
            {"id": "p1", "score": 0.97, "verified": True, "agency_id": "a1"},
            {"id": "p2", "score": 0.95, "verified": True, "agency_id": "a1", "status": "suspended"},
            {"id": "p3", "score": 0.91, "verified": False, "agency_id": "a2"},
            {
                "id": "p4",
                "score": 0.88,
                "verified": True,
                "agency_id": "a1",
                "seller_email": "p4@example.com",
            },
            {"id": "p5", "score": 0.85, "verified": True, "agency_id": "a1"},
            {"id": "p6", "score": 0.80, "verified": True, "agency_id": "a1"},
            {"id": "p7", "score": 0.10, "verified": False, "agency_id": "a3"},
        ]

    for verified_only in (False, True):
        ranked = search("plumber", verified_only=verified_only)
        print(f"verified_only={verified_only}: {[it['id'] for it in ranked]}")
        for outcome in ranked.decision.items or []:
            if outcome.verdict.value != "allow":
                print(f"  {outcome.id}: {outcome.verdict.value} ({outcome.reason})")


if __name__ == "__main__":
    main()
