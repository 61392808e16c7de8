"""The audit log behind the reviewer API, on every store: what a query filter finds."""

from __future__ import annotations

import pytest

from guard.audit import AuditLog
from tests.audit.conftest import postgres_schema, postgres_server, postgres_url  # noqa: F401
from tests.audit.test_log import log  # noqa: F401  (the fixture: every store)
from tests.audit.test_store import decision, hit


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        pytest.param("Block-Email", ["d1"], id="exact"),
        pytest.param("block-email", ["d0"], id="another-rule-differing-only-in-case"),
        pytest.param("BLOCK-EMAIL", [], id="case-differs-from-both"),
        pytest.param("\x00", [], id="nul-alone"),
        pytest.param("block\x00", [], id="nul-after-a-prefix"),
        pytest.param("block%", [], id="like-wildcard"),
        pytest.param("block_email", [], id="like-single-character-wildcard"),
    ],
)
def test_a_rule_id_filter_is_exact_on_every_store(
    log: AuditLog,  # noqa: F811
    rule_id: str,
    expected: list[str],
) -> None:
    # Rule ids are case-sensitive (two packs may have `block-email` and `Block-Email`), and
    # a NUL must not cut the filter short: SQLite's LIKE did both ("% \x00 %" read as "% ").
    log.append_many(
        [decision(0, hits=[hit("block-email")]), decision(1, hits=[hit("Block-Email")])]
    )
    assert [r.id for r in log.query(rule_id=rule_id).items] == expected
