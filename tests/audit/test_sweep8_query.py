"""Querying by rule id finds the records where that one rule hit, never a run of several."""

from __future__ import annotations

import pytest

from guard.audit import AuditLog
from tests.audit.test_log import log  # noqa: F401  (the fixture: every store)
from tests.audit.test_store import decision, hit


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        pytest.param("r1", ["d1", "d0"], id="one-rule"),
        pytest.param("r2", ["d1"], id="the-second-rule"),
        pytest.param("r1 r2", [], id="two-rules-in-a-row"),
        pytest.param(" r1", [], id="leading-space"),
        pytest.param("r1 ", [], id="trailing-space"),
        pytest.param(" ", [], id="a-space"),
        pytest.param("", [], id="empty"),
    ],
)
def test_a_rule_id_filter_matches_whole_rule_ids_only(
    log: AuditLog,  # noqa: F811
    rule_id: str,
    expected: list[str],
) -> None:
    log.append_many([decision(0, hits=[hit("r1")]), decision(1, hits=[hit("r1"), hit("r2")])])
    assert [r.id for r in log.query(rule_id=rule_id).items] == expected
