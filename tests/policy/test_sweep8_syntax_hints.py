"""A condition written with another language's operators gets a hint naming the one to
write, and Python's generic "invalid syntax" is not said twice."""

from __future__ import annotations

import pytest

from guard._exceptions import ExpressionError
from guard.policy import compile_expr, parse


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("params.a > 1 && params.b < 2", "write `and`, not &&"),
        ("params.a > 1 || params.b < 2", "write `or`, not ||"),
        ("params.a === null", "write == or !=, not === or !=="),
        ("params.a !== 1", "write == or !=, not === or !=="),
        ("!params.x", "write `not x`, not !x"),
        ("params.a = 1", "compare with ==; a single = assigns"),
        ("params.a => 1", "write >= or <=, not => or =<"),
    ],
)
def test_a_foreign_operator_gets_a_hint(source: str, hint: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expr(source)
    message = str(info.value)
    assert f"invalid syntax; {hint};" in message
    assert "invalid syntax: invalid syntax" not in message


def test_an_operator_inside_a_string_is_no_hint() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expr('params.a == "x && y = z" and')
    assert "write" not in str(info.value).split(" in '")[0]


def test_the_hint_keeps_the_file_position() -> None:
    text = "name: p\nversion: 1\nrules:\n  - id: r\n    when: params.a > 1 && params.b\n"
    with pytest.raises(ExpressionError, match="write `and`, not &&") as info:
        parse(text, file="p.yaml")
    assert (info.value.file, info.value.line, info.value.column) == ("p.yaml", 5, 25)
