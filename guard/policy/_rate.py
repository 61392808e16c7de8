"""Sliding-window counters behind the `rate(key, seconds)` and `total(key, amount, seconds)`
condition functions."""

from __future__ import annotations

import decimal
import math
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol, runtime_checkable

__all__ = ["MemoryRateStore", "RateStore", "add", "peek", "peek_total"]


@runtime_checkable
class RateStore(Protocol):
    """Counts hits per key in a sliding time window; the one extension point for rate limits."""

    def hit(self, key: str, window: float) -> int:
        """Record a hit for `key`; return the hits in the last `window` seconds, this one too."""
        ...


def peek(store: RateStore, key: str, window: float) -> int:
    """What `store.hit` would return, without recording: a store's own `peek` if it has
    one; a store without it records the hit (a dry run then counts, erring strict)."""
    method = getattr(store, "peek", None)
    return method(key, window) if callable(method) else store.hit(key, window)


def add(store: RateStore, key: str, amount: float, window: float) -> float:
    """Record `amount` for `key`; return the sum in the last `window` seconds, this one too.

    Sums are an optional part of a store (its `total` method): a store without it
    raises TypeError, which the calling rule reports as an evaluation error.
    """
    return _sums(store, "total")(key, amount, window)


def peek_total(store: RateStore, key: str, amount: float, window: float) -> float:
    """What `add` would return, without recording: a store's own `peek_total` if it has
    one; a store without it records the amount (a dry run then counts, erring strict)."""
    method = getattr(store, "peek_total", None)
    return method(key, amount, window) if callable(method) else add(store, key, amount, window)


def _sums(store: RateStore, name: str) -> Callable[[str, float, float], float]:
    method = getattr(store, name, None)
    if not callable(method):
        raise TypeError(
            f"rate store {type(store).__name__} cannot sum amounts: it has no {name}() method"
        )
    return method  # type: ignore[no-any-return]


def check_amount(amount: float) -> float:
    """The amount as a float, or ValueError unless it is a finite non-negative number."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise ValueError(f"amount must be a finite non-negative number, got {amount!r}")
    try:
        value = float(amount)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"amount must be a finite non-negative number, got {amount!r}")
    return value


def _check_window(window: float) -> float:
    if isinstance(window, bool) or not isinstance(window, (int, float)):
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    if not math.isfinite(window) or window <= 0:
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    return float(window)


# Wide enough for the exact sum of any floats' decimals (1e308 down to 5e-324) and carries.
_EXACT = decimal.Context(prec=1000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_EXACT.traps[decimal.Inexact] = True


def exact(amount: float) -> Decimal:
    """An amount as the decimal it is written as: the shortest that names the float
    (`repr`), so 0.1 is one tenth, not the binary fraction nearest to it."""
    return Decimal(repr(amount))


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of decimal amounts (no rounding at any step)."""
    total = Decimal(0)
    for amount in amounts:
        total = _EXACT.add(total, amount)
    return total


def sum_to_float(total: Decimal | str | bytes) -> float:
    """An exact decimal sum rounded once to the nearest float; ValueError past the largest."""
    value = float(total)
    if not math.isfinite(value):
        raise ValueError("the amounts in the window add up past the largest float")
    return value


class MemoryRateStore:
    """An in-process, thread-safe sliding-window counter with bounded memory.

    Memory is bounded twice: at most `max_keys` counters are kept (the least recently
    hit are dropped first, after expired ones), and each counter remembers at most
    `max_hits_per_key` timestamps, so a count saturates at that value instead of growing
    without bound. Choose `max_hits_per_key` above every threshold your rules compare to.

    Sums (`total`) are kept apart from counts, under the same bounds, and never drop
    early: past `max_hits_per_key` amounts the two oldest are merged into one stamped
    with the later time (so an amount may expire late, erring strict, never early).
    Amounts are summed exactly as the decimals they are written as and the sum is
    rounded once (see `exact`), as `RedisRateStore` sums them: both give the same float.
    """

    def __init__(
        self,
        *,
        max_keys: int = 100_000,
        max_hits_per_key: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        if max_hits_per_key < 1:
            raise ValueError(f"max_hits_per_key must be at least 1, got {max_hits_per_key!r}")
        self._max_keys = max_keys
        self._max_hits = max_hits_per_key
        self._clock = clock
        self._lock = threading.Lock()
        _STORES.add(self)
        # (key, window) -> timestamps, least recently hit first.
        self._hits: OrderedDict[tuple[str, float], deque[float]] = OrderedDict()
        # (key, window) -> (timestamp, amount) pairs, least recently added first.
        self._sums: OrderedDict[tuple[str, float], deque[tuple[float, Decimal]]] = OrderedDict()

    def hit(self, key: str, window: float) -> int:
        """Record a hit for `key`; return the hits in the last `window` seconds, this one too."""
        if not isinstance(window, (int, float)) or not math.isfinite(window) or window <= 0:
            raise ValueError(f"window must be a positive number of seconds, got {window!r}")
        slot = (key, float(window))
        with self._lock:
            now = self._clock()
            stamps = self._hits.get(slot)
            if stamps is None:
                self._prune(now)
                stamps = deque()
                self._hits[slot] = stamps
            else:
                self._hits.move_to_end(slot)
            cutoff = now - window
            while stamps and stamps[0] <= cutoff:
                stamps.popleft()
            stamps.append(now)
            if len(stamps) > self._max_hits:
                stamps.popleft()
            return len(stamps)

    def peek(self, key: str, window: float) -> int:
        """What `hit` would return now, without recording anything (for dry runs)."""
        if not isinstance(window, (int, float)) or not math.isfinite(window) or window <= 0:
            raise ValueError(f"window must be a positive number of seconds, got {window!r}")
        with self._lock:
            cutoff = self._clock() - window
            stamps = self._hits.get((key, float(window)), ())
            return min(sum(1 for t in stamps if t > cutoff) + 1, self._max_hits)

    def total(self, key: str, amount: float, window: float) -> float:
        """Record `amount` for `key`; return the sum in the last `window` seconds, this one too."""
        window = _check_window(window)
        value = check_amount(amount)
        slot = (key, window)
        with self._lock:
            now = self._clock()
            entries = self._sums.get(slot)
            if entries is None:
                self._prune(now)
                entries = deque()
                self._sums[slot] = entries
            else:
                self._sums.move_to_end(slot)
            cutoff = now - window
            while entries and entries[0][0] <= cutoff:
                entries.popleft()
            if value:  # a zero adds nothing to the sum: it needs no memory
                entries.append((now, exact(value)))
            if len(entries) > self._max_hits:  # merge the two oldest: the sum stays whole
                first, second = entries.popleft(), entries.popleft()
                entries.appendleft((second[0], exact_sum((first[1], second[1]))))
            return sum_to_float(exact_sum(a for _, a in entries))

    def peek_total(self, key: str, amount: float, window: float) -> float:
        """What `total` would return now, without recording anything (for dry runs)."""
        window = _check_window(window)
        value = check_amount(amount)
        with self._lock:
            cutoff = self._clock() - window
            entries = self._sums.get((key, window), ())
            return sum_to_float(exact_sum([exact(value), *(a for t, a in entries if t > cutoff)]))

    def __len__(self) -> int:
        """The number of counters currently held (counts and sums)."""
        with self._lock:
            return len(self._hits) + len(self._sums)

    def clear(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._hits.clear()
            self._sums.clear()

    def _after_fork(self) -> None:
        # Another thread may have held the lock when the process forked: in the child it
        # would stay held for ever. The child keeps the counts (its own from now on).
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        # Least recently used counters come first: drop them while they are expired,
        # then evict by recency until there is room for one more. Counts and sums share
        # the bound on counters.
        hits, sums = self._hits, self._sums
        while hits:
            (_, window), stamps = next(iter(hits.items()))
            if stamps and stamps[-1] > now - window:
                break
            hits.popitem(last=False)
        while sums:
            (_, window), entries = next(iter(sums.items()))
            if entries and entries[-1][0] > now - window:
                break
            sums.popitem(last=False)
        while len(hits) + len(sums) >= self._max_keys:
            older = hits if hits and (not sums or len(hits) >= len(sums)) else sums
            older.popitem(last=False)


_STORES: weakref.WeakSet[MemoryRateStore] = weakref.WeakSet()


def _after_fork() -> None:
    for store in list(_STORES):
        store._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork)
