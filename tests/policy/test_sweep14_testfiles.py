"""Sweep 14: a test file is read as its pack is: a value YAML 1.1 and 1.2 read differently
is refused at its place, not silently turned into another value."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import PolicyError
from guard.policy import run_tests

PACK = """\
name: geo
version: 1
rules:
  - id: nordic-hold
    match: {kind: pay}
    when: get(context.country, "") in ["NO", "SE"]
    effect: escalate
"""


def _run(tmp_path: Path, cases: str) -> list[object]:
    (tmp_path / "geo.yaml").write_text(PACK)
    (tmp_path / "geo.test.yaml").write_text("cases:\n" + cases)
    return run_tests(tmp_path / "geo.yaml")  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("value", "column", "needle"),
    [
        # Norway's code was the boolean false: the case failed with "verdict allow", and a
        # case expecting allow for "NO" would have passed for the wrong reason.
        pytest.param("NO", 24, "boolean false", id="norway"),
        pytest.param("on", 24, "boolean true", id="on"),
        pytest.param("0755", 24, "493", id="octal"),
        pytest.param("1_000", 24, "1000", id="underscore"),
        pytest.param("2024-01-31", 24, "date", id="date"),
    ],
)
def test_a_yaml_11_only_value_is_refused_at_its_place(
    tmp_path: Path, value: str, column: int, needle: str
) -> None:
    cases = f"  - note: n\n    action: {{kind: pay}}\n    context: {{country: {value}}}\n"
    cases += "    expect: {verdict: escalate}\n"
    with pytest.raises(PolicyError) as info:
        _run(tmp_path, cases)
    err = info.value
    assert err.file is not None and err.file.endswith("geo.test.yaml")
    assert (err.line, err.column) == (4, column), str(err)
    assert needle in str(err) and "test file" in str(err)


def test_quoted_values_run(tmp_path: Path) -> None:
    cases = (
        '  - note: Norway is held\n    action: {kind: pay}\n    context: {country: "NO"}\n'
        "    expect: {verdict: escalate, rules: [nordic-hold]}\n"
        '  - note: text stays text\n    action: {kind: pay, params: {code: "0755"}}\n'
        "    context: {country: DE, flag: true}\n    expect: {verdict: allow}\n"
    )
    (report,) = _run(tmp_path, cases)
    assert all(r.passed for r in report.results), report.results  # type: ignore[attr-defined]
