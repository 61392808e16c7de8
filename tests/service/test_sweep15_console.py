"""A reviewer's day in the console: windows that hold no moment, and labels changed later.

Before: "Last 15 min" with a To of yesterday, or From and To on the same minute (To is
exclusive, as in the API), listed no decision and said nothing, as if the log were quiet;
the export of that link was an empty file. A From later than To was already reported.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service import create_app
from tests.service.test_ui import csrf_of, decision_record, login
from tests.test_sweep10_console import _state

with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime.now(UTC)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    state, raw = _state(tmp_path)
    state.audit.append_many(
        [
            decision_record(id=f"d{i}", time=(NOW - timedelta(hours=i)).isoformat())
            for i in range(72, -1, -1)
        ]
    )
    try:
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        yield client, state
    finally:
        state.close()


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_last_and_a_to_that_leave_no_moment_are_reported(site: tuple[Any, Any]) -> None:
    client, _ = site
    until = _minute(NOW - timedelta(days=2))
    page = client.get("/ui/decisions", params={"last": "15m", "until": until})
    assert page.status_code == 200
    assert "last 15m starts at" in page.text
    assert "so no decision can match" in page.text
    # The same window without "last" lists the decisions before To: they exist.
    older = client.get("/ui/decisions", params={"until": until})
    assert "so no decision can match" not in older.text
    assert 'href="/ui/decisions/d72"' in older.text


def test_the_same_from_and_to_are_reported(site: tuple[Any, Any]) -> None:
    client, _ = site
    moment = _minute(NOW - timedelta(hours=5))
    page = client.get("/ui/decisions", params={"since": moment, "until": moment})
    assert "to is exclusive" in page.text
    assert "so no decision can match" in page.text


def test_the_export_of_such_a_window_is_refused_not_an_empty_file(site: tuple[Any, Any]) -> None:
    client, _ = site
    until = _minute(NOW - timedelta(days=2))
    export = client.get("/ui/decisions/export", params={"last": "1h", "until": until})
    assert export.status_code == 400
    assert "last 1h starts at" in export.text
    assert "attachment" not in export.headers.get("content-disposition", "")


def test_windows_that_hold_moments_say_nothing(site: tuple[Any, Any]) -> None:
    """A "last" inside From..To, and a From later than "last" starts, are plain filters."""
    client, _ = site
    since = _minute(NOW - timedelta(hours=3))
    until = _minute(NOW + timedelta(hours=1))
    for params in (
        {"last": "24h", "since": since, "until": until},
        {"last": "1h", "until": until},
        {"last": "7d", "since": since},
    ):
        page = client.get("/ui/decisions", params=params)
        assert "no decision can match" not in page.text, params
        assert 'href="/ui/decisions/d0"' in page.text, params


def _label(client: Any, decision_id: str, label: str) -> None:
    page = client.get(f"/ui/decisions/{decision_id}").text
    token = csrf_of(page)
    sent = client.post(
        f"/ui/decisions/{decision_id}/label",
        data={"label": label, "csrf": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303


def _cells(html: str, row_id: str) -> list[str]:
    row = re.search(rf'<tr id="{re.escape(row_id)}">(.*?)</tr>', html, re.S)
    assert row is not None, row_id
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def test_a_changed_label_says_which_one_counts(tmp_path: Path) -> None:
    """Labelled false positive, then correct: the page says the newest counts, and the
    list, the label filter and the rules page all count correct."""
    state, raw = _state(tmp_path)
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "needs approval"}
    state.audit.append_many(
        [
            decision_record(id="changed", kind="pay", verdict="escalate", hits=[hit]),
            decision_record(id="kept-fp", kind="pay", verdict="escalate", hits=[hit]),
            decision_record(id="kept-ok", kind="pay", verdict="escalate", hits=[hit]),
        ]
    )
    try:
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        _label(client, "changed", "false_positive")
        _label(client, "changed", "correct")
        _label(client, "kept-fp", "false_positive")
        _label(client, "kept-ok", "correct")

        page = client.get("/ui/decisions/changed").text
        shown = re.findall(r'<p class="review( replaced)?">(.*?)</p>', page, re.S)
        texts = [(bool(r), " ".join(re.sub(r"<[^>]+>", " ", t).split())) for r, t in shown]
        assert [replaced for replaced, _ in texts] == [False, True]
        assert texts[0][1].startswith("correct current by")
        assert texts[1][1].startswith("false positive replaced by")

        listed = client.get("/ui/decisions", params={"label": "false_positive"}).text
        assert 'href="/ui/decisions/kept-fp"' in listed
        assert 'href="/ui/decisions/changed"' not in listed

        rules = client.get("/ui/rules").text
        # hits 3; correct 2 (changed, kept-ok); false + 1; rate 1 / (2 + 1) = 33%
        cells = _cells(rules, "rule-svc-test-big-payment")
        assert cells[4:8] == ["3", "2", "1", "0"], cells
        assert cells[8] == "33% of 3", cells
    finally:
        state.close()


def test_a_version_copied_from_the_list_is_explained(tmp_path: Path) -> None:
    """The list shows "svc-test v3"; a reviewer who types v3 in Version is told to type 3."""
    state, raw = _state(tmp_path)
    state.audit.append_many([decision_record(id=f"v3-{i}", policy_version=3) for i in range(2)])
    try:
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        assert 'svc-test <span class="muted">v3</span>' in client.get("/ui/decisions").text
        copied = client.get("/ui/decisions", params={"version": "v3"}).text
        assert "filter on &#39;3&#39;" in copied
        typed = client.get("/ui/decisions", params={"version": "3"}).text
        assert 'href="/ui/decisions/v3-0"' in typed and "filter on" not in typed
    finally:
        state.close()


ACTOR_PACK = """\
name: actor-pii
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  fields: [params.message, actor]
  entities: [EMAIL_ADDRESS]
rules:
  - id: no-email
    when: pii.any("EMAIL_ADDRESS")
    effect: escalate
    message: an e-mail address needs a reviewer
"""


def test_an_actor_the_pack_scans_as_pii_is_shown_masked(tmp_path: Path) -> None:
    """A pack listing `actor` as a PII field: the record's action holds it masked, while
    the store keeps the top-level actor as sent; the console showed that raw address on
    the list, the decision, the escalations and in the CSV."""
    from service import KeyStore, ServiceState, Settings

    state, raw = _state(tmp_path)  # for its reviewer key file
    state.close()
    (tmp_path / "actor.yaml").write_text(ACTOR_PACK, encoding="utf-8")
    settings = Settings(
        policy=str(tmp_path / "actor.yaml"),
        audit=f"sqlite:///{tmp_path / 'actor.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp_path / "keys.yaml"))
    address = "carol.jones@example.org"
    try:
        action = {
            "kind": "send_message",
            "actor": address,
            "tenant": "acme",
            "params": {"message": "hello"},
        }
        decision = state.guard.check(action)
        record = state.audit.get(decision.id).record
        assert record["action"]["actor"] == "<EMAIL_ADDRESS>"  # the engine masked it here
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        for path in (
            "/ui/decisions",
            f"/ui/decisions/{decision.id}",
            "/ui/escalations",
            "/ui/decisions/export?format=csv",
        ):
            page = client.get(path)
            assert page.status_code == 200, path
            assert address not in page.text, path
            assert "EMAIL_ADDRESS" in page.text, path
        rows = list(csv.DictReader(io.StringIO(client.get("/ui/decisions/export").text)))
        assert [r["actor"] for r in rows] == ["<EMAIL_ADDRESS>"]
        # An actor the scan found nothing in is shown as sent.
        plain = state.guard.check({**action, "actor": "agent-9"})
        assert "agent-9" in client.get(f"/ui/decisions/{plain.id}").text
    finally:
        state.close()


def _charted(html: str) -> int:
    """The decisions the verdicts-over-time chart draws (each bar's title ends 'N verdict')."""
    chart = re.search(r'<svg class="chart timeline".*?</svg>', html, re.S)
    assert chart is not None
    titles = re.findall(r"<title>[^<]*: (\d+) \w+</title>", chart.group(0))
    return sum(int(n) for n in titles)


def test_the_chart_draws_every_decision_it_counts(tmp_path: Path) -> None:
    """With "Last 15 min", a decision timed a little after the server's now (written while
    the page was read, or by a host whose clock is ahead) was counted and listed but left
    out of the chart, whose bars then disagreed with the count above them."""
    state, raw = _state(tmp_path)
    now = datetime.now(UTC)
    state.audit.append_many(
        [
            decision_record(id="past", time=(now - timedelta(minutes=5)).isoformat()),
            decision_record(
                id="ahead", verdict="deny", time=(now + timedelta(minutes=3)).isoformat()
            ),
        ]
    )
    try:
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        page = client.get("/ui/decisions", params={"last": "15m"}).text
        total = re.search(r'<section class="stats">.*?<h2>(\d+)', page, re.S)
        assert total is not None and total.group(1) == "2"
        assert 'href="/ui/decisions/ahead"' in page
        assert _charted(page) == 2
    finally:
        state.close()


def test_a_rule_with_a_false_positive_never_reads_zero_percent(tmp_path: Path) -> None:
    """1 false positive in 201 labels was shown as '0% of 201' (and 1 in 8 as 12%, the
    half rounded to even): now 0.5% and 13%."""
    state, raw = _state(tmp_path)
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "needs approval"}
    other = {"rule_id": "no-shell", "effect": "deny", "message": "no shell"}
    records = [
        decision_record(id=f"pay-{i}", kind="pay", verdict="escalate", hits=[hit])
        for i in range(201)
    ] + [
        decision_record(id=f"sh-{i}", kind="run_shell", verdict="deny", hits=[other])
        for i in range(8)
    ]
    state.audit.append_many(records)
    try:
        for i in range(201):
            state.label(f"pay-{i}", "false_positive" if i == 0 else "correct", "", "r", "acme")
        for i in range(8):
            state.label(f"sh-{i}", "false_positive" if i == 0 else "correct", "", "r", "acme")
        client = TestClient(create_app(state=state))
        assert login(client, raw).status_code == 303
        rules = client.get("/ui/rules").text
        pay = _cells(rules, "rule-svc-test-big-payment")
        assert pay[4:8] == ["201", "200", "1", "0"], pay
        assert pay[8] == "0.5% of 201", pay
        shell = _cells(rules, "rule-svc-test-no-shell")
        assert shell[8] == "13% of 8", shell
    finally:
        state.close()


def test_a_record_written_before_the_engine_masked_its_actor_is_shown_masked() -> None:
    from service.ui._present import shown_record

    old = {
        "actor": "carol@example.org",
        "masked": ["actor"],
        "action": {"actor": "<EMAIL_ADDRESS>"},
    }
    assert shown_record(old)["actor"] == "<EMAIL_ADDRESS>"
    erased = {
        "actor": "carol@example.org",
        "erased": ["actor"],
        "action": {"actor": {"erased": "k"}},
    }
    assert shown_record(erased)["actor"] == "<masked>"
    plain = {"actor": "u7", "masked": ["params.message"], "action": {"actor": "u7"}}
    assert shown_record(plain)["actor"] == "u7"
