"""The console at scale: no page reads every review, and labels past the cap still count.

Before: each list page and each 5 s live poll read up to 20,000 review records to label
50 rows (0.6 s a poll with 20k labels), and a decision whose label was older than those
20,000 showed no label, matched `label=none` and exported with an empty label column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.ui._export import csv_lines
from service.ui._query import REVIEW, Filters, label_index, labels_on_demand
from service.ui._rules import rules_report
from tests.service.test_ui import decision_record, signed_in, ui  # noqa: F401 - the ui fixture


def _count_reviews_read(monkeypatch: pytest.MonkeyPatch, audit: Any) -> list[int]:
    """Patch `audit.query` to count the review records it returns; the list fills as it runs."""
    read: list[int] = []
    query = audit.query

    def counting(**kwargs: Any) -> Any:
        page = query(**kwargs)
        if kwargs.get("record_type") == REVIEW:
            read.append(len(page.items))
        return page

    monkeypatch.setattr(audit, "query", counting)
    return read


def _labelled(state: Any, n: int, tenant: str = "acme") -> list[str]:
    ids = [f"lab-{i:03d}" for i in range(n)]
    state.audit.append_many(
        [decision_record(id=i, tenant=tenant, verdict="deny", actor="bulk") for i in ids]
    )
    for i in ids:
        state.label(i, "false_positive", "", "ana", None)
    return ids


@pytest.mark.parametrize(
    ("path", "most"),
    [
        pytest.param("/ui/decisions?actor=bulk", 50, id="list"),
        pytest.param("/ui/decisions/live?actor=bulk", 50, id="live-poll"),
        pytest.param("/ui/decisions?actor=bulk&verdict=allow", 0, id="no-rows"),
    ],
)
def test_a_list_page_reads_the_labels_of_its_rows_only(ui, raw_keys, monkeypatch, path, most):  # noqa: F811
    _labelled(ui.app_state, 80)
    signed_in(ui, raw_keys, "admin")
    read = _count_reviews_read(monkeypatch, ui.app_state.audit)
    page = ui.get(path)
    assert page.status_code == 200
    assert sum(read) <= most, f"{sum(read)} review records read for {most} rows"
    if most:
        assert page.text.count("false positive</span>") == most  # the rows still show labels


def test_a_label_filter_still_reads_the_labels(ui, raw_keys):  # noqa: F811
    """Negative: a label filter needs the labels ahead, and finds every labelled decision."""
    _labelled(ui.app_state, 3)
    signed_in(ui, raw_keys, "admin")
    page = ui.get("/ui/decisions?label=false_positive").text
    assert page.count("false positive</span>") == 3


def test_labels_older_than_the_cap_are_still_found(ui):  # noqa: F811
    state = ui.app_state
    oldest, *_ = _labelled(state, 3)
    labels = label_index(state.audit, None, cap=2)
    assert oldest not in labels.by_decision and labels.truncated
    assert (labels.latest(oldest) or {}).get("label") == "false_positive"
    record = state.audit.get(oldest).record
    keep_none = Filters(label="none").post_filter(labels)
    keep_fp = Filters(label="false_positive").post_filter(labels)
    assert keep_none is not None and keep_fp is not None
    assert not keep_none(record) and keep_fp(record)
    exported = "".join(csv_lines([record], labels))
    assert exported.splitlines()[1].endswith(",false_positive")


@pytest.mark.parametrize(
    ("tenant", "found"),
    [
        pytest.param(None, "false_positive", id="operator"),
        pytest.param("acme", "false_positive", id="own-tenant"),
        pytest.param("globex", None, id="other-tenant"),
    ],
)
def test_looking_up_a_label_keeps_to_the_tenant(ui, tenant, found):  # noqa: F811
    (decision,) = _labelled(ui.app_state, 1, tenant="acme")
    latest = labels_on_demand(ui.app_state.audit, tenant).latest(decision)
    assert (latest or {}).get("label") == found


def test_the_rules_report_counts_labels_outside_its_scan(ui):  # noqa: F811
    """The hit scan covers only the newest decisions; older labelled ones are read by id."""
    state = ui.app_state
    _labelled(state, 4)
    for budget in (1, 10_000):
        report = rules_report(
            state.audit,
            state.guard.packs,
            None,
            label_index(state.audit, None),
            datetime.now(UTC),
            budget=budget,
        )
        assert report.labelled == 4, budget
