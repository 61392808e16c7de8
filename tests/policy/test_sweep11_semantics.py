"""Sweep 11: YAML 1.1 coercions a pack author never meant, and the functions' semantics
under odd input (URLs a browser reads differently, Unicode case, mixed types)."""

from __future__ import annotations

import pytest

from guard._exceptions import PolicyError
from guard.policy import parse


def _pack(rule: str, head: str = "name: p\nversion: 1\n") -> str:
    return f"{head}rules:\n  - id: r\n{rule}"


# ---------------------------------------------------------------------------------------
# 1. YAML 1.1 reads `on`, `yes`, `017`, `1_000` as what no author of YAML 1.2 meant.


@pytest.mark.parametrize("word", ["on", "yes", "no", "off", "On", "YES", "No", "OFF"])
def test_a_when_of_yes_no_on_off_is_a_load_error(word: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse(_pack(f"    when: {word}\n"), file="p.yaml")
    exc = err.value
    assert (exc.file, exc.line, exc.column) == ("p.yaml", 5, 11)
    assert repr(word) in str(exc) and "quote" in str(exc) and "true or false" in str(exc)


@pytest.mark.parametrize("word", ["true", "false", "True", "FALSE"])
def test_a_when_of_true_or_false_still_loads(word: str) -> None:
    [rule] = parse(_pack(f"    when: {word}\n")).rules
    assert rule.when is not None and rule.when.source == word.lower()


@pytest.mark.parametrize(
    ("rule", "line", "column", "text"),
    [
        ("    when: 'true'\n    effect: no\n", 6, 13, "'no'"),
        ("    when: 'true'\n    severity: on\n", 6, 15, "'on'"),
        ("    when: 'true'\n    on_error: Off\n", 6, 15, "'Off'"),
        ("    match: {kind: no}\n    when: 'true'\n", 5, 19, "'no'"),
        ("    match: {kind: [send, yes]}\n    when: 'true'\n", 5, 26, "'yes'"),
        ("    match: {kind: 1e3}\n    when: 'true'\n", 5, 19, "'1e3'"),
        ("    when: 'true'\n    on: deny\n", 6, 5, "'on'"),  # a key, too
    ],
)
def test_yaml_coercions_elsewhere_are_load_errors_at_their_position(
    rule: str, line: int, column: int, text: str
) -> None:
    with pytest.raises(PolicyError) as err:
        parse(_pack(rule), file="p.yaml")
    assert (err.value.line, err.value.column) == (line, column)
    assert text in str(err.value) and "quote" in str(err.value)


def test_an_id_that_yaml_1_2_reads_as_a_number_is_a_load_error() -> None:
    with pytest.raises(PolicyError) as err:
        parse("name: p\nversion: 1\nrules:\n  - id: 1e3\n    when: 'true'\n")
    assert (err.value.line, err.value.column) == (4, 9) and "'1e3'" in str(err.value)


@pytest.mark.parametrize(
    ("version", "shown"),
    [("017", "15"), ("1_000", "1000"), ("1:10", "70"), ("0o17", "15")],
)
def test_a_version_yaml_versions_read_differently_is_a_load_error(version: str, shown: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse(f"name: p\nversion: {version}\nrules: []\n")
    assert (err.value.line, err.value.column) == (2, 10)
    assert repr(version) in str(err.value) and shown in str(err.value)


def test_version_1_10_names_what_was_written_and_how_to_quote_it() -> None:
    with pytest.raises(PolicyError) as err:
        parse("name: p\nversion: 1.10\nrules: []\n")
    assert "'1.10'" in str(err.value) and "1.1" in str(err.value) and "quote" in str(err.value)


@pytest.mark.parametrize(
    "source",
    [
        "name: p\nversion: '1.10'\nrules:\n  - id: 'no'\n    when: 'true'\n    effect: \"no\"\n",
        "name: p\nversion: 1\nrules:\n  - id: a\n    match: {kind: !!str on}\n    when: 'true'\n",
    ],
)
def test_quoted_or_tagged_text_is_text(source: str) -> None:
    try:
        pack = parse(source)
    except PolicyError as exc:  # 'no' is no verdict: refused as such, not as YAML
        assert "unknown effect 'no'" in str(exc)
    else:
        assert pack.rules[0].kinds == frozenset({"on"})
        assert pack.version == 1
