"""A test file's `repeat` and `expect.error` take what the reference shows (an integer,
true or false), as the pack's own fields do: `repeat: true` is not 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard._exceptions import PolicyError
from guard.policy import run_tests

PACK = "name: p\nversion: 1\nrules:\n  - id: r\n    match: {kind: pay}\n    when: params.n > 5\n"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("    repeat: true\n", "repeat"),
        ("    repeat: '3'\n", "repeat"),
        ("    expect: {verdict: deny, error: 1}\n", "error"),
        ("    expect: {verdict: deny, error: 'yes'}\n", "error"),
    ],
)
def test_a_loose_value_is_refused_at_its_line(tmp_path: Path, line: str, key: str) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    case = "cases:\n  - note: x\n    action: {kind: pay, params: {n: 9}}\n"
    if "expect" not in line:
        line += "    expect: {verdict: deny}\n"
    (tmp_path / "p.test.yaml").write_text(case + line)
    with pytest.raises(PolicyError, match=f"invalid cases.0.*{key}") as info:
        run_tests(tmp_path / "p.yaml")
    assert info.value.line == 4


def test_documented_values_still_run(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - note: x\n    action: {kind: pay, params: {n: 9}}\n    repeat: 3\n"
        "    expect: {verdict: deny, rules: [r], error: false}\n"
    )
    (report,) = run_tests(tmp_path / "p.yaml")
    assert report.passed
