"""The audit log behind the reviewer API, on every store: what queries find and reads give."""

from __future__ import annotations

import hashlib

import pytest
import rfc8785

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


def test_a_whole_double_past_2_to_the_53_reads_back_as_that_double(
    log: AuditLog,  # noqa: F811
) -> None:
    # Stored as the digits 10000000000000000 (JCS), it read back as an int that rfc8785
    # refuses, so a reader could not recompute the leaf hash of its own record.
    log.append({"id": "big", "n": [1e16, -(2.0**60)], "small": 3, "id_digits": "12345678901234567"})
    for record in (log.get("big").record, log.query().items[0].record, log.inclusion("big").record):
        assert record["n"] == [1e16, -(2.0**60)] and all(type(n) is float for n in record["n"])
        assert record["small"] == 3 and type(record["small"]) is int
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(record)).hexdigest()
        assert leaf == log.get("big").leaf_hash
    assert log.inclusion("big").verify()
    assert log.verify().size == 1
