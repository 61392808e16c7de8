"""Sizes and indexes given to the audit log are integers: a float, a string, None or a bool
is a TypeError naming the argument, not a wrong record or an error from deep inside."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from guard.audit import AuditLog, open_audit
from tests.audit.test_store import decision


@pytest.fixture
def log() -> Iterator[AuditLog]:
    with open_audit("memory://") as opened:
        opened.append_many([decision(n) for n in range(3)])
        yield opened


CALLS: list[Any] = [
    pytest.param(lambda log, v: log.consistency(v, 2), "first", id="consistency-first"),
    pytest.param(lambda log, v: log.consistency(0, v), "second", id="consistency-second"),
    pytest.param(lambda log, v: log.inclusion(index=v), "index", id="inclusion-index"),
    pytest.param(lambda log, v: log.inclusion("d0", tree_size=v), "tree_size", id="tree-size"),
    pytest.param(lambda log, v: log.get_index(v), "index", id="get-index"),
    pytest.param(lambda log, v: list(log.iter_records(v)), "start", id="iter-records"),
]


@pytest.mark.parametrize(("call", "name"), CALLS)
@pytest.mark.parametrize("value", [1.0, "1", True, [1]], ids=["float", "str", "bool", "list"])
def test_a_size_or_index_that_is_not_an_integer_is_a_type_error(
    log: AuditLog, call: Callable[[AuditLog, Any], Any], name: str, value: Any
) -> None:
    with pytest.raises(TypeError, match=re.escape(f"{name} must be an integer, got {value!r}")):
        call(log, value)


def test_integers_still_work(log: AuditLog) -> None:
    assert log.consistency(1, 3).second == 3
    assert log.inclusion(index=1, tree_size=2).leaf_index == 1
    assert log.get_index(2).id == "d2"
    assert [r.id for r in log.iter_records(1)] == ["d1", "d2"]
