"""`guard demo`'s example lines name the rule that denied a tool call, not another hit."""

from __future__ import annotations

import pytest

pytest.importorskip("presidio_analyzer")

from guard._demo import run_demo  # noqa: E402


def test_tool_denials_name_a_deny_rule() -> None:
    lines = [x for x in run_demo(None)["examples"] if x.startswith("tool ")]
    # rm -rf also hits the allow-list and the review rule; it is the deny rule that blocks it
    assert "tool run_shell denied: destructive shell command refused" in lines
    # a purchase over budget also hits the review rule (escalate); the budget rule denies it
    assert not any("needs approval" in x or "reviewed by a human" in x for x in lines), lines
