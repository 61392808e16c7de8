"""Sweep 15: the policy language as a pack author writes it."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from guard import Guard, PolicyError
from guard.policy import parse
from guard.policy._expr import compile_expr
from guard.policy._inline import SLOW, build_plan

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


# -- true is not 1 in sets and in lists of lists either ---------------------------------


def _outcomes(when: str, params: dict[str, Any]) -> set[Any]:
    """The condition's value through the exact closures, the explain closures and the
    rule plan (when the plan does not defer to the closures)."""
    expr = compile_expr(when, rule_id="r")
    env = {"params": params, "context": {}, "kind": "k", "actor": None, "tenant": None}
    values = {expr.fast(dict(env)), expr.explain(dict(env))[0]}
    plan = build_plan([SimpleNamespace(when=expr)])
    assert plan is not None
    flagged = plan(dict(env))
    values.add(False if not flagged else flagged[0][1])
    return values - {SLOW}


@pytest.mark.parametrize(
    ("when", "params", "expected"),
    [
        # sets are compared as JSON compares: a boolean is not the number 1
        pytest.param("{params.x} == {1}", {"x": True}, False, id="set-bool-vs-int"),
        pytest.param("{params.x} != {1}", {"x": True}, True, id="set-bool-ne-int"),
        pytest.param("{params.x, 2} == {1, 2}", {"x": True}, False, id="set-two-members"),
        pytest.param("{params.x} == {1}", {"x": 1.0}, True, id="set-int-vs-float"),
        pytest.param("{params.x} == {true}", {"x": True}, True, id="set-bool-vs-bool"),
        pytest.param("{params.x} == {params.y}", {"x": 0, "y": False}, False, id="set-paths"),
        # `in` on a list compares as `==` does, whatever the members are
        pytest.param("params.x in [[1]]", {"x": [True]}, False, id="in-list-of-lists"),
        pytest.param("params.x not in [[1]]", {"x": [True]}, True, id="not-in-list-of-lists"),
        pytest.param("params.x in [[1]]", {"x": [1.0]}, True, id="in-list-of-lists-equal"),
        pytest.param("params.x in params.y", {"x": [True], "y": [[1]]}, False, id="in-path"),
        pytest.param("params.x in params.y", {"x": {"a": 1}, "y": [{"a": True}]}, False,
                     id="in-list-of-objects"),
        pytest.param("[params.x] in [[1], [2]]", {"x": True}, False, id="built-list-in"),
        pytest.param("params.x in [[1]]", {"x": [1]}, True, id="in-list-of-lists-same"),
    ],
)  # fmt: skip
def test_booleans_are_not_numbers_inside_sets_and_nested_lists(
    when: str, params: dict[str, Any], expected: bool
) -> None:
    assert _outcomes(when, params) == {expected}
    pack = HEAD + f"    when: {json.dumps(when)}\n"
    decision = Guard([parse(pack, file="t.yaml")]).check({"kind": "k", "params": params})
    assert decision.verdict == ("deny" if expected else "allow")


# -- a list rule's `when: true` is not text to quote ------------------------------------


def test_a_list_rule_with_when_true_gets_no_advice_to_quote_it() -> None:
    # The error said: quote it ("true") where text is meant; quoted, the rule is still
    # refused, since a list rule takes no `when` at all.
    err = _error(HEAD + "    scope: list\n    when: true\n    cap: {by: item.a, max: 1}\n")
    assert "takes no `when`" in str(err) and "quote" not in str(err)
    assert (err.line, err.column) == (6, 11)


# -- a bracketed path in a YAML flow list, as DESIGN.md's example writes it -------------


@pytest.mark.parametrize(
    ("section", "path"),
    [
        # DESIGN.md's pack example: `fields: [params.message, params.attachments[*].text]`
        pytest.param(
            "pii:\n  entities: [EMAIL_ADDRESS]\n  fields: [params.message, {}]\n",
            "params.attachments[*].text",
            id="pii-fields-star",
        ),
        pytest.param(
            "pii:\n  entities: [EMAIL_ADDRESS]\n  fields: [{}]\n",
            "params.attachments[0].text",
            id="pii-fields-index",
        ),
        pytest.param(
            "rules:\n  - id: r\n    when: 'true'\n    effect: redact\n    redact: [params.a, {}]\n",
            "params.lines[*].card",
            id="redact-star",
        ),
    ],
)
def test_an_unquoted_bracketed_path_in_a_flow_list_says_to_quote_it(
    section: str, path: str
) -> None:
    text = "name: t\nversion: 1\n" + section.replace("{}", path)
    if "rules:" not in text:
        text += "rules:\n  - id: r\n    when: pii.any()\n"
    err = _error(text)
    assert "malformed YAML" in str(err)
    assert f'"{path}"' in str(err) and "quote" in str(err)


def test_other_malformed_yaml_gets_no_advice_about_paths() -> None:
    err = _error("name: t\nversion: 1\nrules: [\n")
    assert "malformed YAML" in str(err) and "quote" not in str(err)


# -- lower()/upper() compared with a literal they never return -----------------------------


@pytest.mark.parametrize(
    ("when", "column", "literal", "meant"),
    [
        # a deny list that never denies: "Root" is never what lower() returns
        pytest.param('lower(params.to) in ["admin", "Root"]', 31, "Root", "root", id="in-list"),
        pytest.param('lower(params.to) == "Admin@corp.com"', 21, "Admin@corp.com",
                     "admin@corp.com", id="eq"),
        pytest.param('"Admin@corp.com" != lower(params.to)', 1, "Admin@corp.com",
                     "admin@corp.com", id="ne-reversed"),
        pytest.param('endswith(lower(params.to), "@Corp.com")', 28, "@Corp.com", "@corp.com",
                     id="endswith"),
        pytest.param('startswith(lower(params.to), ["x", "Admin"])', 36, "Admin", "admin",
                     id="startswith-list"),
        pytest.param('"Drop" in lower(params.sql)', 1, "Drop", "drop", id="substring"),
        pytest.param('upper(params.c) not in {"usd", "EUR"}', 25, "usd", "USD", id="upper-set"),
        pytest.param('upper(params.c) == "straße"', 20, "straße", "STRASSE", id="upper-sharp-s"),
        pytest.param('any(lower(w) == "RM" for w in params.words)', 17, "RM", "rm",
                     id="in-generator"),
    ],
)  # fmt: skip
def test_a_literal_lower_or_upper_never_returns_is_a_load_error(
    when: str, column: int, literal: str, meant: str
) -> None:
    # column: where the literal's opening quote is in the condition, counted from 1
    assert when[column - 1 :].startswith(f'"{literal}"')
    err = _error(HEAD + f"    when: '{when}'\n")
    assert repr(literal) in str(err) and repr(meant) in str(err)
    assert (err.line, err.column) == (5, 11 + column)  # after "    when: '"


@pytest.mark.parametrize(
    "when",
    [
        'lower(params.to) in ["admin", "root", "ops-1"]',
        'lower(params.to) in "Admin Root"',  # lower(x) may be a part of this text ("oot")
        'upper(params.c) == "USD"',
        'lower(params.s) == "\u00df"',  # lower() keeps the sharp s
        'upper(params.c) != "123"',
        'contains_any(lower(params.to), ["Root"])',  # contains_any folds case itself
        'lower(params.to) < "Z"',  # an ordering, not an equality
    ],
)
def test_literals_lower_or_upper_can_return_still_load(when: str) -> None:
    parse(HEAD + f"    when: {json.dumps(when, ensure_ascii=False)}\n", file="t.yaml")


# -- pii.in_field with an index asks about that element only ---------------------------

FIELDS_PACK = """\
name: t
version: 1
pii:
  entities: [EMAIL_ADDRESS]
  fields: [params.message, "params.attachments[*].text"]
rules:
  - id: r
    when: pii.in_field("{field}", "EMAIL_ADDRESS")
"""


@pytest.mark.parametrize(
    ("field", "hits"),
    [
        # the address is in the second attachment: the first has none
        pytest.param("params.attachments[0].text", False, id="other-index"),
        pytest.param("params.attachments[1].text", True, id="same-index"),
        pytest.param("params.attachments[*].text", True, id="any-index"),
        pytest.param("params.attachments[1]", True, id="element"),
        pytest.param("params.attachments", True, id="list"),
    ],
)
def test_in_field_with_an_index_reads_that_element(field: str, hits: bool) -> None:
    g = Guard([parse(FIELDS_PACK.replace("{field}", field), file="t.yaml")])
    attachments = [{"text": "see you"}, {"text": "mail jo@gmail.com"}]
    decision = g.check({"kind": "k", "params": {"message": "hi", "attachments": attachments}})
    assert [h.error for h in decision.hits] == ([None] if hits else [])
    assert decision.verdict == ("deny" if hits else "allow")


def test_in_field_index_ten_is_not_index_one() -> None:
    g = Guard([parse(FIELDS_PACK.replace("{field}", "params.attachments[1].text"), file="t.yaml")])
    attachments = [{"text": "x"}] * 10 + [{"text": "mail jo@gmail.com"}]
    decision = g.check({"kind": "k", "params": {"message": "hi", "attachments": attachments}})
    assert decision.verdict == "allow"


# -- a # comment in a folded or quoted condition hides the rest of it -------------------


@pytest.mark.parametrize(
    ("when", "line", "column"),
    [
        # folded: the lines are joined, so the comment ran to the end of the condition and
        # `and params.b == 2` was never evaluated (the rule denied a = 5, b = 3)
        pytest.param(">\n      params.a > 1   # big amounts\n      and params.b == 2\n", 6, 22,
                     id="folded"),
        pytest.param(">-\n      params.a > 1 # big\n      and params.b == 2\n", 6, 20,
                     id="folded-strip"),
        pytest.param('"params.a > 1 # and params.b == 2"\n', 5, 25, id="double-quoted"),
        pytest.param("'params.a > 1 # and params.b == 2'\n", 5, 25, id="single-quoted"),
    ],
)  # fmt: skip
def test_a_comment_in_a_joined_condition_is_a_load_error(when: str, line: int, column: int) -> None:
    err = _error(HEAD + f"    when: {when}")
    assert "comment" in str(err) and "when: |" in str(err)
    assert (err.line, err.column) == (line, column)


def test_a_comment_in_a_literal_block_ends_at_its_line() -> None:
    pack = HEAD + "    when: |\n      params.a > 1   # big amounts\n      and params.b == 2\n"
    g = Guard([parse(pack, file="t.yaml")])
    assert g.check({"kind": "k", "params": {"a": 5, "b": 3}}).verdict == "allow"
    assert g.check({"kind": "k", "params": {"a": 5, "b": 2}}).verdict == "deny"


def test_a_hash_inside_a_string_literal_is_no_comment() -> None:
    pack = HEAD + '    when: >\n      params.tag == "#1"\n      and params.b == 2\n'
    g = Guard([parse(pack, file="t.yaml")])
    assert g.check({"kind": "k", "params": {"tag": "#1", "b": 3}}).verdict == "allow"


# -- a version that names nothing ----------------------------------------------------------


@pytest.mark.parametrize("version", ["''", "'   '", '"\\t"'])
def test_a_blank_version_is_refused(version: str) -> None:
    # it was recorded in every decision as "", telling reviewers nothing
    err = _error(f"name: t\nversion: {version}\nrules: []\n")
    assert "version" in str(err) and "blank" in str(err)
    assert (err.line, err.column) == (2, 10)
