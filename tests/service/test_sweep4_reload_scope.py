"""Reloading the packs changes every tenant's checks: only an admin with no tenant may."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service import KeyStore
from service._auth import new_key
from tests.service.conftest import PACK, bearer


@pytest.mark.parametrize(
    ("tenant", "status", "version"),
    [
        pytest.param("acme", 403, 1, id="tenant-bound-admin-refused"),
        pytest.param(None, 200, 2, id="operator-admin-reloads"),
    ],
)
def test_only_an_operator_admin_reloads(
    make_client: Any, pack_file: Path, tenant: str | None, status: int, version: int
) -> None:
    raw, entry = new_key("boss", ["admin"], tenant)
    client = make_client(keys=KeyStore([entry]))
    pack_file.write_text(PACK.replace("version: 1", "version: 2"), encoding="utf-8")
    r = client.post("/v1/policies/reload", headers=bearer(raw))
    assert r.status_code == status
    if status == 403:
        error = r.json()["error"]
        assert error["code"] == "operator_only"
        assert "'acme'" in error["message"] and "no tenant" in error["message"]
    served = client.get("/v1/policies", headers=bearer(raw)).json()["items"][0]
    assert served["version"] == version
