"""Group commit of single checks: concurrent requests share check_batch, errors stay theirs."""

from __future__ import annotations

import asyncio

import pytest

from guard import AuditError, InvalidAction
from service import ServiceState
from service._batcher import CheckBatcher
from tests.service.conftest import pay


@pytest.fixture
def state(settings):
    state = ServiceState.build(settings)
    yield state
    state.close()


@pytest.fixture(params=["inline", "threaded"])
def path(request, state, monkeypatch):
    """Rule-only packs are decided on the event loop; the others in a worker thread."""
    if request.param == "threaded":
        monkeypatch.setattr(state.guard, "decides_inline", lambda policy=None: False)
    return request.param


def _patch(state, monkeypatch, path, replacement):
    """Put `replacement(actions, context, policy)` in place of the path's batch call."""
    if path == "threaded":
        monkeypatch.setattr(state.guard, "check_batch", replacement)
        return

    async def async_replacement(actions, context=None, *, policy=None, **options):
        return replacement(actions, context, policy=policy)

    monkeypatch.setattr(state.guard, "acheck_batch", async_replacement)


def _run(coro):
    return asyncio.run(coro)


def test_concurrent_checks_each_get_their_own_recorded_decision(state, monkeypatch, path):
    calls = []
    if path == "threaded":
        original = state.guard.check_batch

        def spy(actions, context=None, *, policy=None):
            calls.append(len(actions))
            return original(actions, context, policy=policy)

        monkeypatch.setattr(state.guard, "check_batch", spy)
    else:
        original_async = state.guard.acheck_batch

        async def async_spy(actions, context=None, *, policy=None, **options):
            calls.append(len(actions))
            return await original_async(actions, context, policy=policy, **options)

        monkeypatch.setattr(state.guard, "acheck_batch", async_spy)
    batcher = CheckBatcher(lambda: state.guard)
    amounts = [1, 900, 20000, 5, 700, 3] * 5

    async def main():
        return await asyncio.gather(
            *[batcher.check(pay(a), {"n": i % 2}, None) for i, a in enumerate(amounts)]
        )

    decisions = _run(main())
    expected = {1: "allow", 5: "allow", 3: "allow", 700: "escalate", 900: "escalate", 20000: "deny"}
    assert [d.verdict.value for d in decisions] == [expected[a] for a in amounts]
    assert len({d.id for d in decisions}) == len(amounts)
    assert all(d.audited for d in decisions)
    assert sum(calls) == len(amounts) and len(calls) < len(amounts)  # batched
    for d in decisions:
        assert state.audit.get(d.id).record["verdict"] == d.verdict.value


def test_an_invalid_action_fails_only_its_own_request(state):
    batcher = CheckBatcher(lambda: state.guard)

    async def main():
        return await asyncio.gather(
            batcher.check(pay(1), None, None),
            batcher.check({"kind": ""}, None, None),
            batcher.check(pay(2), None, None),
            return_exceptions=True,
        )

    ok1, bad, ok2 = _run(main())
    assert isinstance(bad, InvalidAction)
    assert ok1.verdict.value == ok2.verdict.value == "allow"


def test_a_failed_group_is_retried_one_by_one(state, monkeypatch, path):
    calls = []
    original = state.guard.check_batch if path == "threaded" else state.guard.acheck_batch

    def broken_when_shared(actions, context=None, *, policy=None, **options):
        calls.append(len(actions))
        if len(actions) > 1:
            raise AuditError("simulated failure of the shared transaction")
        return original(actions, context, policy=policy, **options)

    if path == "threaded":
        monkeypatch.setattr(state.guard, "check_batch", broken_when_shared)
    else:

        async def async_broken(actions, context=None, *, policy=None, **options):
            return await broken_when_shared(actions, context, policy=policy, **options)

        monkeypatch.setattr(state.guard, "acheck_batch", async_broken)
    batcher = CheckBatcher(lambda: state.guard)

    async def main():
        return await asyncio.gather(*[batcher.check(pay(a), None, None) for a in (1, 900)])

    decisions = _run(main())
    assert [d.verdict.value for d in decisions] == ["allow", "escalate"]
    assert calls[0] == 2  # the group failed, then each action was decided alone
    assert calls[1:] == ([] if path == "threaded" else [1, 1])  # (threaded: with check())
    assert all(state.audit.get(d.id) for d in decisions)


def test_an_unexpected_error_reaches_every_waiter(state, monkeypatch, path):
    def bug(actions, context=None, *, policy=None):
        raise ZeroDivisionError

    _patch(state, monkeypatch, path, bug)
    batcher = CheckBatcher(lambda: state.guard)

    async def main():
        return await asyncio.gather(
            *[batcher.check(pay(a), None, None) for a in (1, 2)], return_exceptions=True
        )

    assert all(isinstance(r, ZeroDivisionError) for r in _run(main()))
