"""Sweep 15: the policy language as a pack author writes it."""

from __future__ import annotations

import pytest

from guard import Guard, PolicyError
from guard.policy import parse

HEAD = "name: t\nversion: 1\nrules:\n  - id: r\n"


def _error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(text, file="t.yaml")
    return info.value


# -- identifiers are read as written: Python folds them (NFKC), the language does not ---


@pytest.mark.parametrize(
    ("when", "column", "written", "read"),
    [
        # the ligature fi: Python reads the attribute as "file", a key the author never wrote
        pytest.param("params.\ufb01le == 1", 18, "\ufb01le", "file", id="ligature"),
        pytest.param("params.\uff46\uff49\uff4c\uff45 == 1", 18, "\uff46\uff49\uff4c\uff45",
                     "file", id="full-width-key"),
        pytest.param("params.\u2168 == 1", 18, "\u2168", "IX", id="roman-numeral"),
        # half-width katakana is read as the full-width one, another key of the input
        pytest.param("params.\uff76\uff85 == 1", 18, "\uff76\uff85", "\u30ab\u30ca",
                     id="half-width-kana"),
        pytest.param("\uff50\uff41\uff52\uff41\uff4d\uff53.x == 1", 11,
                     "\uff50\uff41\uff52\uff41\uff4d\uff53", "params", id="full-width-scope"),
        pytest.param("true and \uff4c\uff45\uff4e(params.x) == 1", 20, "\uff4c\uff45\uff4e",
                     "len", id="full-width-function"),
    ],
)  # fmt: skip
def test_an_identifier_python_would_rewrite_is_a_load_error(
    when: str, column: int, written: str, read: str
) -> None:
    err = _error(HEAD + f"    when: {when}\n")
    assert (err.line, err.column) == (5, column)
    assert repr(written) in str(err) and repr(read) in str(err)
    assert "params[" in str(err)  # how to name such a key: a subscript keeps it as written


def test_a_key_python_would_rewrite_is_read_as_written_through_a_subscript() -> None:
    pack = HEAD + '    when: params["\ufb01le"] == 1\n'
    g = Guard([parse(pack, file="t.yaml")])
    assert g.check({"kind": "k", "params": {"\ufb01le": 1}}).verdict == "deny"
    assert g.check({"kind": "k", "params": {"\ufb01le": 2, "file": 1}}).verdict == "allow"


def test_non_ascii_identifiers_python_keeps_as_written_still_load() -> None:
    pack = HEAD + "    when: params.\u540d\u524d == 1 and params.\u00e9t\u00e9 == 2\n"
    g = Guard([parse(pack, file="t.yaml")])
    action = {"kind": "k", "params": {"\u540d\u524d": 1, "\u00e9t\u00e9": 2}}
    assert g.check(action).verdict == "deny"
