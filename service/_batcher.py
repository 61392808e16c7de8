"""Group commit for single checks: concurrent /v1/check requests share one batched check.

Each request is validated on its own first (so one bad action never fails its neighbours),
then queued. One drain task decides everything queued, grouped by pack and context: one
PII pass and one audit transaction per group. Packs with a PII scan go to a worker
thread as `Guard.check_batch` calls; rule-only packs are decided on the event loop
(`Guard.acheck_batch`, microseconds each), which then awaits the audit commit without
holding a thread. Requests arriving meanwhile form the next batch, so a lone request
waits for nothing, and a busy server pays the commit once per batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson

from guard._engine import Guard
from guard._exceptions import GuardError
from guard._models import Decision
from guard._validate import check_action, check_data

__all__ = ["CheckBatcher"]


@dataclass
class _Item:
    guard: Guard
    policy: str | None
    action: dict[str, Any]
    context: dict[str, Any] | None
    future: asyncio.Future[Decision]
    checked: tuple[dict[str, Any], str, bytes]  # check_action's result, reused by the guard
    key: tuple[int, str | None, bytes] = field(init=False)

    def __post_init__(self) -> None:
        ctx = (
            b"" if self.context is None else orjson.dumps(self.context, option=orjson.OPT_SORT_KEYS)
        )
        self.key = (id(self.guard), self.policy, ctx)


class CheckBatcher:
    """Batches concurrent single-action checks into `Guard.check_batch` calls."""

    def __init__(self, guard: Callable[[], Guard], *, max_batch: int = 512) -> None:
        self._guard = guard
        self._max = max_batch
        self._queue: list[_Item] = []
        self._draining = False

    async def check(
        self,
        action: dict[str, Any],
        context: dict[str, Any] | None,
        policy: str | None,
        guard: Guard | None = None,
    ) -> Decision:
        """Decide one action; the decision comes back once its audit record is committed.

        `guard`: the one the caller already holds (else the batcher's own is asked for).
        """
        checked = check_action(action)  # this request's own errors stay this request's
        if context is not None:
            check_data(context, "context")
        loop = asyncio.get_running_loop()
        guard = guard if guard is not None else self._guard()
        item = _Item(guard, policy, action, context, loop.create_future(), checked)
        self._queue.append(item)
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await item.future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._max], self._queue[self._max :]
                inline: list[_Item] = []
                threaded: list[_Item] = []
                for item in batch:
                    (inline if _inline(item) else threaded).append(item)
                if threaded:
                    _settle(threaded, await anyio.to_thread.run_sync(_decide_groups, threaded))
                for indexes in _groups(inline).values():
                    group = [inline[i] for i in indexes]
                    _settle(group, await _decide_group_inline(group))
        finally:
            self._draining = False


def _inline(item: _Item) -> bool:
    """Rule-only packs are decided on the event loop: microseconds, no thread hop."""
    try:
        return item.guard.decides_inline(item.policy)
    except GuardError:
        return False  # the threaded path reports the error


def _settle(items: list[_Item], outcomes: list[Decision | BaseException]) -> None:
    for item, outcome in zip(items, outcomes, strict=True):
        if item.future.done():  # the caller went away (timeout, disconnect)
            continue
        if isinstance(outcome, BaseException):
            item.future.set_exception(outcome)
        else:
            item.future.set_result(outcome)


def _groups(batch: list[_Item]) -> dict[tuple[int, str | None, bytes], list[int]]:
    groups: dict[tuple[int, str | None, bytes], list[int]] = {}
    for i, item in enumerate(batch):
        groups.setdefault(item.key, []).append(i)
    return groups


async def _decide_group_inline(items: list[_Item]) -> list[Decision | BaseException]:
    first = items[0]
    try:
        return list(
            await first.guard.acheck_batch(
                [item.action for item in items],
                first.context,
                policy=first.policy,
                checked=[item.checked for item in items],
            )
        )
    except GuardError as exc:
        if len(items) == 1:
            return [exc]
        return [(await _decide_group_inline([item]))[0] for item in items]  # whose was it?
    except Exception as exc:  # a bug must reach every waiter, not hang them
        return [exc] * len(items)


def _decide_groups(batch: list[_Item]) -> list[Decision | BaseException]:
    """Run each (pack, context) group as one check_batch; isolate failures to their items."""
    out: list[Decision | BaseException] = [RuntimeError("not decided")] * len(batch)
    for indexes in _groups(batch).values():
        for i, outcome in zip(indexes, _decide_group([batch[i] for i in indexes]), strict=True):
            out[i] = outcome
    return out


def _decide_group(items: list[_Item]) -> list[Decision | BaseException]:
    first = items[0]
    try:
        decisions = first.guard.check_batch(
            [item.action for item in items], first.context, policy=first.policy
        )
    except GuardError as exc:
        if len(items) == 1:
            return [exc]
        return [_one(item) for item in items]  # find out which item it was
    except Exception as exc:  # a bug must reach every waiter, not hang them
        return [exc] * len(items)
    return list(decisions)


def _one(item: _Item) -> Decision | BaseException:
    try:
        return item.guard.check(item.action, item.context, policy=item.policy)
    except Exception as exc:
        return exc
