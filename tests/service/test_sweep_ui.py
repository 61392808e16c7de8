"""Defects found using the review console as a new reviewer would, each pinned by a test."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from service import KeyStore
from service._auth import new_key
from service.ui._charts import attribution_chart
from tests.service.conftest import PACK, bearer, pay
from tests.service.test_ui import RATIONALE, csrf_of, decision_record, login, seed


def _flash(html: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)


# -- a session that ends under an open form ------------------------------------------------


@pytest.mark.parametrize(
    ("form", "data", "page"),
    [
        pytest.param("label", {"label": "correct"}, "/ui/decisions/{id}", id="label"),
        pytest.param(
            "resolve",
            {"outcome": "approve", "back": "detail"},
            "/ui/decisions/{id}",
            id="resolve-on-detail",
        ),
        pytest.param("resolve", {"outcome": "approve"}, "/ui/escalations", id="resolve-in-queue"),
    ],
)
def test_a_form_sent_after_the_session_ended_returns_to_its_page(
    keyed: Any, raw_keys: dict[str, str], form: str, data: dict[str, str], page: str
) -> None:
    """Before: login sent the reviewer on to the POST-only form URL, a 405 after signing in."""
    ids = seed(keyed.app_state)
    decision = ids["esc_acme"]
    base = "/ui/escalations" if form == "resolve" else "/ui/decisions"
    r = keyed.post(
        f"{base}/{decision}/{form}", data={**data, "csrf": "stale"}, follow_redirects=False
    )
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    wanted = page.format(id=decision)
    assert target.path == "/ui/login"
    assert parse_qs(target.query)["next"] == [wanted]
    form_page = keyed.get(r.headers["location"])
    assert "nothing was saved" in form_page.text
    signed = keyed.post(
        "/ui/login",
        data={"key": raw_keys["acme-reviewer"], "csrf": csrf_of(form_page.text), "next": wanted},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == wanted
    assert keyed.get(wanted).status_code == 200
    # nothing was recorded by the refused post
    assert "Not labelled yet." in keyed.get(f"/ui/decisions/{decision}").text


def test_a_plain_sign_in_says_nothing_about_unsent_forms(keyed: Any) -> None:
    r = keyed.get("/ui/decisions", follow_redirects=True)
    assert "Sign in" in r.text and "nothing was saved" not in r.text


# -- time filters at the ends of the calendar ----------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00",
        "until=9999-12-31T23:59",
        "since=0001-01-01T00:00&until=9999-12-31T23:59",
    ],
)
@pytest.mark.parametrize("path", ["/ui/decisions", "/ui/decisions/live"])
def test_a_window_reaching_year_1_or_9999_is_charted_not_a_500(
    client: Any, path: str, query: str
) -> None:
    """Before: the chart's bucket edges left datetime's range (ValueError, OverflowError)."""
    seed(client.app_state)
    r = client.get(f"{path}?{query}")
    assert r.status_code == 200
    assert re.search(r"<h2>5 decisions\s*<small>match these filters", r.text)
    assert 'class="chart timeline"' in r.text


# -- search trees name the action that was replaced ----------------------------------------


def test_a_substituted_search_tree_names_the_replaced_action(client: Any) -> None:
    """Before: 'chose send quote ... (instead of 0)': the id, when the rationale has labels."""
    rationale = {
        **RATIONALE,
        "rule": "best_allowed",
        "chosen": 1,
        "actions": [
            {**RATIONALE["actions"][0], "action": 0, "label": "share phone number"},
            {**RATIONALE["actions"][1], "action": 1, "label": "send quote"},
        ],
        "principal_variation": [1],
        "substituted_for": 0,
    }
    client.app_state.audit.append(decision_record(id="ui-tree-sub", explanations=[rationale]))
    page = client.get("/ui/decisions/ui-tree-sub").text
    assert "(instead of share phone number)" in page
    assert "(instead of 0)" not in page


def test_a_substituted_action_without_a_label_keeps_its_id(client: Any) -> None:
    rationale = {**RATIONALE, "substituted_for": "drop_table"}
    client.app_state.audit.append(decision_record(id="ui-tree-sub2", explanations=[rationale]))
    assert "(instead of drop_table)" in client.get("/ui/decisions/ui-tree-sub2").text


# -- the rules page links to the rule's own false positives --------------------------------


def test_the_false_positive_link_stays_within_the_rules_policy(
    make_client: Any, tmp_path: Path
) -> None:
    """Before: two packs with one rule id; the link listed the other pack's labels too."""
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "svc-test.yaml").write_text(PACK, encoding="utf-8")
    (packs / "other.yaml").write_text(
        PACK.replace("name: svc-test", "name: other"), encoding="utf-8"
    )
    client = make_client(policy=str(packs))
    state = client.app_state
    shell = {"kind": "run_shell", "actor": "bot"}
    first = state.guard.check(shell, policy="svc-test").id
    second = state.guard.check(shell, policy="other").id
    for decision in (first, second):
        page = client.get(f"/ui/decisions/{decision}").text
        r = client.post(
            f"/ui/decisions/{decision}/label",
            data={"label": "false_positive", "csrf": csrf_of(page)},
            follow_redirects=False,
        )
        assert r.status_code == 303
    rules = client.get("/ui/rules").text
    row = re.search(r'<tr id="rule-svc-test-no-shell">(.*?)</tr>', rules, re.S)
    assert row is not None
    link = re.search(r'href="([^"]*label=false_positive[^"]*)">1</a>', row.group(1))
    assert link is not None, row.group(1)
    listed = client.get(link.group(1).replace("&amp;", "&")).text
    assert first in listed and second not in listed


# -- the escalation queue's later pages ----------------------------------------------------


def test_a_later_page_of_escalations_says_so_and_links_back(keyed: Any, raw_keys: Any) -> None:
    """Before: page 2 said '5 pending, newest first' of a queue of 55, with no way back."""
    state = keyed.app_state
    for i in range(55):
        state.guard.check(pay(700 + i, tenant="acme"))
    keyed.cookies.clear()
    assert login(keyed, raw_keys["acme-reviewer"]).status_code == 303
    first = keyed.get("/ui/escalations").text
    assert "50+ pending, newest first" in first and "← Newest" not in first
    more = re.search(r'href="(/ui/escalations\?cursor=[^"]+)">More', first)
    assert more is not None
    second = keyed.get(more.group(1).replace("&amp;", "&")).text
    assert "5 more pending, older ones" in second
    assert "newest first" not in second
    assert '<a href="/ui/escalations">← Newest</a>' in second
    # a cursor edited by hand falls back to the first page, and says it is the first
    bad = keyed.get("/ui/escalations?cursor=bm9wZQ").text
    assert "50+ pending, newest first" in bad


# -- a review key reads in the console as it does in the API ------------------------------


def test_a_review_only_key_signs_in_and_works_the_queue(make_client: Any, tmp_path: Path) -> None:
    """Before: the API let a `review` key read and resolve, the console refused its sign-in."""
    raw, entry = new_key("rita", ["review"], "acme")
    (tmp_path / "rita.yaml").write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    client = make_client(keys=KeyStore.from_file(tmp_path / "rita.yaml"))
    ids = seed(client.app_state)
    assert client.get("/v1/decisions", headers=bearer(raw)).status_code == 200
    signed = login(client, raw)
    assert signed.status_code == 303, signed.text
    page = client.get(f"/ui/decisions/{ids['esc_acme']}")
    assert page.status_code == 200 and "Approve" in page.text
    r = client.post(
        f"/ui/escalations/{ids['esc_acme']}/resolve",
        data={"outcome": "approve", "csrf": csrf_of(page.text), "back": "detail"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/ui/rules").status_code == 200
    assert ids["esc_globex"] not in client.get("/ui/escalations").text


# -- attribution labels keep the input value -----------------------------------------------


def test_a_long_feature_name_is_shortened_but_keeps_its_input_value() -> None:
    """Before: 'merchant_category_code_mismatch_r…': the ' = 0.25' was cut off with the name."""
    chart = attribution_chart(
        {
            "kind": "attribution",
            "feature_names": ["merchant_category_code_mismatch_rate", "amount"],
            "values": [0.2, -0.1],
            "inputs": [0.25, 700.0],
            "base_value": 0.0,
        }
    )
    labels = [b.label for b in chart.bars]
    assert labels[0].endswith(" = 0.25") and labels[0].startswith("merchant_category")
    assert "…" in labels[0] and len(labels[0]) <= 34
    assert labels[1] == "amount = 700"
    assert chart.bars[0].name == "merchant_category_code_mismatch_rate"  # the tooltip: in full
