"""A fork while another thread holds one of the guard's locks: the child does not hang."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from guard import Guard, _engine
from guard.policy import MemoryRateStore
from tests.test_sweep5_concurrency_close import _in_child

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PACK = """
name: forked
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: twice
    when: rate(str(actor), 3600) > 2
    effect: deny
"""


@contextmanager
def _held(lock: threading.Lock) -> Iterator[None]:
    """`lock` held by another thread (as a busy parent's worker holds it) until the end."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            done.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_a_child_forked_while_a_rate_store_is_busy_counts_on() -> None:
    store = MemoryRateStore()
    store.hit("k", 60)
    with _held(store._lock):
        seen = _in_child(lambda: str(store.hit("k", 60)))
    assert seen == "2"  # the parent's count, and the child's own hit
    assert store.hit("k", 60) == 2  # the parent's store never saw the child's


def test_a_child_forked_while_ids_are_being_made_makes_ids() -> None:
    with _held(_engine._ID_LOCK):
        made = _in_child(_engine.new_id)
    assert len(made) == 32


def test_a_guard_without_a_log_decides_in_a_child_forked_while_it_was_busy(
    write_pack: Callable[[str], Path],
) -> None:
    g = Guard.from_policy(write_pack(PACK))
    g.check({"kind": "k", "actor": "a"})
    assert isinstance(g.rates, MemoryRateStore)
    with _held(g.rates._lock):
        verdicts = _in_child(
            lambda: " ".join(g.check({"kind": "k", "actor": "a"}).verdict.value for _ in range(2))
        )
    assert verdicts == "allow deny"
