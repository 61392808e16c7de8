"""An SQLite audit URL naming a folder says so, for writers and readers alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard._exceptions import AuditError
from guard.audit._sqlite import SqliteStore


@pytest.mark.parametrize("create", [True, False])
def test_a_folder_is_not_an_audit_log(tmp_path: Path, create: bool) -> None:
    with pytest.raises(AuditError, match=r"it is a folder; name a file in it, such as sqlite:///"):
        SqliteStore(tmp_path, create=create)
    assert list(tmp_path.iterdir()) == []  # nothing written into it
