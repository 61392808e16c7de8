"""What `make run` (service/_feed.py) and `guard demo` (guard/_demo.py) show a new user
agrees with what they recorded."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("presidio_analyzer")

with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from guard._demo import run_demo  # noqa: E402
from guard.client import GuardClient  # noqa: E402
from service import create_app  # noqa: E402
from service._feed import PLAN_ACTIONS, feed_demo  # noqa: E402
from service._settings import Settings  # noqa: E402
from service._state import ServiceState  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    tmp: Path = tmp_path_factory.mktemp("feed15b")
    settings = Settings(audit=f"sqlite:///{tmp / 'audit.db'}", rate_limit="100000/minute")
    state = ServiceState.build(settings)
    with TestClient(create_app(state=state)) as http:
        client = GuardClient("http://testserver", client=http)
        feed_demo(client)
        yield [d["record"] for d in client.decisions(limit=200)["items"]]
    state.close()


def test_the_planner_rationale_gives_mean_values_in_its_reward_range(records) -> None:
    # The demo planner's rewards are in [0, 1]: no action's mean value can be outside them
    # (its tree gave totals over the visits where a mean was read: "mean value +161").
    labels = {label for label, _ in PLAN_ACTIONS}
    rationales = [
        e
        for r in records
        for e in r["explanations"]
        if e.get("kind") == "rationale" and {a.get("label") for a in e["actions"]} == labels
    ]
    assert len(rationales) == 1
    actions = rationales[0]["actions"]
    assert len(actions) == 3
    for a in actions:
        assert 0.0 <= a["q"] <= 1.0, a
    # the margin it states is between two of those means
    assert 0.0 <= rationales[0]["q_margin"] <= 1.0


def test_guard_demo_shows_each_example_line_once() -> None:
    summary = run_demo(None, rounds=2)
    lines = summary["examples"]
    assert len(lines) == len(set(lines)), lines
    # and the second round's traffic is still counted
    assert summary["decisions"] == 2 * run_demo(None)["decisions"]


def test_a_sidecar_without_the_demo_packs_gets_no_part_of_the_traffic(tmp_path: Path) -> None:
    from guard import PolicyError

    # `guard serve --demo --policy marketplace-agent`: one of the three packs it sends to
    settings = Settings(
        policy="marketplace-agent",
        audit=f"sqlite:///{tmp_path / 'audit.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings)
    try:
        with TestClient(create_app(state=state)) as http:
            client = GuardClient("http://testserver", client=http)
            with pytest.raises(PolicyError) as caught:
                feed_demo(client)
            assert client.head()["size"] == 0  # nothing recorded: the log holds no half-demo
    finally:
        state.close()
    message = str(caught.value)
    assert "ranking" in message and "agent-tools" in message
    assert "nothing was sent" in message
