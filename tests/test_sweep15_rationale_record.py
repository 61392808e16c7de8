"""A planner's rationale is stored in the audit record as written: no word of it is taken
for a contact handle ("line: search" read as a LINE messenger id)."""

from __future__ import annotations

import pytest

from guard import Guard

pytest.importorskip("presidio_analyzer")


@pytest.mark.parametrize(
    "text",
    [
        "Search ran 230 simulations; expected line of play: search the docs -> read it.",
        "Search ran 12 simulations; expected line of play: session -> element -> matrix.",
    ],
)
def test_the_expected_line_of_play_survives_the_record_scrub(text: str) -> None:
    with Guard.from_policy("agent-tools", audit="memory://") as g:
        d = g.check({"kind": "search", "params": {"q": text}})
        assert g.audit is not None
        assert g.audit.get(d.id).record["action"]["params"]["q"] == text
