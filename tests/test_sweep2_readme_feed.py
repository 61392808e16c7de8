"""`make run`'s example traffic (service/_feed.py): the planner's rationale names the rules
that removed an action, and the ranking line says why items were dropped."""

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

from guard.client import GuardClient  # noqa: E402
from service import create_app  # noqa: E402
from service._feed import feed_demo  # noqa: E402
from service._settings import Settings  # noqa: E402
from service._state import ServiceState  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Any]]:
    tmp: Path = tmp_path_factory.mktemp("feed")
    settings = Settings(audit=f"sqlite:///{tmp / 'audit.db'}", rate_limit="100000/minute")
    state = ServiceState.build(settings)
    with TestClient(create_app(state=state)) as http:
        client = GuardClient("http://testserver", client=http)
        summary = feed_demo(client)
        planned = client.decisions(kind="search", policy="agent-tools")["items"]
        yield summary, planned
    state.close()


def _planner_record(planned: list[dict[str, Any]]) -> dict[str, Any]:
    for item in planned:
        record = item["record"]
        if record.get("substitution") and record.get("explanations"):
            return record
    raise AssertionError("no planner decision recorded")


def test_shield_names_only_the_rules_that_deny(fed) -> None:
    _, planned = fed
    why = _planner_record(planned)["explanations"][0]
    assert [(s["label"], s["rule"]) for s in why["shielded"]] == [
        ("clear the cache", "no-destructive-shell, no-destructive-shell-words")
    ]
    # the allow-list and the review rule also fired on `rm -rf`, but removed nothing
    assert "tool-allow-list" not in why["text"]
    assert "shell-needs-review" not in why["text"]


def test_ranking_line_says_why_items_were_dropped(fed) -> None:
    summary, _ = fed
    line = next(x for x in summary["examples"] if x.startswith("ranking:"))
    assert line == (
        "ranking: kept 8 of 12, dropped 4 "
        "(at-most-3-per-agency, drop-suspended, drop-unverified-low-quality)"
    )
