"""`guard audit show` lists every record linked to a decision, however many there are.

It printed the newest 100 only, and said nothing of the rest: the first reviews of a
much-reviewed decision were silently left out of what a reviewer reads as the full story.
"""

from __future__ import annotations

import json
from pathlib import Path

from guard.audit import open_audit
from tests.audit._cli import guard_cli


def test_show_lists_all_linked_records_oldest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with open_audit(url) as log:
        log.append({"id": "d1", "schema_version": "guard.decision/v1"})
        log.append({"id": "other", "schema_version": "guard.decision/v1"})
        log.append_many(
            [
                {"id": f"r{i}", "schema_version": "guard.review/v1", "decision_id": "d1"}
                for i in range(130)
            ]
        )
        log.append({"id": "x", "schema_version": "guard.review/v1", "decision_id": "other"})
    r = guard_cli("audit", "show", "d1", "--audit", url)
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["record"]["id"] == "d1"
    assert [item["record"]["id"] for item in shown["linked"]] == [f"r{i}" for i in range(130)]
    assert [item["index"] for item in shown["linked"]] == list(range(2, 132))
