"""`AuditLog.append` refuses a record nested deeper than the log's readers accept.

Readers (`get`, `query`, `guard audit show`, and `verify`) call a record nested deeper
than 254 levels tampered, since the guard never writes one; but `append` took such a
record from a Python caller and committed it, so the log reported its own fresh write
as tampering. It is now refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard._exceptions import AuditError
from guard.audit import open_audit


def _nested(levels: int) -> object:
    """A value of `levels` nested lists: [[[...]]]."""
    value: list[object] = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
def test_a_record_too_deep_to_read_back_is_refused(tmp_path: Path, url: str) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}" if url == "sqlite" else url
    with open_audit(url) as log:
        with pytest.raises(AuditError, match="nested deeper than 254 levels"):
            log.append({"id": "deep", "v": _nested(300)})
        with pytest.raises(AuditError, match="nested deeper than 254 levels"):
            log.append({"id": "deep", "v": _nested(254)})  # 255 with the record itself
        assert log.size == 0
        # The deepest record readers accept is written and read back, and verifies.
        log.append({"id": "ok", "v": _nested(253), "s": "[" * 300})
        assert log.get("ok").record["v"] == _nested(253)
        assert log.verify().size == 1
