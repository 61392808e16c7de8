"""`*.test.yaml` errors name file, line, column and the offending value, before any case runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guard._exceptions import PolicyError
from guard.policy import load
from guard.policy._testing import run_pack

PACK = (
    "name: p\nversion: 1\nrules:\n  - id: big\n    match: {kind: pay}\n"
    "    when: params.amount > 5\n    effect: deny\n"
)
ACTION = "    action: {kind: pay, params: {amount: 9}}\n"


def _run(tmp_path: Path, test_file: str) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text(test_file)
    (pack,) = load(tmp_path / "p.yaml")
    run_pack(pack)


@pytest.mark.parametrize(
    ("test_file", "needles", "line", "column"),
    [
        pytest.param(
            "cases:\n  - note: a\n" + ACTION + "    expect: {verdict: block}\n",
            ["unknown verdict 'block'", "case 'a'", "deny, escalate, redact, allow"],
            4,
            23,
            id="unknown-verdict",
        ),
        pytest.param(
            "cases:\n  - note: a\n" + ACTION + "    expct: {verdict: deny}\n",
            ["unknown key 'expct'"],
            4,
            5,
            id="misspelt-expect",
        ),
        pytest.param(
            "cases:\n  - note: a\n"
            + ACTION
            + "    items: [{id: x}]\n    expect: {verdict: deny}\n",
            ["case 'a' needs exactly one of `action`", "`items`"],
            2,
            5,
            id="action-and-items",
        ),
        pytest.param(
            "cases:\n  - note: ok\n" + ACTION + "    expect: {verdict: deny}\n"
            "  - note: b\n    expect: {verdict: deny}\n",
            ["case 'b' needs exactly one of `action`"],
            5,
            5,
            id="neither-action-nor-items",
        ),
        pytest.param(
            "cases:\n  - note: a\n" + ACTION + "    expect: {verdict: deny, rules: [big, bgi]}\n",
            ["case 'a' expects rule 'bgi'", "pack 'p' does not have", "its rules are big"],
            4,
            42,
            id="unknown-rule-id",
        ),
        pytest.param(
            "cases:\n  - note: a\n" + ACTION + "    expect: {verdict: deny, kept: []}\n",
            ["case 'a' expects `kept` items, but it checks an action"],
            4,
            35,
            id="kept-on-an-action",
        ),
        pytest.param(
            "- note: a\n", ["must be a YAML mapping with a `cases` list"], 1, 1, id="a-list"
        ),
        pytest.param(
            "cases:\n  - note: a\n" + ACTION + "    repeat: 0\n    expect: {verdict: deny}\n",
            ["case 'a'", "repeat", "(got 0)"],
            4,
            13,
            id="repeat-zero",
        ),
        pytest.param(
            "pack: q\ncases:\n  - note: a\n" + ACTION + "    expect: {verdict: deny}\n",
            ["for pack 'q'"],
            1,
            7,
            id="other-pack",
        ),
    ],
)
def test_a_bad_test_file_names_its_line_column_and_value(
    tmp_path: Path, test_file: str, needles: list[str], line: int, column: int
) -> None:
    with pytest.raises(PolicyError) as err:
        _run(tmp_path, test_file)
    for needle in needles:
        assert needle in str(err.value)
    assert err.value.file == str(tmp_path / "p.test.yaml")
    assert (err.value.line, err.value.column) == (line, column)


def test_a_case_expecting_only_known_rules_runs(tmp_path: Path) -> None:
    _run(tmp_path, "cases:\n  - note: a\n" + ACTION + "    expect: {verdict: deny, rules: [big]}\n")


def test_guard_policy_test_prints_a_bad_test_file_as_one_line(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - note: a\n" + ACTION + "    expect: {verdict: deny, rules: [bgi]}\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", "policy", "test", tmp_path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "expects rule 'bgi'" in r.stderr and "p.test.yaml:4:37" in r.stderr


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        pytest.param(ACTION + "    expect: {verdict: allow}\n", "verdict deny", id="wrong"),
        pytest.param(
            "    action: {params: {amount: 9}}\n    expect: {verdict: deny}\n",
            "raised InvalidAction",
            id="raises",
        ),
    ],
)
def test_a_failing_case_names_its_line(tmp_path: Path, case: str, detail: str) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - note: ok\n" + ACTION + "    expect: {verdict: deny}\n  - note: b\n" + case
    )
    (pack,) = load(tmp_path / "p.yaml")
    ok, failed = run_pack(pack).results
    assert ok.passed and ok.detail == ""
    assert not failed.passed and detail in failed.detail
    assert failed.detail.endswith(f"({tmp_path / 'p.test.yaml'}:5:5)")


def test_an_unreadable_test_file_is_a_policy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text(PACK)
    (tmp_path / "p.test.yaml").write_text("cases: []\n")
    (pack,) = load(tmp_path / "p.yaml")

    def refuse(self: Path, encoding: str | None = None) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(PolicyError, match="cannot read test file: Permission denied"):
        run_pack(pack)
