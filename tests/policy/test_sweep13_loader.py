"""Sweep 13: YAML a pack author may write that the loader crashed on or read unstably."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guard import PolicyError
from guard.policy import parse, run_tests

HEAD = "name: t\nversion: 1\n"


def _error(text: str | bytes) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(text, file="t.yaml")
    return info.value


def test_merge_key_is_a_load_error_at_its_place() -> None:
    # A ConstructorError escaped the loader (no PolicyError, so `guard policy lint` crashed).
    text = HEAD + "rules:\n  - &r1\n    id: a\n    when: 'true'\n  - <<: *r1\n    id: b\n"
    err = _error(text)
    assert "merge key (<<)" in str(err) and (err.line, err.column) == (7, 5)


def test_alias_of_a_whole_value_still_loads() -> None:
    text = HEAD + "rules:\n  - id: a\n    when: &c 'true'\n  - id: b\n    when: *c\n"
    assert [r.id for r in parse(text).rules] == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "needle"),
    [(".inf", "got inf"), ("-.Inf", "got -inf"), (".NaN", "got nan")],
)
def test_infinite_and_nan_yaml_floats_are_load_errors_not_crashes(value: str, needle: str) -> None:
    # _yaml12 called float(".inf"): a ValueError escaped the loader.
    err = _error(f"name: t\nversion: {value}\nrules: []\n")
    assert needle in str(err) and (err.line, err.column) == (2, 10)


@pytest.mark.parametrize(
    ("snippet", "tag", "line", "column"),
    [
        ("rules: !!set {a, b}\n", "set", 3, 8),
        ("rules: []\ndescription: !!binary aGVsbG8=\n", "binary", 4, 14),
        ("rules: []\ndescription: !!omap [a: 1]\n", "map", 4, 22),
        ("rules:\n  - id: a\n    when: 'true'\n    match: {kind: !!set {x, y}}\n", "set", 6, 19),
    ],
)
def test_values_json_has_no_type_for_are_load_errors(
    snippet: str, tag: str, line: int, column: int
) -> None:
    # A !!set crashed the loader (TypeError) where it stood for rules, and elsewhere loaded.
    err = _error(HEAD + snippet)
    assert f"YAML {tag}" in str(err) and "JSON has no type" in str(err)
    assert (err.file, err.line, err.column) == ("t.yaml", line, column)


def test_a_set_no_longer_gives_a_digest_that_changes_between_processes() -> None:
    # `redact: !!set {...}` loaded, and the pack's digest followed the set's hash order,
    # which differs from one process to the next (PYTHONHASHSEED).
    text = HEAD + (
        "rules:\n  - id: a\n    when: 'true'\n    effect: redact\n"
        "    redact: !!set {params.a, params.b, params.c, params.d, params.e}\n"
    )
    code = (
        "import sys\nfrom guard import PolicyError\nfrom guard.policy import parse\n"
        "try:\n    print(parse(sys.stdin.read()).digest)\n"
        "except PolicyError:\n    print('refused')\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
        ).stdout.strip()
        for seed in (1, 2, 3, 4)
    }
    assert outputs == {"refused"}


def test_a_character_yaml_refuses_is_named_with_line_and_column() -> None:
    err = _error(HEAD + 'rules:\n  - id: a\n    description: "ok \x07 bell"\n    when: "true"\n')
    assert "U+0007" in str(err) and (err.line, err.column) == (5, 22)
    err = _error(HEAD + "rules: []\n\x00")
    assert "U+0000" in str(err) and (err.line, err.column) == (4, 1)


def test_a_byte_that_is_not_utf8_is_named_with_line_and_column() -> None:
    err = _error(b"name: t\nversion: 1\ndescription: caf\xe9\nrules: []\n")
    assert "0xe9" in str(err) and (err.line, err.column) == (3, 17)
    err = _error("name: t\nversion: 1\n".encode("utf-16"))
    assert (err.line, err.column) == (1, 1)


def _when(condition: str) -> str:
    return HEAD + f"rules:\n  - id: r\n    when: '{condition}'\n"


@pytest.mark.parametrize(
    "condition",
    [
        'startswith(domain(params.u), "www.")',  # a prefix ends in a dot
        'startswith(domain(params.u), ["10.", "192.168."])',  # part of an IPv4 address
        'endswith(domain(params.u), ".0.1")',
        'domain(params.u) == "::1"',
    ],
)
def test_domain_prefixes_and_suffixes_it_can_return_load(condition: str) -> None:
    # These were load errors that told the author to write "www", "0.0.0.10." or "0.0.0.1".
    parse(_when(condition))


@pytest.mark.parametrize(
    ("condition", "meant"),
    [
        ('startswith(domain(params.u), "WWW.")', "'www.'"),
        ('domain(params.u) in ["https://docs.python.org"]', "'docs.python.org'"),  # was 'https'
        ('domain(params.u) in ["jo@Docs.python.org:443"]', "'docs.python.org'"),
        ('domain(params.u) == "0:0::1"', "'::1'"),  # loaded: a rule that never matched
    ],
)
def test_domain_literals_it_never_returns_name_the_right_spelling(
    condition: str, meant: str
) -> None:
    err = _error(_when(condition))
    assert "which it never returns" in str(err) and str(err).endswith(
        f"write {meant} (t.yaml:5:{err.column})"
    )


def test_an_invalid_recognizer_regex_is_a_load_error_at_its_place() -> None:
    # The pack loaded (and `guard policy lint` passed it); building the Guard then failed
    # with a PiiConfigError naming no file, line or column.
    text = HEAD + (
        "pii:\n  entities: [ORDER_ID]\n  fields: [params.m]\n  recognizers:\n"
        "    - name: o\n      supported_entity: ORDER_ID\n"
        '      patterns: [{name: o, regex: "ORD-[0-", score: 0.9}]\n'
        'rules:\n  - id: r\n    when: pii.any("ORDER_ID")\n'
    )
    err = _error(text)
    assert "not a valid regular expression" in str(err) and "ORD-[0-" in str(err)
    assert (err.line, err.column) == (9, 35)


def test_a_recognizer_regex_presidio_accepts_loads() -> None:
    text = HEAD + (
        "pii:\n  entities: [ORDER_ID]\n  fields: [params.m]\n  recognizers:\n"
        "    - name: o\n      supported_entity: ORDER_ID\n"
        '      patterns: [{name: o, regex: "(?<=ORD-)\\\\p{N}{8}", score: 0.9}]\n'
        'rules:\n  - id: r\n    when: pii.any("ORDER_ID")\n'
    )
    assert parse(text).pii is not None


def test_a_test_file_that_is_not_utf8_is_named_with_line_and_column(tmp_path: Path) -> None:
    # It said "malformed test file: 'utf-8' codec can't decode byte 0xe9 in position 20"
    # with no line or column.
    (tmp_path / "p.yaml").write_text(HEAD + "rules:\n  - id: r\n    when: 'true'\n")
    (tmp_path / "p.test.yaml").write_bytes(
        b"cases:\n  - note: caf\xe9\n    action: {kind: k}\n    expect: {verdict: deny}\n"
    )
    with pytest.raises(PolicyError) as info:
        run_tests(str(tmp_path / "p.yaml"))
    err = info.value
    assert "not UTF-8" in str(err) and "0xe9" in str(err)
    assert (err.file, err.line, err.column) == (str(tmp_path / "p.test.yaml"), 2, 14)
