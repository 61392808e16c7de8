"""Sweep 14b: the console's export for a tenant the key may not read is refused with 403,
as the API refuses it (403 tenant_mismatch).

Before: a key bound to globex asking /ui/decisions/export?tenant=acme got 200 and an
empty file, so a script (or a reviewer) could not tell "acme has no decisions" from "this
key may not read acme".
"""

from __future__ import annotations

import pytest

from tests.service.conftest import bearer
from tests.service.test_ui import signed_in, ui  # noqa: F401 - the ui fixture


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_for_another_tenant_is_refused_as_the_api_refuses_it(
    ui,  # noqa: F811
    raw_keys,
    fmt,
):
    api = ui.get("/v1/decisions/export?tenant=acme", headers=bearer(raw_keys["globex-reader"]))
    assert api.status_code == 403 and api.json()["error"]["code"] == "tenant_mismatch"
    signed_in(ui, raw_keys, "globex-reader")
    r = ui.get(f"/ui/decisions/export?format={fmt}&tenant=acme")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")  # the console's error page
    assert "bound to tenant &#39;globex&#39;" in r.text and "&#39;acme&#39;" in r.text
    assert "attachment" not in r.headers.get("content-disposition", "")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_export_of_the_keys_own_tenant_or_of_none_still_answers(ui, raw_keys, fmt):  # noqa: F811
    signed_in(ui, raw_keys, "globex-reader")
    for query in ("&tenant=globex", ""):
        r = ui.get(f"/ui/decisions/export?format={fmt}{query}")
        assert r.status_code == 200, query
        assert "attachment" in r.headers["content-disposition"]
