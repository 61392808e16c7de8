"""Keyed hashes of PII values, so records can be correlated without holding the value.

The key comes from the caller, else from `GUARD_PII_HASH_KEY`, else it is random and
lives only as long as the process: hashes are then stable within one process but not
across processes or restarts. Set the environment variable (the same value on every
sidecar) when reviewers need to match hashes across processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from typing import Any

ENV_KEY = "GUARD_PII_HASH_KEY"

_lock = threading.Lock()
_process_key: bytes | None = None


def _after_fork() -> None:
    # Another thread may have held the lock at the fork: in the child it would stay held
    # for ever. The child keeps the parent's key, so its hashes match the parent's.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork)


def resolve_key(hash_key: bytes | None) -> bytes:
    """The HMAC key: the argument, else the environment variable, else a per-process key."""
    if hash_key is not None:
        if not isinstance(hash_key, bytes | bytearray) or not hash_key:
            raise TypeError(f"hash_key must be non-empty bytes, got {type(hash_key).__name__}")
        return bytes(hash_key)
    from_env = os.environ.get(ENV_KEY)
    if from_env:
        return from_env.encode("utf-8")
    return _random_process_key()


def _random_process_key() -> bytes:
    global _process_key
    with _lock:
        if _process_key is None:
            _process_key = secrets.token_bytes(32)
        return _process_key


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a string in hex; lone surrogates are hashed, not refused."""
    data = value.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def keyed_hash_any(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of any JSON-like value (strings as is, others as sorted compact JSON)."""
    if isinstance(value, str):
        return keyed_hash(key, value)
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    except (ValueError, RecursionError):
        text = repr(value)
    return keyed_hash(key, text)


def text_digest(text: str) -> bytes:
    """A fast, unkeyed digest of a text for cache keys and scan/redact consistency checks."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
