"""A custom `AuditStore` failing under a running Guard: the caller gets an AuditError that
names the cause, never a decision, and never waits forever."""

from __future__ import annotations

import errno
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from guard import AuditError, Guard
from guard.audit import AuditLog, MemoryStore

PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules: []
"""
HANG = 60  # seconds: only a hung writer thread takes this long


class FailingStore(MemoryStore):
    """A memory store whose appends raise `fail` while it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: BaseException | None = None

    def append(self, records: list[bytes]) -> list[int]:
        if self.fail is not None:
            raise self.fail
        return super().append(records)


@pytest.fixture
def store() -> FailingStore:
    return FailingStore()


@pytest.fixture
def guard(tmp_path: Path, store: FailingStore) -> Guard:
    pack = tmp_path / "t.yaml"
    pack.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(pack, audit=AuditLog(store))


PAY: dict[str, Any] = {"kind": "pay", "params": {"amount": 1}}


@pytest.mark.parametrize(
    ("fail", "says"),
    [
        pytest.param(
            OSError(errno.ENOSPC, "No space left on device"), "No space left", id="disk-full"
        ),
        pytest.param(RuntimeError("driver bug"), "RuntimeError: driver bug", id="bug"),
        pytest.param(AuditError("as the protocol says"), "as the protocol says", id="audit-error"),
    ],
)
def test_a_store_error_is_an_audit_error_naming_it(
    guard: Guard, store: FailingStore, fail: Exception, says: str
) -> None:
    store.fail = fail
    with pytest.raises(AuditError) as info:
        guard.check(PAY)
    assert says in str(info.value)
    store.fail = None
    assert guard.check(PAY).audited
    assert store.size() == 1


def test_a_writer_thread_that_dies_fails_every_caller_instead_of_hanging(
    guard: Guard, store: FailingStore
) -> None:
    acknowledged = guard.check(PAY).id
    store.fail = SystemExit(3)  # a BaseException: it ends the writer thread
    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(guard.check, PAY) for _ in range(4)]
        for call in calls:
            with pytest.raises(AuditError, match=r"writer thread stopped \(SystemExit: 3\)"):
                call.result(timeout=HANG)
    store.fail = None
    with pytest.raises(AuditError, match="writer thread stopped"):
        ThreadPoolExecutor(1).submit(guard.check, PAY).result(timeout=HANG)
    assert [leaf.id for leaf in store.read(0, 10)] == [acknowledged]
    guard.close()
