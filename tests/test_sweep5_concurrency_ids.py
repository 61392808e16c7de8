"""Decision ids under threads, a clock set back and a fork: unique and in creation order."""

from __future__ import annotations

import os
import random
import sys
import threading
import time

import pytest

from guard import _engine
from guard._engine import new_id


def _tag(record_id: str) -> str:
    return record_id[16:26]  # after the 16 hex digits of the time


def test_ids_from_many_threads_are_unique_and_ordered_per_thread() -> None:
    per_thread: list[list[str]] = [[] for _ in range(16)]
    start = threading.Barrier(16)

    def work(out: list[str]) -> None:
        start.wait()
        out.extend(new_id() for _ in range(2000))

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    every = [i for out in per_thread for i in out]
    assert len(set(every)) == len(every)
    assert all(out == sorted(out) for out in per_thread)


@pytest.mark.parametrize(
    "clock",
    [
        pytest.param([5_000, 4_000, 4_000, 3_000], id="clock-set-back"),
        pytest.param([7_000, 7_000, 7_000, 7_000], id="clock-stands-still"),
        pytest.param([1_000, 2_000, 3_000, 4_000], id="clock-moves-on"),
    ],
)
def test_ids_keep_their_order_whatever_the_wall_clock_does(
    monkeypatch: pytest.MonkeyPatch, clock: list[int]
) -> None:
    base = time.time_ns() + 10**12  # later than any id made so far in this process
    ticks = iter([base + c for c in clock])
    monkeypatch.setattr(time, "time_ns", lambda: next(ticks))
    ids = [new_id() for _ in clock]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_ordered_across_threads_in_the_order_they_were_made() -> None:
    # one lock orders them: an id made after another (happens-before) sorts after it
    made: list[str] = []
    lock = threading.Lock()
    rng = random.Random(5)

    def work() -> None:
        for _ in range(500):
            with lock:
                made.append(new_id())
            if rng.random() < 0.1:
                time.sleep(0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made == sorted(made)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_makes_ids_with_its_own_tag() -> None:
    parent = new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write, new_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == len(parent) == 32
    assert _tag(child) != _tag(parent)
    assert _tag(new_id()) == _tag(parent) == _engine._PROCESS
