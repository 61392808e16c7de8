"""`verify` refuses a record stored as JSON that is not its canonical (RFC 8785) form.

A leaf is SHA-256(0x00 || canonical JSON of the record). A row holding other bytes for
the same record (keys out of order, spaces, 1.0 for 1) with hashes made from those bytes
hashed into the tree, so verify said "ok"; but no one can check a proof of that record,
since a checker hashes the record's canonical bytes, and `guard audit show` called the
record tampered while telling the user that verify checks the whole log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import rfc8785

from guard._exceptions import AuditTampered
from guard.audit import open_audit
from tests.audit._cli import guard_cli

NOT_CANONICAL = b'{"id":"x", "b":1.0}'  # canonical: {"b":1,"id":"x"}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def _number(digits: str) -> int | float:
    """A JSON integer as JavaScript reads it: past 2**53 - 1 it is the double (1e16)."""
    value = int(digits)
    return value if abs(value) < 2**53 else float(value)


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def test_a_record_stored_in_a_form_that_is_not_canonical_fails_verify(url: str) -> None:
    with open_audit(url) as log:
        log.append({"id": "a", "v": 1})
        log._store.append([NOT_CANONICAL])  # a store takes bytes as given (the protocol's)
        stored = log._store.read(1, 2)[0]
        # Ground truth: a checker hashes the record's canonical bytes, and gets another leaf.
        canonical = rfc8785.dumps(orjson.loads(stored.record))
        assert canonical == b'{"b":1,"id":"x"}'
        assert _leaf(canonical) != stored.leaf_hash == _leaf(NOT_CANONICAL)
        with pytest.raises(AuditTampered, match="canonical"):  # no proof that checks for no one
            log.inclusion("x")
        with pytest.raises(AuditTampered, match="canonical") as caught:
            log.verify()
        assert caught.value.index == 1
        assert log.inclusion("a").verify()


def test_guard_audit_verify_names_the_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append({"id": "a", "v": 1})
        log._store.append([NOT_CANONICAL])
    r = guard_cli("audit", "verify", "--audit", url)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("error: audit log tampered at index 1 (record id 'x'): ")
    assert "canonical" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_records_the_log_writes_verify(tmp_path: Path) -> None:
    # Values whose canonical form differs most from a plain dump: floats JCS writes as
    # integers or in full, characters past U+FFFF in keys (JCS sorts UTF-16 code units).
    records = [
        {"id": "f", "x": [3.0, -0.0, 1e16, 8.5e-6, 1e21, 1e-7, 0.1, 5e-324, 2.0**53]},
        {"id": "k", "\U0001f600": 1, "\ue000": 2, "a": {"\u00e9": "\u2028"}},
        {"id": "n", "big": 2**53 - 1, "neg": -(2**53) + 1, "s": '\x00\x1f"\\/'},
    ]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append_many(records)
        for stored in log._store.read(0, 3):  # each as rfc8785 writes it: the ground truth
            assert stored.record == rfc8785.dumps(json.loads(stored.record, parse_int=_number))
        assert log.verify().size == 3
