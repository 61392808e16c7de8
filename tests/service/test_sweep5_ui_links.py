"""Record text in console links: a policy name that is empty, holds '/' or '?#' is no 500.

The log holds records written by any engine version (or another writer), so a decision's
policy may be any string. Starlette's url_for asserts on an empty or '/'-holding path
parameter (a 500 for the whole detail page) and does not percent-encode '?' or '#' (a
link to another page).
"""

from __future__ import annotations

import re

import pytest

from tests.service.test_ui import decision_record, signed_in, ui  # noqa: F401 - the ui fixture


@pytest.mark.parametrize(
    ("policy", "href"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("a/b", "/ui/policies/a%2Fb", id="slash"),
        pytest.param("x?y#z", "/ui/policies/x%3Fy%23z", id="query-and-fragment"),
        pytest.param("svc-test", "/ui/policies/svc-test", id="plain-name"),
    ],
)
def test_any_policy_name_in_a_record_renders_its_detail_page(ui, raw_keys, policy, href):  # noqa: F811
    hit = {"rule_id": "r1", "effect": "deny", "message": "m"}
    ui.app_state.audit.append(
        decision_record(id="odd-policy", policy=policy, verdict="deny", hits=[hit])
    )
    signed_in(ui, raw_keys, "admin")
    page = ui.get("/ui/decisions/odd-policy")
    assert page.status_code == 200
    links = set(re.findall(r'href="(/ui/policies/[^"#]*)', page.text))
    assert links == ({href} if href else set())
    assert ui.get("/ui/decisions").status_code == 200
