"""A batch reads and checks its one shared context once, not once per action."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

from guard import Guard, InvalidAction, Verdict

PACK = """\
name: b
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: agents-may-not-pay
    match: {kind: pay}
    when: context.role == "agent"
    effect: deny
"""


class CountingContext(Mapping[str, Any]):
    """A read-only mapping that counts how often it is read in full."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.reads = 0

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _guard(tmp_path: Any) -> Guard:
    path = tmp_path / "b.yaml"
    path.write_text(PACK)
    return Guard.from_policy(str(path))


def test_check_batch_reads_context_once(tmp_path: Any) -> None:
    g = _guard(tmp_path)
    ctx = CountingContext({"role": "agent"})
    actions = [{"kind": "pay", "params": {"n": i}} for i in range(50)]
    decisions = g.check_batch(actions, ctx)
    assert [d.verdict for d in decisions] == [Verdict.DENY] * 50
    assert ctx.reads == 1


def test_acheck_batch_reads_context_once_and_a_bad_one_is_every_actions_error(
    tmp_path: Any,
) -> None:
    g = _guard(tmp_path)
    ctx = CountingContext({"role": "buyer"})
    out = asyncio.run(g.acheck_batch([{"kind": "pay"}] * 20, ctx))
    assert [getattr(d, "verdict", None) for d in out] == [Verdict.ALLOW] * 20
    assert ctx.reads == 1
    bad = asyncio.run(g.acheck_batch([{"kind": "pay"}] * 3, {"role": {1, 2}}))
    assert len(bad) == 3 and all(isinstance(e, InvalidAction) for e in bad)
    assert "context" in str(bad[0])


def test_a_logit_vector_substitution_speaks_of_scores_not_probabilities() -> None:
    """Logits of -0.12 and 100 are not probabilities: the substitution says 'score'."""
    g = Guard.from_policy("agent-tools")
    actions = [
        {"kind": "run_shell", "params": {"command": "rm -rf /"}},
        {"kind": "search", "params": {"q": "x"}},
    ]

    @g.agent(actions=actions)
    def policy() -> list[float]:
        return [100.0, -0.1197]

    out = policy()
    sub = out.decision.substitution
    assert sub is not None and sub.chosen_index == 1
    assert "probability" not in sub.reason and "(score -0.1197)" in sub.reason
    assert sub.rejected[0]["score"] == 100.0 and "probability" not in sub.rejected[0]
