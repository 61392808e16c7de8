"""A new user's own packs and CLI slips: each one a one-line load error with its place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guard import Guard
from guard._exceptions import PolicyError
from guard.policy import load, parse

HEAD = "name: shop\nversion: 1\n"


def load_error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(text, file="shop.yaml")
    return info.value


def rule(when: str, extra: str = "") -> str:
    return f"{HEAD}{extra}rules:\n  - id: r\n    when: {when}\n    on_error: allow\n"


@pytest.mark.parametrize(
    ("text", "fragment", "line", "column"),
    [
        pytest.param(
            "name: shop\nversion: 99999999999999999999\nrules: []\n",
            "version",
            2,
            10,
            id="version",
        ),
        pytest.param(
            f"{HEAD}rules:\n  - id: r\n    scope: list\n"
            "    cap: {by: item.x, max: 99999999999999999999}\n",
            "rules.0.cap.max",
            6,
            28,
            id="cap-max",
        ),
        pytest.param(
            f"{HEAD}pii: {{entities: [EMAIL_ADDRESS], fields: [params.m], "
            "max_text_chars: -99999999999999999999}\nrules: []\n",
            "pii.max_text_chars",
            3,
            70,
            id="pii-negative",
        ),
    ],
)
def test_an_integer_past_json_range_is_a_load_error_not_a_crash(
    text: str, fragment: str, line: int, column: int
) -> None:
    err = load_error(text)
    assert fragment in str(err) and "2**53" in str(err)
    assert (err.line, err.column) == (line, column)


@pytest.mark.parametrize(
    ("when", "arg", "got"),
    [
        pytest.param('rate(str(actor), "1m") > 3', '"1m"', "'1m'; write seconds as a number"),
        pytest.param('rate(str(actor), "60s") > 3', '"60s"', "'60s'"),
        pytest.param("rate(str(actor), -5) > 3", "-5", "number -5"),
        pytest.param("rate(str(actor), 0) > 3", "0", "number 0"),
        pytest.param("rate(str(actor), true) > 3", "true", "boolean True"),
        pytest.param("rate(str(actor), null) > 3", "null", "got null"),
        pytest.param("rate(str(actor), 99999999999) > 3", "999", "at most 315360000 seconds"),
        pytest.param("total(str(actor), params.amount, -1) > 3", "-1", "number -1"),
    ],
)
def test_a_literal_window_rate_cannot_use_is_a_load_error(when: str, arg: str, got: str) -> None:
    err = load_error(rule(when))
    assert "seconds" in str(err) and got in str(err)
    assert "in rule 'r'" in str(err)
    assert (err.line, err.column) == (5, 11 + when.index(arg))


def test_a_window_past_ten_years_fails_closed_at_run_time_too() -> None:
    g = Guard([parse(rule("rate(str(actor), params.w) > 3").replace("allow", "deny"))])
    d = g.check({"kind": "k", "actor": "u", "params": {"w": 1e29}})
    assert d.verdict.value == "deny" and "at most" in (d.hits[0].error or "")
    ok = g.check({"kind": "k", "actor": "u", "params": {"w": 3600}})
    assert ok.verdict.value == "allow"


def test_pii_calls_in_a_pack_without_pii_settings_are_a_load_error() -> None:
    err = load_error(rule('params.n > 1 or pii.any("EMAIL_ADDRESS")'))
    assert "no `pii` section" in str(err) and "pii.any()" in str(err)
    assert (err.line, err.column) == (5, 27)  # the call, after `params.n > 1 or `


PII = "pii: {entities: [EMAIL_ADDRESS, CREDIT_CARD], fields: [params.message]}\n"


@pytest.mark.parametrize(
    ("when", "named"),
    [
        pytest.param('pii.any("EMAIL_ADDRESS", "EMAIL")', '"EMAIL"'),
        pytest.param('pii.count("PHONE_NUMBER") > 0', '"PHONE_NUMBER"'),
        pytest.param('pii.max_score("card") > 0.5', '"card"'),
        pytest.param('pii.in_field("params.message", "PERSON")', '"PERSON"'),
        pytest.param('pii.in_field("params.body", "CREDIT_CARD")', '"params.body"'),
    ],
)
def test_pii_calls_naming_what_the_pack_never_scans_are_a_load_error(when: str, named: str) -> None:
    err = load_error(rule(f"'{when}'", PII))
    assert named.replace('"', "'") in str(err) and "never scans" in str(err)
    assert (err.line, err.column) == (6, 12 + when.index(named))


def test_pii_calls_the_pack_scans_for_still_load() -> None:
    when = (
        '\'pii.any() or pii.any("EMAIL_ADDRESS") or pii.count() > 1 or '
        'pii.in_field("params.message") or pii.in_field("params.message[0]", "CREDIT_CARD")\''
    )
    assert parse(rule(when, PII)).rules[0].id == "r"


@pytest.mark.parametrize(
    ("scope", "message", "name"),
    [
        pytest.param("action", "item {item.id}", "item"),
        pytest.param("item", "for {params.amount}", "params"),
        pytest.param("item", "of kind {kind}", "kind"),
        pytest.param("item", "in {action.kind}", "action"),
    ],
)
def test_a_message_naming_what_its_scope_never_has_is_a_load_error(
    scope: str, message: str, name: str
) -> None:
    text = (
        f'{HEAD}rules:\n  - id: r\n    scope: {scope}\n    when: "true"\n    message: "{message}"\n'
    )
    err = load_error(text)
    assert f"names {name!r}" in str(err) and "<missing>" in str(err)
    assert err.line == 7


def test_an_unquoted_yes_or_no_where_text_belongs_says_to_quote_it() -> None:
    err = load_error(f'{HEAD}rules:\n  - id: no\n    when: "true"\n')
    assert "quote it" in str(err) and "in rule False" not in str(err)
    assert (err.line, err.column) == (4, 9)


def test_two_packs_of_one_name_in_a_folder_name_the_second_ones_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEAD + "rules: []\n")
    (tmp_path / "b.yaml").write_text("# copy\n" + HEAD + "rules: []\n")
    with pytest.raises(PolicyError) as info:
        load(tmp_path)
    assert info.value.file == str(tmp_path / "b.yaml")
    assert (info.value.line, info.value.column) == (2, 7)


def guard_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "from guard.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pâcks ü"
    folder.mkdir()
    (folder / "shop.yaml").write_text(rule('kind == "refund"').replace("allow", "deny"))
    (tmp_path / "action.json").write_text('{"kind": "refund"}')
    return folder


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        pytest.param("action.json", "write @action.json to read the file", id="a-file-path"),
        pytest.param(
            '[{"kind": "refund"}]', "--action must be a mapping (a JSON object)", id="a-list"
        ),
        pytest.param('"refund"', "got a JSON string", id="a-string"),
        pytest.param("null", "got JSON null", id="null"),
    ],
)
def test_check_names_what_is_wrong_with_action(pack_dir: Path, action: str, fragment: str) -> None:
    run = guard_cli("check", "-p", str(pack_dir), "--action", action, cwd=pack_dir.parent)
    assert run.returncode == 2 and run.stdout == ""
    assert fragment in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_check_reads_an_action_file_in_a_unicode_folder(pack_dir: Path) -> None:
    run = guard_cli("check", "-p", str(pack_dir), "--action", "@action.json", cwd=pack_dir.parent)
    assert run.returncode == 0 and '"verdict": "deny"' in run.stdout


def test_an_integer_of_more_digits_than_python_reads_is_a_load_error() -> None:
    err = load_error(f"name: shop\nversion: 1{'0' * 5000}\nrules: []\n")
    assert "too many digits" in str(err)
    assert (err.line, err.column) == (2, 10)


def test_lint_of_a_huge_cap_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(
        f"{HEAD}rules:\n  - id: r\n    scope: list\n    cap: {{by: item.x, max: {2**64}}}\n"
    )
    run = guard_cli("policy", "lint", "shop.yaml", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().endswith("(shop.yaml:6:28)")
