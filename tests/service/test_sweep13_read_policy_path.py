"""GET /v1/policies/{name} gave every key with the `check` scope, tenant-bound ones too, the
pack's absolute path on the server (and the console showed it to every viewer). Now the
path goes to operators only (admin keys bound to no tenant, who configure the server);
every other key gets the file's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import bearer
from tests.service.test_ui import login


@pytest.mark.parametrize("name", ["acme-agent", "acme-reviewer", "globex-reader"])
def test_a_tenant_key_gets_the_file_name_only(
    keyed: Any, raw_keys: dict[str, str], pack_file: Path, name: str
) -> None:
    r = keyed.get("/v1/policies/svc-test", headers=bearer(raw_keys[name]))
    assert r.status_code == 200, r.text
    assert r.json()["file"] == "svc-test.yaml"
    assert str(pack_file.parent) not in r.text


def test_a_tenant_admin_gets_the_file_name_only(
    make_client: Any, tmp_path: Path, pack_file: Path
) -> None:
    from service import KeyStore
    from service._auth import new_key

    raw, entry = new_key("acme-admin", ["admin"], "acme")
    client = make_client(keys=KeyStore([entry]))
    r = client.get("/v1/policies/svc-test", headers=bearer(raw))
    assert r.status_code == 200 and r.json()["file"] == "svc-test.yaml"


def test_an_operator_gets_the_path(keyed: Any, raw_keys: dict[str, str], pack_file: Path) -> None:
    r = keyed.get("/v1/policies/svc-test", headers=bearer(raw_keys["admin"]))
    assert r.status_code == 200 and r.json()["file"] == str(pack_file)


def test_the_schema_says_who_gets_the_path(client: Any) -> None:
    schema = client.get("/openapi.json").json()
    described = schema["components"]["schemas"]["PolicyDetail"]["properties"]["file"]
    assert "admin" in described["description"] and "name" in described["description"]


@pytest.mark.parametrize(("name", "shows_path"), [("acme-reviewer", False), ("admin", True)])
def test_the_console_shows_the_path_to_operators_only(
    keyed: Any, raw_keys: dict[str, str], pack_file: Path, name: str, shows_path: bool
) -> None:
    assert login(keyed, raw_keys[name]).status_code == 303
    r = keyed.get("/ui/policies/svc-test")
    assert r.status_code == 200
    assert "svc-test.yaml" in r.text
    assert (str(pack_file) in r.text) is shows_path
