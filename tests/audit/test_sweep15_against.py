"""`guard audit verify --against HEAD` with a head file that cannot be any log's head.

A root that is not a SHA-256 hash, or a size-0 head whose root is not SHA-256 of nothing,
names no state any log was ever in: the head is refused as such, and the log, which is
intact, is not reported tampered. A signed head with a size past what JSON numbers hold
exactly does not check (it was never signed by a log), rather than being reported as an
audit record that cannot be serialised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from guard.audit import TreeHead, open_audit, verify_head
from tests.audit._cli import guard_cli

EMPTY = hashlib.sha256(b"").hexdigest()  # RFC 6962: the root of the empty tree


def _log(tmp_path: Path) -> tuple[str, dict[str, object]]:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append_many([{"id": f"d{i}"} for i in range(5)])
    r = guard_cli("audit", "head", "--audit", url)
    assert r.returncode == 0, r.stderr
    return url, json.loads(r.stdout)


def _one_line(r: object) -> str:
    stderr = r.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return str(lines[0])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"size": 0}, "size 0"),  # the log's own root with size 0
        ({"root": "abcd"}, "'abcd'"),  # 2 bytes: no SHA-256
        ({"root": "00" * 33}, "64 hex digits"),
    ],
)
def test_a_head_no_log_can_have_is_refused_not_blamed_on_the_log(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    url, head = _log(tmp_path)
    unsigned = {k: v for k, v in head.items() if k not in ("signature", "public_key")}
    (tmp_path / "h.json").write_text(json.dumps({**unsigned, **change}))
    r = guard_cli("audit", "verify", "--audit", url, "--against", str(tmp_path / "h.json"))
    assert r.returncode == 1
    line = _one_line(r)
    assert "tampered" not in line, line
    assert named in line and "tree head" in line, line


def test_a_size_0_head_with_the_empty_root_still_verifies(tmp_path: Path) -> None:
    url, head = _log(tmp_path)
    unsigned = {"size": 0, "root": EMPTY, "timestamp": head["timestamp"]}
    (tmp_path / "h.json").write_text(json.dumps(unsigned))
    r = guard_cli("audit", "verify", "--audit", url, "--against", str(tmp_path / "h.json"))
    assert r.returncode == 0, r.stderr
    assert "extends the tree head of size 0" in r.stdout


def test_a_signed_head_with_a_size_past_exact_json_numbers_does_not_check(
    tmp_path: Path,
) -> None:
    url, head = _log(tmp_path)
    huge = {**head, "size": 2**70}
    (tmp_path / "h.json").write_text(json.dumps(huge))
    r = guard_cli("audit", "verify", "--audit", url, "--against", str(tmp_path / "h.json"))
    assert r.returncode == 1
    line = _one_line(r)
    assert "signature does not match" in line and "audit record" not in line, line
    # The library call answers the question it is asked: the signature does not check.
    model = TreeHead.model_validate({k: v for k, v in huge.items() if k != "public_key"})
    assert verify_head(model, str(head["public_key"])) is False
