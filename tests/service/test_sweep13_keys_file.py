"""Keys-file mistakes get messages that say what to do.

Before: a missing file said "cannot read keys file 'x': [Errno 2] No such file or
directory: 'x'" (the path twice), and a file holding the whole output of `guard keys
create` (the raw key included) was only "must hold a non-empty list of entries".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from guard.cli import app
from service._auth import KeysError, KeyStore


def test_a_missing_file_is_named_once(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(KeysError) as caught:
        KeyStore.from_file(missing)
    assert str(caught.value) == f"cannot read keys file {str(missing)!r}: No such file or directory"


def test_the_pasted_output_of_keys_create_is_recognised_and_the_key_not_repeated(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(app, ["keys", "create", "--name", "ci", "--scopes", "check"])
    assert result.exit_code == 0
    out = result.stdout
    raw = out.split(": ", 1)[1].split()[0]
    pasted = tmp_path / "keys.yaml"
    pasted.write_text(out, encoding="utf-8")
    with pytest.raises(KeysError, match="whole output of 'guard keys create'") as caught:
        KeyStore.from_file(pasted)
    assert raw not in str(caught.value)
    # Following the message makes a file the sidecar takes, and the key works.
    pasted.write_text(out.split("entry for keys.yaml:\n", 1)[1], encoding="utf-8")
    store = KeyStore.from_file(pasted)
    principal = store.authenticate(raw)
    assert principal is not None and principal.name == "ci"
