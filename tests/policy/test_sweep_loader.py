"""Packs as a new user writes them: error positions, message placeholders, scopes, test files."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

from guard import Guard
from guard._exceptions import ExpressionError, PolicyError
from guard.policy import load, parse, resolve
from guard.policy._template import fill_template

HEAD = "name: p\nversion: 1\nrules:\n  - id: r\n"


@pytest.mark.parametrize(
    ("when", "line", "column"),
    [
        pytest.param("    when: params.a > 1 and bogus(2)", 5, 28, id="plain"),
        pytest.param("    when:   params.a > 1 and bogus(2)  # c", 5, 30, id="plain-spaced"),
        pytest.param("    when: params.a > 1 and\n      bogus(2)", 6, 7, id="plain-two-lines"),
        pytest.param("    when: >\n      params.a > 1 and\n      bogus(2)", 7, 7, id="folded"),
        pytest.param(
            "    when: >\n\n      params.a > 1 and\n\n      bogus(2)", 9, 7, id="folded-blank-lines"
        ),
        pytest.param("    when: |\n      params.a > 1 and\n      bogus(2)", 7, 7, id="literal"),
        pytest.param(
            "    when: |2\n        params.a > 1 and\n        bogus(2)", 7, 9, id="literal-indent"
        ),
        pytest.param(
            "    when: > # why\n      params.a > 1 and\n        bogus(2)", 7, 9, id="header-comment"
        ),
        pytest.param('    when: "params.a > 1 and\n      bogus(2)"', 6, 7, id="double-two-lines"),
        pytest.param('    when: "params.a > 1 and \\\n      bogus(2)"', 6, 7, id="escaped-break"),
        pytest.param('    when: "params.s == \\"\\u00e9\\" and bogus(2)"', 5, 39, id="escapes"),
        pytest.param("    when: 'params.s == \"it''s\" and bogus(2)'", 5, 36, id="single-quote"),
    ],
)
def test_condition_errors_point_at_the_text_in_the_file(when: str, line: int, column: int) -> None:
    text = HEAD + when + "\n"
    with pytest.raises(ExpressionError, match="bogus") as info:
        parse(text, file="p.yaml")
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert text.splitlines()[line - 1][column - 1 :].startswith("bogus")


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("{params..x}", id="empty-step"),
        pytest.param("{params.x[}", id="open-bracket"),
        pytest.param("{params.x]}", id="close-bracket"),
        pytest.param("{params.}", id="trailing-dot"),
        pytest.param("{params[]}", id="empty-index"),
    ],
)
def test_a_placeholder_that_is_no_path_is_a_load_error(message: str) -> None:
    text = HEAD + f"    when: 'true'\n    message: '{message}'\n"
    with pytest.raises(PolicyError, match="is not a field path") as info:
        parse(text, file="p.yaml")
    assert (info.value.line, info.value.column) == (6, 15)  # the placeholder's brace


@pytest.mark.parametrize(
    ("message", "filled"),
    [
        pytest.param("{params.tags[-1]}", "b", id="last"),
        pytest.param("{params.tags[-2]}", "a", id="first-from-the-end"),
        pytest.param("{params.tags[-3]}", "<missing>", id="beyond"),
        pytest.param("{params[content-type]}", "json", id="bracketed-key"),
        pytest.param("{params.flag} {params.none}", "true null", id="json-scalars"),
        pytest.param("{params.tags}", '["a", "b"]', id="list-as-json"),
        pytest.param("{params.obj}", '{"ok": false, "n": 1}', id="object-as-json"),
    ],
)
def test_placeholders_are_filled_as_the_language_reads_values(message: str, filled: str) -> None:
    params = {
        "tags": ["a", "b"],
        "content-type": "json",
        "flag": True,
        "none": None,
        "obj": {"ok": False, "n": 1},
    }
    text = HEAD + f"    when: 'true'\n    message: '{message}'\n"
    [hit] = Guard([parse(text)]).evaluate({"kind": "k", "params": params}).hits
    assert hit.message == filled


def test_a_whole_object_in_a_message_is_masked_leaf_by_leaf() -> None:
    seen: list[str] = []

    def mask(path: str, value: Any) -> Any:
        seen.append(path)
        return "<masked>" if path == "params.message" else value

    env = {"params": {"message": "jo@example.com", "to": "u2", "n": [1]}}
    out = fill_template("{params}", env, mask)
    assert out == '{"message": "<masked>", "to": "u2", "n": [1]}'
    assert seen == ["params.message", "params.to", "params.n[0]"]


def test_a_long_object_stops_at_the_limit() -> None:
    env = {"params": {"list": list(range(100_000))}}
    assert len(fill_template("{params}", env)) == 200


PII_PACK = """\
name: leak
version: 1
pii:
  entities: [EMAIL_ADDRESS]
  fields: [params.message]
rules:
  - id: r
    when: pii.any("EMAIL_ADDRESS")
    effect: redact
    message: "params {params}"
"""


def test_a_message_naming_the_parent_of_a_pii_field_shows_no_raw_pii() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Guard([parse(PII_PACK)])
    action = {"kind": "k", "params": {"message": "mail jo@example.com", "to": "u2"}}
    [hit] = g.evaluate(action).hits
    assert "jo@example.com" not in hit.message
    assert hit.message == 'params {"message": "mail <EMAIL_ADDRESS>", "to": "u2"}'


@pytest.mark.parametrize(
    ("rule", "needle", "line", "column"),
    [
        pytest.param(
            "    scope: item\n    match: {kind: a}\n    when: item.x == 1\n",
            "has scope: item, which has no kind",
            6,
            12,
            id="match-on-item",
        ),
        pytest.param(
            "    scope: list\n    match: {kind: a}\n    cap: {by: item.a, max: 1}\n",
            "has scope: list, which has no kind",
            6,
            12,
            id="match-on-list",
        ),
        pytest.param(
            "    scope: list\n    cap: {by: item.a, max: 1}\n    effect: allow\n",
            "effect: allow, which keeps them",
            7,
            13,
            id="cap-allow",
        ),
        pytest.param(
            "    scope: list\n    cap: {by: item.a, max: 1}\n    effect: redact\n",
            "effect: redact, which keeps them",
            7,
            13,
            id="cap-redact",
        ),
    ],
)
def test_what_a_scope_would_ignore_is_a_load_error(
    rule: str, needle: str, line: int, column: int
) -> None:
    with pytest.raises(PolicyError, match=needle) as info:
        parse(HEAD + rule, file="p.yaml")
    assert (info.value.line, info.value.column) == (line, column)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param("    scope: list\n    cap: {by: item.a, max: 1}\n", id="cap-deny"),
        pytest.param(
            "    scope: list\n    cap: {by: item.a, max: 1}\n    effect: escalate\n",
            id="cap-escalate",
        ),
        pytest.param("    match: {kind: a}\n    when: params.x == 1\n", id="match-on-action"),
    ],
)
def test_scopes_used_as_documented_still_load(rule: str) -> None:
    assert parse(HEAD + rule).rules[0].id == "r"


CASES = textwrap.dedent(
    """\
    cases:
      - note: allowed
        action: {kind: k}
        expect: {verdict: allow}
    """
)


@pytest.mark.parametrize(
    "suffix", [pytest.param(".yaml", id="yaml"), pytest.param(".yml", id="yml")]
)
def test_a_test_file_may_end_in_yml_like_the_packs(tmp_path: Path, suffix: str) -> None:
    (tmp_path / f"a{suffix}").write_text("name: a\nversion: 1\n", encoding="utf-8")
    (tmp_path / "a.test.yml").write_text(CASES, encoding="utf-8")
    [pack] = load(tmp_path)
    assert pack.test_file == tmp_path / "a.test.yml"


def test_a_test_file_named_as_the_pack_says_which_pack(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nversion: 1\n", encoding="utf-8")
    (tmp_path / "a.test.yaml").write_text(CASES, encoding="utf-8")
    with pytest.raises(PolicyError, match="is a test file; give its pack") as info:
        resolve(tmp_path / "a.test.yaml")
    assert str(tmp_path / "a.yaml") in str(info.value)
