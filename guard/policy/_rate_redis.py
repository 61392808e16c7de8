"""A sliding-window `RateStore` in Redis, so every process pointed at it shares each counter."""

from __future__ import annotations

import itertools
import math
import os
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from guard._exceptions import DependencyMissing, RateStoreUnavailable
from guard.policy._rate import check_amount

try:
    import redis
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissing(
        "the Redis rate store needs the 'redis' package: pip install 'agent-guard[service]'"
    ) from exc

__all__ = ["RedisRateStore"]

# One sorted set per (key, window): members are hits, scores their time in microseconds on
# the Redis server's clock, so sidecars on hosts with skewed clocks still agree. The script
# runs atomically: drop hits at or before the window's start, add this one, trim to the cap
# (the count then saturates there), count, and let an idle counter expire with its window.
_HIT = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window = tonumber(ARGV[1])
local cap = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', micros - window)
redis.call('ZADD', KEYS[1], micros, ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count > cap then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - cap - 1)
    count = cap
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
return count
"""

# The count `_HIT` would return, recording nothing.
_PEEK = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local count = redis.call('ZCOUNT', KEYS[1], '(' .. (micros - tonumber(ARGV[1])), '+inf') + 1
return math.min(count, tonumber(ARGV[2]))
"""


# Sums (`total`): one sorted set per (key, window) whose members are "<amount>|<unique id>",
# scored by time as above. Past the cap the two oldest members are merged into one stamped
# with the later time, so a sum never drops early. Amounts travel as `repr(float)` text and
# the sum comes back as text: Redis would truncate a Lua number reply to an integer.
_TOTAL = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window = tonumber(ARGV[1])
local cap = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', micros - window)
if tonumber(ARGV[2]) > 0 then
    redis.call('ZADD', KEYS[1], micros, ARGV[2] .. '|' .. ARGV[3])
end
while redis.call('ZCARD', KEYS[1]) > cap do
    local two = redis.call('ZRANGE', KEYS[1], 0, 1, 'WITHSCORES')
    local bar = string.find(two[3], '|', 1, true)
    local merged = tonumber(string.match(two[1], '^[^|]+'))
    merged = merged + tonumber(string.sub(two[3], 1, bar - 1))
    redis.call('ZREM', KEYS[1], two[1], two[3])
    redis.call('ZADD', KEYS[1], two[4], string.format('%.17g', merged) .. string.sub(two[3], bar))
end
local total = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    total = total + tonumber(string.match(member, '^[^|]+'))
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
return string.format('%.17g', total)
"""

# The sum `_TOTAL` would return, recording nothing.
_PEEK_TOTAL = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local total = tonumber(ARGV[2])
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (micros - tonumber(ARGV[1])), '+inf')
for _, member in ipairs(members) do
    total = total + tonumber(string.match(member, '^[^|]+'))
end
return string.format('%.17g', total)
"""


class RedisRateStore:
    """Counts hits per key in a sliding window kept in Redis (URL `redis://host:6379/0`).

    Each hit is one atomic script call. When Redis cannot be reached or answers with an
    error, `hit` raises `RateStoreUnavailable`, an `EvaluationError`: the rule calling
    `rate()` then takes its `on_error` effect, so an outage never lets an action through
    unchecked. As with `MemoryRateStore`, a count saturates at `max_hits_per_key`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "guard:rate:",
        timeout: float = 1.0,
        max_hits_per_key: int = 10_000,
    ) -> None:
        if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not isinstance(max_hits_per_key, int) or max_hits_per_key < 1:
            raise ValueError(f"max_hits_per_key must be at least 1, got {max_hits_per_key!r}")
        self.url = _hide_password(url)
        self.prefix = prefix
        self._cap = max_hits_per_key
        try:
            self._client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except ValueError as exc:
            raise ValueError(f"invalid Redis URL {self.url!r}: {exc}") from None
        self._script = self._client.register_script(_HIT)
        self._peek = self._client.register_script(_PEEK)
        self._total = self._client.register_script(_TOTAL)
        self._peek_total = self._client.register_script(_PEEK_TOTAL)
        # Members must differ between hits, hosts and forked workers: tag, pid and a counter.
        self._tag = secrets.token_hex(8)
        self._sequence = itertools.count()

    def hit(self, key: str, window: float) -> int:
        """Record a hit for `key`; return the hits in the last `window` seconds, this one too."""
        member = f"{self._tag}:{os.getpid()}:{next(self._sequence)}"
        return self._count(self._script, key, window, member, "count the hit")

    def peek(self, key: str, window: float) -> int:
        """What `hit` would return now, without recording anything (for dry runs)."""
        return self._count(self._peek, key, window, None, "count")

    def total(self, key: str, amount: float, window: float) -> float:
        """Record `amount` for `key`; return the sum in the last `window` seconds, this one too."""
        member = f"{self._tag}:{os.getpid()}:{next(self._sequence)}"
        return self._sum(self._total, key, amount, window, member, "add the amount")

    def peek_total(self, key: str, amount: float, window: float) -> float:
        """What `total` would return now, without recording anything (for dry runs)."""
        return self._sum(self._peek_total, key, amount, window, None, "sum")

    def _sum(
        self, script: Any, key: str, amount: float, window: float, member: str | None, what: str
    ) -> float:
        value = check_amount(amount)
        micros = _micros(window)
        counter = f"{self.prefix}sum:{float(window)!r}:{key}"
        args = [micros, repr(value)] if member is None else [micros, repr(value), member, self._cap]
        try:
            answer = script(keys=[counter], args=args)
            total = float(answer)
        except redis.RedisError as exc:
            raise RateStoreUnavailable(
                f"rate store {self.url!r} could not {what}: {type(exc).__name__}: {exc}"
            ) from exc
        except (TypeError, ValueError):
            raise RateStoreUnavailable(
                f"rate store {self.url!r} answered {answer!r}, not a sum"
            ) from None
        if not math.isfinite(total):
            raise ValueError("the amounts in the window add up past the largest float")
        return total

    def _count(self, script: Any, key: str, window: float, member: str | None, what: str) -> int:
        micros = _micros(window)
        counter = f"{self.prefix}{float(window)!r}:{key}"
        args = [micros, self._cap] if member is None else [micros, member, self._cap]
        try:
            count = script(keys=[counter], args=args)
        except redis.RedisError as exc:
            raise RateStoreUnavailable(
                f"rate store {self.url!r} could not {what}: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(count, int):
            raise RateStoreUnavailable(f"rate store {self.url!r} answered {count!r}, not a count")
        return count

    def close(self) -> None:
        """Close the connections to Redis."""
        self._client.close()


def _micros(window: float) -> int:
    if not isinstance(window, (int, float)) or not math.isfinite(window) or window <= 0:
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    return max(1, round(window * 1_000_000))


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
