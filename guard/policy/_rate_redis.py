"""A sliding-window `RateStore` in Redis, so every process pointed at it shares each counter."""

from __future__ import annotations

import itertools
import math
import os
import re
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from guard._exceptions import DependencyMissing, RateStoreUnavailable
from guard.policy._rate import check_amount, sum_to_float

try:
    import redis
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissing(
        "the Redis rate store needs the 'redis' package: pip install 'agent-guard[service]'"
    ) from exc

__all__ = ["RedisRateStore"]

_DECIMAL = re.compile(rb"[0-9]+(?:e-?[0-9]+)?")  # a sum as the scripts below write it

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
# scored by time as above; an amount is the decimal text Python's repr writes ("0.1",
# "1e-05"). Sums are exact, as in `MemoryRateStore`: each amount's digits are added into
# limbs of 7 digits by their power of ten, and the carries run once at the end, so "0.1"
# three times is "3000000e-7". The sum comes back as that text (Redis would truncate a Lua
# number reply to an integer) and is rounded to a float once, in Python. Past the cap the
# two oldest members are merged, exactly, into one stamped with the later time, so a sum
# never drops early.
_DECIMALS = """
local function add_digits(acc, member)
    local int, frac, exp = string.match(member, '^(%d*)%.?(%d*)[eE]?([-+]?%d*)')
    local low = (tonumber(exp) or 0) - #frac  -- the power of ten of the last digit
    local pad = low % 7  -- align to limbs of 7 digits: limb n holds 10^(7n) to 10^(7n+6)
    local digits = int .. frac .. string.rep('0', pad)
    local limb = (low - pad) / 7
    for stop = #digits, 1, -7 do
        local value = tonumber(string.sub(digits, math.max(stop - 6, 1), stop))
        if value ~= 0 then
            acc[limb] = (acc[limb] or 0) + value
        end
        limb = limb + 1
    end
end

local function decimal_text(acc)
    local low, high
    for n in pairs(acc) do
        if low == nil or n < low then low = n end
        if high == nil or n > high then high = n end
    end
    if low == nil then return '0' end
    local limbs, carry, n = {}, 0, low
    while n <= high or carry > 0 do
        local value = (acc[n] or 0) + carry
        table.insert(limbs, 1, string.format('%07d', value % 10000000))
        carry = math.floor(value / 10000000)
        n = n + 1
    end
    return (string.gsub(table.concat(limbs), '^0+', '')) .. 'e' .. (low * 7)
end
"""

_TOTAL = (
    _DECIMALS
    + """
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
    local merged = {}
    add_digits(merged, two[1])
    add_digits(merged, two[3])
    redis.call('ZREM', KEYS[1], two[1], two[3])
    local bar = string.find(two[3], '|', 1, true)
    redis.call('ZADD', KEYS[1], two[4], decimal_text(merged) .. string.sub(two[3], bar))
end
local total = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    add_digits(total, member)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
return decimal_text(total)
"""
)

# The sum `_TOTAL` would return, recording nothing.
_PEEK_TOTAL = (
    _DECIMALS
    + """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local total = {}
add_digits(total, ARGV[2])
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (micros - tonumber(ARGV[1])), '+inf')
for _, member in ipairs(members) do
    add_digits(total, member)
end
return decimal_text(total)
"""
)


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
        except redis.RedisError as exc:
            raise RateStoreUnavailable(
                f"rate store {self.url!r} could not {what}: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(answer, bytes) or not _DECIMAL.fullmatch(answer):
            raise RateStoreUnavailable(f"rate store {self.url!r} answered {answer!r}, not a sum")
        return sum_to_float(answer)

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
