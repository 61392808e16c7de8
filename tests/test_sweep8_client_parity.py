"""RemoteGuard side by side with Guard: the same proposals and rankings give the same
actions, decisions and errors (a guard error is never an allowed action)."""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from guard import Guard, GuardError, InvalidAction
from guard.client import GuardClient, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


def pay(amount: Any) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


SHELL = {"kind": "run_shell", "params": {}}


@pytest.fixture
def guards(client: Any, pack_file: Path) -> Iterator[tuple[Guard, RemoteGuard]]:  # noqa: F811
    with Guard.from_policy(pack_file) as local:
        yield local, RemoteGuard("", client=GuardClient("http://testserver", client=client))


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a guarded call gave: the action or items and the decision's gist, or the error."""
    try:
        out = call()
    except GuardError as exc:
        return ("error", type(exc).__name__, str(exc).split(" (decision ")[0])
    d = out.decision
    sub = d.substitution.model_dump() if d.substitution else None
    items = [(o.id, o.verdict, o.rule_ids) for o in d.items or []]
    return ("ok", list(out) if isinstance(out, list) else dict(out), d.verdict, sub, items)


def gen() -> Iterator[tuple[dict[str, Any], float]]:
    yield (pay(20000), 0.6)
    yield (pay(3), 0.4)


def items_gen() -> Iterator[dict[str, Any]]:
    yield {"id": 1, "status": "suspended"}
    yield {"id": 2}


ACTIONS = [pay(20000), pay(1), pay(2)]

AGENTS = [
    pytest.param({}, gen, id="generator"),
    pytest.param({}, lambda: [(pay(20000), 0.5), (pay(1), 0.5), (pay(2), 0.5)], id="ties"),
    pytest.param({}, lambda: [(pay(20000), -0.5), (pay(2), -1)], id="negative"),
    pytest.param({}, lambda: [(pay(1), math.nan), (pay(2), 0.5)], id="nan-probability"),
    pytest.param({}, lambda: [], id="empty"),
    pytest.param({}, lambda: [(SHELL, 0.6), (pay(20000), 0.4)], id="all-denied"),
    pytest.param({}, lambda: pay(math.nan), id="nan-in-action"),
    pytest.param({}, lambda: pay(b"x"), id="bytes-in-action"),
    pytest.param({}, lambda: pay({1, 2}), id="set-in-action"),
    pytest.param({}, lambda: pay(np.float64(3)), id="numpy-in-action"),
    pytest.param({}, lambda: pay(2**60), id="inexact-integer"),
    pytest.param({"context": {"x": math.nan}}, lambda: pay(1), id="nan-in-context"),
    pytest.param({"actions": ACTIONS}, lambda: np.array([0.5, 0.3]), id="numpy-wrong-length"),
    pytest.param({"actions": ACTIONS}, lambda: np.array([[0.5, 0.3, 0.2]]), id="numpy-batch"),
]


@pytest.mark.parametrize(("options", "fn"), AGENTS)
def test_agent_gives_what_the_local_guard_gives(
    guards: tuple[Guard, RemoteGuard], options: dict[str, Any], fn: Callable[[], Any]
) -> None:
    local, remote = guards
    expected = outcome(local.agent(**options)(fn))
    assert outcome(remote.agent(**options)(fn)) == expected


class Item(BaseModel):
    id: int
    status: str = "active"


RANKERS = [
    pytest.param(lambda: [{"id": 1, "status": "suspended"}, {"id": 2}], id="list"),
    pytest.param(lambda: ({"id": 1, "status": "suspended"}, {"id": 2}), id="tuple"),
    pytest.param(items_gen, id="generator"),
    pytest.param(lambda: [Item(id=1, status="suspended"), Item(id=2)], id="models"),
    pytest.param(lambda: [{"id": 1, "score": np.float32(0.5)}], id="numpy-score"),
    pytest.param(
        lambda: pd.DataFrame([{"id": 1, "status": "suspended"}, {"id": 2, "status": "x"}]),
        id="dataframe",
    ),
    pytest.param(lambda: np.array([1, 2]), id="ndarray"),
    pytest.param(lambda: {"id": 1}, id="one-dict"),
    pytest.param(lambda: "ab", id="string"),
    pytest.param(lambda: [1, 2], id="not-mappings"),
    pytest.param(lambda: [{"id": 1}, {"id": 1}], id="duplicate-ids"),
    pytest.param(lambda: [{"id": True}], id="boolean-id"),
    pytest.param(lambda: [{"id": 1}, {"id": 1.0}], id="float-id"),
    pytest.param(lambda: [{"id": 1, "score": math.nan}], id="nan-score"),
    pytest.param(lambda: [{"id": 1, "score": 2**60}], id="inexact-score"),
    pytest.param(lambda: [], id="empty"),
]


@pytest.mark.parametrize("fn", RANKERS)
def test_ranker_gives_what_the_local_guard_gives(
    guards: tuple[Guard, RemoteGuard], fn: Callable[[], Any]
) -> None:
    local, remote = guards
    assert outcome(remote.ranker(fn)) == outcome(local.ranker(fn))


def test_a_dataframe_ranking_is_refused_with_how_to_convert_it(
    guards: tuple[Guard, RemoteGuard],
) -> None:
    frame = pd.DataFrame([{"id": 1}, {"id": 2}])
    for guard in guards:
        with pytest.raises(InvalidAction, match=r"got DataFrame; convert a DataFrame with"):
            guard.ranker(lambda: frame)()
        with pytest.raises(InvalidAction, match="items must be a list of mappings, got DataFrame"):
            guard.rank(frame)
    converted = guards[1].ranker(lambda: frame.to_dict("records"))()
    assert converted == [{"id": 1}, {"id": 2}]


def test_invalid_input_is_refused_before_anything_is_sent(client: Any) -> None:  # noqa: F811
    gc = GuardClient("http://testserver", client=client)
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: gc.check(None, candidates=[(pay(1), math.nan)]), "alternative #0 is nan"),
        (lambda: gc.check(pay(1), {"t": math.inf}), "context holds inf"),
        (lambda: gc.check_batch([pay(1), pay(math.nan)]), "action #1: action holds nan"),
        (lambda: gc.shield([pay(b"x")]), "action holds bytes"),
        (lambda: gc.rank([{"id": 1}], query=3), "query must be a string, got int"),  # type: ignore[arg-type]
    ]
    for call, says in cases:
        with pytest.raises(InvalidAction, match=says):
            call()
    assert gc.decisions()["items"] == []


def test_decorators_keep_the_signature_and_typing_of_the_function(
    guards: tuple[Guard, RemoteGuard],
) -> None:
    async def act(invoice: str, *, amount: int = 1) -> dict[str, Any]:
        return pay(amount)

    for guard in guards:
        wrapped = guard.agent(policy="svc-test")(act)
        ranked = guard.ranker(act)
        for w in (wrapped, ranked):
            assert inspect.signature(w) == inspect.signature(act)
            assert w.__wrapped__ is act and inspect.iscoroutinefunction(w)
    # Type checkers see the wrapped parameters (ParamSpec overloads), not (*Any, **Any).
    for name in ("agent", "ranker"):
        assert len(typing.get_overloads(getattr(RemoteGuard, name))) == 2
