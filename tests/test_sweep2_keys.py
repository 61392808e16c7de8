"""Key names and tenants are printable, non-empty and unpadded, from the CLI and from keys.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from guard.cli import app
from service._auth import KeysError, KeyStore

DIGEST = "0" * 64


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        pytest.param("--name", "x: y\nz", "'name' must not contain control", id="newline"),
        pytest.param("--name", "a\tb", "(U+0009)", id="tab"),
        pytest.param("--name", "a\x1b[31m", "(U+001B)", id="escape"),
        pytest.param("--name", "a\u202eb", "(U+202E)", id="bidi-override"),
        pytest.param("--name", "a\u200bb", "(U+200B)", id="zero-width"),
        pytest.param("--name", "", "new key: 'name' must not be empty", id="empty"),
        pytest.param("--name", "  ", "'name' must not be empty", id="blank"),
        pytest.param("--name", " alice", "must not begin or end with spaces", id="padded"),
        pytest.param("--tenant", "", "'tenant' must not be empty", id="empty-tenant"),
        pytest.param("--tenant", " ", "'tenant' must not be empty", id="blank-tenant"),
        pytest.param("--tenant", "acme ", "begin or end with spaces", id="padded-tenant"),
        pytest.param("--tenant", "ac\nme", "'tenant' must not contain", id="newline-tenant"),
        pytest.param("--scopes", "check,bogus", "unknown scopes ['bogus']", id="bad-scope"),
        pytest.param("--scopes", ",", "admin, audit:read, check, review", id="no-scope"),
    ],
)
def test_keys_create_refuses_a_bad_name_tenant_or_scope(
    option: str, value: str, needle: str
) -> None:
    options = {"--name": "alice", "--scopes": "check", option: value}
    result = CliRunner().invoke(app, ["keys", "create", *(x for kv in options.items() for x in kv)])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "entry #0" not in result.output and "sha256:" not in result.output


def test_keys_create_accepts_a_name_with_inner_spaces_and_unicode() -> None:
    result = CliRunner().invoke(
        app, ["keys", "create", "--name", "Zoë ops", "--scopes", "check", "--tenant", "acme co"]
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output.split("entry for keys.yaml:", 1)[1])[0]["name"] == "Zoë ops"


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        pytest.param({"name": "a\nb"}, "entry #2: 'name' must not contain", id="newline-name"),
        pytest.param({"name": ""}, "entry #2: 'name' must not be empty", id="empty-name"),
        pytest.param({"tenant": "t\x00"}, "key 'b' (keys file", id="nul-tenant"),
        pytest.param({"tenant": "  "}, "'tenant' must not be empty", id="blank-tenant"),
        pytest.param({"scopes": [["check"]]}, "unknown scopes [['check']]", id="nested-scope"),
        pytest.param({"scopes": "check nope"}, "unknown scopes ['nope']", id="bad-scope"),
        pytest.param({1: "x"}, "unknown fields [1]", id="int-field"),
    ],
)
def test_keys_file_entries_are_refused_with_the_file_and_entry(
    tmp_path: Path, entry: dict[Any, Any], needle: str
) -> None:
    good = {"name": "a", "sha256": DIGEST, "scopes": ["check"]}
    path = tmp_path / "keys.yaml"
    path.write_text(
        yaml.safe_dump([good, {"name": "b", "sha256": DIGEST, "scopes": ["check"], **entry}])
    )
    with pytest.raises(KeysError) as err:
        KeyStore.from_file(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_duplicate_names_in_a_keys_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump([{"name": "a", "sha256": DIGEST, "scopes": ["check"]}] * 2))
    with pytest.raises(KeysError, match="duplicate") as err:
        KeyStore.from_file(path)
    assert str(path) in str(err.value)
