"""CSV export cells that a spreadsheet would run as a formula get a leading apostrophe.

Before: only cells starting with = + - @ tab or CR were neutralised; " =HYPERLINK(..)"
(run by spreadsheets that trim cells on import), NUL (ASVS 1.2.10) and LF passed as is.
"""

from __future__ import annotations

import csv
import io

import pytest

from service.ui._export import csv_lines
from service.ui._query import LabelIndex
from tests.service.test_ui import decision_record


@pytest.mark.parametrize(
    ("actor", "cell"),
    [
        pytest.param('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")', id="equals"),
        pytest.param("+cmd", "'+cmd", id="plus"),
        pytest.param("-2+3", "'-2+3", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("\n=1", "'\n=1", id="line-feed"),
        pytest.param("\0=1", "'\0=1", id="nul"),
        pytest.param('  =HYPERLINK("http://x")', '\'  =HYPERLINK("http://x")', id="spaces"),
        pytest.param(" \t@SUM(A1)", "' \t@SUM(A1)", id="space-tab"),
        pytest.param("agent-7", "agent-7", id="plain-negative"),
        pytest.param("a=b", "a=b", id="equals-inside-negative"),
        pytest.param("  spaced", "  spaced", id="spaces-then-text-negative"),
        pytest.param("", "", id="empty-negative"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_quoted(actor: str, cell: str) -> None:
    record = decision_record(id="f1", actor=actor)
    text = "".join(csv_lines([record], LabelIndex()))
    row = next(r for r in csv.DictReader(io.StringIO(text, newline="")) if r["id"] == "f1")
    assert row["actor"] == cell
