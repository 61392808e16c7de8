"""Deferred explanations failing: the decision stands, the failure is recorded, close() ends."""

from __future__ import annotations

import logging
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
ACTION = {"kind": "pay", "params": {"amount": 1}}


class Raising:
    """An explainer that raises `error` (an object with .explain, or called itself)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def explain(self, x: Any, target: int | None = None) -> Any:
        raise self.error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


class Store(MemoryStore):
    """A memory store refusing every record (`fail`) or explanation records (`fail_later`)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = self.fail_later = False

    def append(self, records: list[bytes]) -> list[int]:
        later = any(b'"guard.explanation/v1"' in r for r in records)
        if self.fail or (self.fail_later and later):
            raise AuditError("the audit store is down")
        return super().append(records)


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


ERRORS = [
    pytest.param(ValueError("broke"), "ValueError: broke", id="exception"),
    pytest.param(SystemExit(3), "SystemExit: 3", id="system-exit"),
    pytest.param(KeyboardInterrupt(), "KeyboardInterrupt", id="keyboard-interrupt"),
]


@pytest.mark.parametrize("method", [True, False], ids=["explainer", "callable"])
@pytest.mark.parametrize(("error", "recorded"), ERRORS)
def test_a_failing_deferred_explainer_is_recorded_and_close_ends(
    pack: Path, error: BaseException, recorded: str, method: bool
) -> None:
    store = Store()
    guard = Guard.from_policy(pack, audit=AuditLog(store))
    raising = Raising(error)
    explain = raising if method else raising.__call__

    @guard.agent(explain=explain, explain_mode="deferred")
    def act(x: list[float]) -> dict[str, Any]:
        return ACTION

    out = act([1.0, 2.0])
    assert out == ACTION and out.decision.audited
    guard.close()  # before: re-raised a BaseException here, leaving the log open
    records = [r.record for r in guard.audit.iter_records()]  # type: ignore[union-attr]
    assert [r["schema_version"] for r in records] == ["guard.decision/v1", "guard.explanation/v1"]
    assert records[1]["decision_id"] == out.decision.id
    assert records[1]["explanation"]["reason"] == recorded


def test_an_explanation_the_log_cannot_take_is_logged_and_close_ends(
    pack: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store()
    guard = Guard.from_policy(pack, audit=AuditLog(store))

    @guard.agent(explain=Raising(ValueError("x")), explain_mode="deferred")
    def act(x: list[float]) -> dict[str, Any]:
        return ACTION

    store.fail = True
    with pytest.raises(AuditError):  # the decision itself cannot be recorded: no action
        act([1.0])
    store.fail, store.fail_later = False, True  # now only the explanation fails
    out = act([1.0])
    with caplog.at_level(logging.ERROR):
        guard.close()
    assert out.decision.audited
    assert f"deferred explanation for decision {out.decision.id} was not recorded" in caplog.text
    assert [leaf.id for leaf in store.read(0, 10)] == [out.decision.id]
