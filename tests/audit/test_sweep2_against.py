"""`guard audit verify --against`: a head of another log, a forged signature, a signature
with no key named, are each refused with exit 1 before any "ok"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guard.audit import open_audit
from tests.audit._cli import guard_cli


def build(path: Path, size: int) -> str:
    url = f"sqlite:///{path}"
    with open_audit(url) as log:
        log.append_many([{"id": f"d{n}", "verdict": "deny", "n": n} for n in range(size)])
    return url


def head_of(url: str) -> dict[str, Any]:
    r = guard_cli("audit", "head", "--audit", url)
    assert r.returncode == 0, r.stderr
    head: dict[str, Any] = json.loads(r.stdout)
    return head


def edited(head: dict[str, Any], **changes: Any) -> dict[str, Any]:
    drop = [k for k, v in changes.items() if v is None]
    return {k: v for k, v in {**head, **changes}.items() if k not in drop}


CASES = [
    pytest.param("other", "was signed with public key", id="another-logs-head"),
    pytest.param("forged", "the signature does not match its public_key", id="forged"),
    pytest.param(
        "forged-no-key", "the signature does not match this log's key", id="forged-no-key"
    ),
    pytest.param("larger", "the signature does not match its public_key", id="larger-size"),
    pytest.param(
        "larger-no-key", "the signature does not match this log's key", id="larger-no-key"
    ),
]


@pytest.mark.parametrize(("case", "needle"), CASES)
def test_verify_against_a_head_that_is_not_this_logs(
    tmp_path: Path, case: str, needle: str
) -> None:
    url = build(tmp_path / "a.db", 10)
    other = build(tmp_path / "b.db", 12)
    mine = head_of(url)
    heads = {
        "other": head_of(other),
        "forged": edited(mine, signature="00" * 64),
        "forged-no-key": edited(mine, signature="00" * 64, public_key=None),
        "larger": edited(mine, size=20),
        "larger-no-key": edited(mine, size=20, public_key=None),
    }
    path = tmp_path / "head.json"
    path.write_text(json.dumps(heads[case]))
    r = guard_cli("audit", "verify", "--audit", url, "--against", str(path))
    assert r.returncode == 1 and "ok" not in r.stdout and "Traceback" not in r.stderr
    assert needle in r.stderr


def test_verify_against_its_own_head_with_or_without_the_key_named(tmp_path: Path) -> None:
    url = build(tmp_path / "a.db", 10)
    mine = head_of(url)
    for head in (mine, edited(mine, public_key=None)):
        path = tmp_path / "head.json"
        path.write_text(json.dumps(head))
        r = guard_cli("audit", "verify", "--audit", url, "--against", str(path))
        assert r.returncode == 0, r.stderr
        assert "extends the tree head of size 10" in r.stdout


def test_a_signed_head_with_no_key_anywhere_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    url = build(db, 10)
    head = edited(head_of(url), public_key=None)
    copy = tmp_path / "copy" / "a.db"  # a copy of the log, without its key file
    copy.parent.mkdir()
    copy.write_bytes(db.read_bytes())
    path = tmp_path / "head.json"
    path.write_text(json.dumps(head))
    r = guard_cli("audit", "verify", "--audit", f"sqlite:///{copy}", "--against", str(path))
    assert r.returncode == 1 and "ok" not in r.stdout
    assert "is signed but names no public_key, and the log has no key file" in r.stderr
    assert not list(copy.parent.glob("*.key"))  # SQLite's -wal/-shm of a reader may appear
