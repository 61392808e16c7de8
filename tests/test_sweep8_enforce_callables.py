"""Decorated callables that are async without being `async def` functions (an object with an
async __call__), sync callables handing back a coroutine, and an empty `actions=`: Guard and
RemoteGuard enforce or refuse them alike, with errors that say what to change."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from guard import ActionBlocked, Guard, InvalidAction
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


def pay(amount: int) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


@pytest.fixture(params=["local", "remote"])
def guard(request: Any, client: Any, pack_file: Path) -> Iterator[Any]:  # noqa: F811
    if request.param == "remote":
        yield RemoteGuard("", client=GuardClient("http://testserver", client=client))
        return
    with Guard.from_policy(pack_file) as local:
        yield local


class Policy:
    """A class-based policy: the proposal comes from an async __call__."""

    async def __call__(self, amount: int) -> list[tuple[dict[str, Any], float]]:
        return [(pay(amount), 0.7), (pay(3), 0.3)]


class Shell:
    async def __call__(self) -> dict[str, Any]:
        return {"kind": "run_shell", "params": {}}


class Search:
    async def __call__(self, query: str) -> AsyncIterator[dict[str, Any]]:
        yield {"id": 1, "status": "suspended"}
        yield {"id": 2}


def test_an_object_with_an_async_call_is_awaited_and_enforced(guard: Any) -> None:
    act = guard.agent(Policy())
    assert inspect.iscoroutinefunction(act)
    assert list(inspect.signature(act).parameters) == ["amount"]
    assert asyncio.run(act(1)) == pay(1)
    substituted = asyncio.run(act(20000))  # denied by huge-payment: the alternative runs
    assert substituted == pay(3) and substituted.decision.substitution.chosen_index == 1
    with pytest.raises(ActionBlocked):
        asyncio.run(guard.agent(Shell())())


def test_an_object_with_an_async_generator_call_is_collected_and_filtered(guard: Any) -> None:
    search = guard.ranker(Search())
    assert inspect.iscoroutinefunction(search)
    assert asyncio.run(search("q")) == [{"id": 2}]


async def propose(amount: int) -> dict[str, Any]:
    return pay(amount)


async def found() -> AsyncIterator[dict[str, Any]]:
    yield {"id": 1}


def test_a_sync_callable_handing_back_a_coroutine_is_refused_saying_why(guard: Any) -> None:
    with pytest.raises(InvalidAction, match=r"returned coroutine 'propose' but is not declared"):
        guard.agent(lambda: propose(1))()
    with pytest.raises(InvalidAction, match=r"returned async_generator 'found' but is not"):
        guard.ranker(lambda: found())()


def test_empty_declared_actions_are_refused_as_such(guard: Any) -> None:
    with pytest.raises(InvalidAction, match=r"^actions= is empty: declare the actions"):
        guard.agent(actions=[])(lambda: np.array([]))()
