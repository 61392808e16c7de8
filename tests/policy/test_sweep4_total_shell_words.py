"""shell_words(cmd): a command's words as a POSIX shell splits them (quotes and escapes read)."""

from __future__ import annotations

from typing import Any

import pytest

from guard._exceptions import EvaluationError
from guard.policy._expr import compile_expr
from guard.policy._functions import MAX_SHELL_CHARS

WORDS = compile_expr("shell_words(params.command)", rule_id="r")


def words(command: Any) -> Any:
    return WORDS.evaluate({"params": {"command": command}})


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("rm -rf /", ["rm", "-rf", "/"], id="plain"),
        pytest.param('r"m" -rf /', ["rm", "-rf", "/"], id="quotes-in-a-name"),
        pytest.param("r'm' '-r''f' /", ["rm", "-rf", "/"], id="single-quotes"),
        pytest.param('rm -"r"f /', ["rm", "-rf", "/"], id="quotes-in-a-flag"),
        pytest.param("\\rm -v\\f x", ["rm", "-vf", "x"], id="backslashes"),
        pytest.param("rm${IFS}-rf${IFS}/", ["rm", "-rf", "/"], id="braced-ifs"),
        pytest.param("rm$IFS-rf /", ["rm", "-rf", "/"], id="bare-ifs"),
        pytest.param("echo ${IFS:0:1}x", ["echo", "x"], id="ifs-with-an-operator"),
        pytest.param("echo $IFSX", ["echo", "$IFSX"], id="near-miss-another-variable"),
        pytest.param("ls;rm -rf /", ["ls", ";", "rm", "-rf", "/"], id="operator-apart"),
        pytest.param("a && b | c", ["a", "&&", "b", "|", "c"], id="operators"),
        pytest.param("echo 'a;b'", ["echo", "a;b"], id="near-miss-quoted-operator"),
        pytest.param("X=rm; $X -rf /", ["X=rm", ";", "$X", "-rf", "/"], id="variable-opaque"),
        pytest.param("echo $(id) `id`", ["echo", "$", "(", "id", ")", "`id`"], id="subst-opaque"),
        pytest.param("r\\\nm -rf /", ["rm", "-rf", "/"], id="line-continuation"),
        pytest.param("echo \\\\\nrm", ["echo", "\\", "rm"], id="near-miss-escaped-backslash"),
        pytest.param("ls # rm -rf /", ["ls", "#", "rm", "-rf", "/"], id="comment-kept"),
        pytest.param("", [], id="empty"),
    ],
)
def test_words(command: str, expected: list[str]) -> None:
    assert words(command) == expected


@pytest.mark.parametrize(
    ("command", "message"),
    [
        pytest.param("echo 'x", 'cannot split string "echo \'x": No closing quotation', id="q"),
        pytest.param('echo "x', "No closing quotation", id="double-quote"),
        pytest.param("echo x\\", "No escaped character", id="trailing-backslash"),
        pytest.param(["rm"], "shell_words() needs a command string, got list", id="list"),
        pytest.param(None, "needs a command string, got null", id="null"),
        pytest.param("x" * (MAX_SHELL_CHARS + 1), "at most 10000 characters, got 10001", id="big"),
    ],
)
def test_what_cannot_be_split_is_an_error(command: Any, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        words(command)
    assert message in str(caught.value)


def test_rules_read_the_first_word_and_search_the_words() -> None:
    first = compile_expr('shell_words(params.command)[0] in ["rm", "mkfs"]', rule_id="r")
    some = compile_expr('contains_any(shell_words(params.command), ["rm"])', rule_id="r")
    assert first.evaluate({"params": {"command": "'r'm -rf /"}}) is True
    assert first.evaluate({"params": {"command": "ls rm"}}) is False
    assert some.evaluate({"params": {"command": "ls; r\\m -rf /"}}) is True
    assert some.evaluate({"params": {"command": "echo rmdir"}}) is False


def test_the_callers_text_is_not_changed() -> None:
    params = {"command": "rm${IFS}-rf /"}
    WORDS.evaluate({"params": params})
    assert params == {"command": "rm${IFS}-rf /"}
