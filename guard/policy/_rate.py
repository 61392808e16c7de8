"""Sliding-window hit counters behind the `rate(key, window_seconds)` condition function."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["MemoryRateStore", "RateStore", "peek"]


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


class MemoryRateStore:
    """An in-process, thread-safe sliding-window counter with bounded memory.

    Memory is bounded twice: at most `max_keys` counters are kept (the least recently
    hit are dropped first, after expired ones), and each counter remembers at most
    `max_hits_per_key` timestamps, so a count saturates at that value instead of growing
    without bound. Choose `max_hits_per_key` above every threshold your rules compare to.
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
        # (key, window) -> timestamps, least recently hit first.
        self._hits: OrderedDict[tuple[str, float], deque[float]] = OrderedDict()

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

    def __len__(self) -> int:
        """The number of counters currently held."""
        with self._lock:
            return len(self._hits)

    def clear(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._hits.clear()

    def _prune(self, now: float) -> None:
        # Least recently hit counters come first: drop them while they are expired,
        # then evict by recency until there is room for one more.
        hits = self._hits
        while hits:
            (_, window), stamps = next(iter(hits.items()))
            if stamps and stamps[-1] > now - window:
                break
            hits.popitem(last=False)
        while len(hits) >= self._max_keys:
            hits.popitem(last=False)
