"""Each alternative is decided with its own score as `score`, in process and through the
sidecar alike; a single action keeps the context's own score everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from guard import Guard, GuardError
from guard.client import GuardClient, RemoteGuard
from service import create_app
from service._settings import Settings
from service._state import ServiceState
from tests.service.conftest import TestClient

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

PACK = """\
name: scored
version: 1
rules:
  - id: unsure
    match: {kind: pay}
    when: score < 0.5
    effect: deny
    message: "score {score} is below 0.5"
"""


def pay(amount: int) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


ACTIONS = [pay(1), pay(2), pay(3)]


@pytest.fixture
def guards(tmp_path: Path) -> Iterator[tuple[Guard, RemoteGuard, Any]]:
    path = tmp_path / "scored.yaml"
    path.write_text(PACK, encoding="utf-8")
    settings = Settings(policy=str(path), audit=f"sqlite:///{tmp_path / 'a.db'}")
    state = ServiceState.build(settings)
    with TestClient(create_app(state=state)) as http, Guard.from_policy(str(path)) as local:
        yield local, RemoteGuard("", client=GuardClient("http://testserver", client=http)), http
    state.close()


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        out = call()
    except GuardError as exc:
        return ("error", type(exc).__name__)
    d = out.decision
    sub = d.substitution.chosen_index if d.substitution else None
    return ("ok", dict(out), d.verdict, sub, [h.message for h in d.hits])


PROPOSALS = [
    pytest.param(lambda: [(pay(1), 0.3), (pay(2), 0.7)], {}, id="pairs: the better is denied"),
    pytest.param(lambda: [(pay(1), 0.8), (pay(2), 0.2)], {}, id="pairs: the best is allowed"),
    pytest.param(lambda: [(pay(1), 0.9)], {"score": 0.1}, id="one pair: its own score"),
    pytest.param(lambda: [(pay(1), 0.2)], {"score": 0.9}, id="one pair, low: denied"),
    pytest.param(lambda: pay(1), {"score": 0.9}, id="one action: the context's score"),
    pytest.param(lambda: pay(1), {"score": 0.1}, id="one action, low context score"),
]


@pytest.mark.parametrize(("propose", "context"), PROPOSALS)
def test_alternatives_are_scored_alike(
    guards: tuple[Guard, RemoteGuard, Any], propose: Callable[[], Any], context: dict[str, Any]
) -> None:
    local, remote, _ = guards
    here = local.agent(context=context)(propose)
    there = remote.agent(context=context)(propose)
    assert outcome(here) == outcome(there)


@pytest.mark.parametrize("scores", [[0.2, 0.1, 0.7], [0.6, 0.3, 0.1], [0.9, 0.05, 0.05]])
def test_scores_over_declared_actions_are_scored_alike(
    guards: tuple[Guard, RemoteGuard, Any], scores: list[float]
) -> None:
    local, remote, _ = guards
    vector = np.array(scores)
    here = local.agent(actions=ACTIONS)(lambda: vector)
    there = remote.agent(actions=ACTIONS)(lambda: vector)
    assert outcome(here) == outcome(there)


def test_one_action_with_explanations_keeps_the_context_score(
    guards: tuple[Guard, RemoteGuard, Any],
) -> None:
    *_, http = guards
    body = {
        "action": pay(1),
        "context": {"score": 0.1},
        "explanations": [{"kind": "note", "text": "why"}],
    }
    answer = http.post("/v1/check", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "deny"  # by the context's 0.1, not a made-up 1.0
