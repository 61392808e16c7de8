"""A message placeholder that names a loop variable of any()/all() is a load error that
says so, names the placeholder and points at it, and suggests the field the loop reads."""

from __future__ import annotations

import pytest

from guard._exceptions import PolicyError
from guard.policy import parse

HEAD = "name: p\nversion: 1\nrules:\n  - id: r\n"


def test_a_loop_variable_in_a_message_is_named_as_one() -> None:
    text = HEAD + (
        '    when: any(w in ["rm"] for w in shell_words(params.command))\n'
        '    message: "refused {w}"\n'
    )
    with pytest.raises(PolicyError) as info:
        parse(text, file="p.yaml")
    error = info.value
    assert "placeholder {w}" in str(error)
    assert "loop variable of any()/all()" in str(error)
    assert "{params.command}" in str(error)  # the field the loop reads
    assert (error.file, error.line, error.column) == ("p.yaml", 6, 23)  # at the {
    assert "\n" not in str(error)


def test_a_path_under_a_loop_variable_in_a_block_message() -> None:
    text = HEAD + (
        "    when: |\n"
        "      all(line.amount < 100\n"
        "          for line in params.lines)\n"
        "    message: >-\n"
        "      a line of\n"
        "      {line.amount} is too big\n"
    )
    with pytest.raises(PolicyError, match=r"\{line\.amount\}.*'line', a loop variable") as info:
        parse(text, file="p.yaml")
    assert "{params.lines}" in str(info.value)
    assert (info.value.line, info.value.column) == (10, 7)


def test_a_loop_over_a_literal_suggests_a_field_anyway() -> None:
    text = HEAD + "    when: any(x > 1 for x in [1, 2])\n    message: 'x is {x}'\n"
    with pytest.raises(PolicyError, match=r"loop variable.*such as \{params\.amount\}"):
        parse(text, file="p.yaml")


def test_a_name_outside_the_scope_keeps_its_own_error() -> None:
    text = HEAD + "    when: any(x > 1 for x in params.xs)\n    message: 'y is {y}'\n"
    with pytest.raises(PolicyError, match="templates may name action"):
        parse(text, file="p.yaml")


def test_the_field_a_loop_reads_fills_the_message() -> None:
    from guard import Guard

    text = HEAD + (
        '    when: any(w in ["rm"] for w in shell_words(params.command))\n'
        '    message: "refused {params.command}"\n'
    )
    decision = Guard([parse(text)]).check({"kind": "sh", "params": {"command": "rm -rf /"}})
    assert [h.message for h in decision.hits] == ["refused rm -rf /"]
