"""Sweep 14: mistakes a new pack author makes, refused at load with their exact place."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Guard, PolicyError
from guard.policy import parse, run_tests

HEAD = "name: t\nversion: 1\nrules:\n  - id: r\n"


def _error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse(text, file="t.yaml")
    return info.value


# -- message templates: the error points at the offending placeholder or brace ---------


@pytest.mark.parametrize(
    ("message", "column", "needle"),
    [
        # the column of the stray brace, not of the message's first character
        pytest.param('"refund {params.amount} by {actor"', 41, "brace", id="unclosed-brace"),
        pytest.param('"total: {} for {params.a}"', 22, "brace", id="empty-braces"),
        pytest.param('"a {params.x} b }"', 30, "brace", id="lone-closing-brace"),
        pytest.param('"ok {params.a} {params..b}"', 29, "not a field path", id="not-a-path"),
        pytest.param('"ok {params.a} {pii}"', 29, "templates may name", id="unknown-root"),
    ],
)
def test_template_errors_point_at_the_offending_text(
    message: str, column: int, needle: str
) -> None:
    # Each pointed at the message's opening quote (column 14), however long the message.
    err = _error(HEAD + f"    when: true\n    message: {message}\n")
    assert needle in str(err)
    assert (err.line, err.column) == (6, column)


def test_stray_brace_in_a_block_message_points_at_its_line() -> None:
    text = HEAD + "    when: true\n    message: |\n      first {params.a}\n      then {oops\n"
    err = _error(text)
    assert (err.line, err.column) == (8, 12)


# -- kind, actor and tenant are strings: a step into them can never be read ------------


@pytest.mark.parametrize(
    ("when", "column", "path"),
    [
        pytest.param('actor.role == "admin"', 12, "actor.role", id="actor-attribute"),
        pytest.param('true and tenant.id == "acme"', 21, "tenant.id", id="tenant-attribute"),
        pytest.param('kind["name"] == "refund"', 12, 'kind["name"]', id="kind-subscript"),
        pytest.param('actor[0] == "u"', 12, "actor[0]", id="actor-index"),
        pytest.param('get(actor.role, "agent") == "admin"', 16, "actor.role", id="inside-get"),
        pytest.param("has(tenant.plan)", 16, "tenant.plan", id="inside-has"),
    ],
)
def test_a_field_of_kind_actor_or_tenant_is_a_load_error(when: str, column: int, path: str) -> None:
    # These loaded; on every action the path was missing, so the rule took on_error
    # (deny by default) for all traffic, or has()/get() silently never saw a value.
    err = _error(HEAD + f"    when: '{when}'\n")
    assert path in str(err) and "string" in str(err)
    assert (err.line, err.column) == (5, column)


def test_a_field_of_actor_in_an_item_rule_is_a_load_error() -> None:
    err = _error(HEAD + "    scope: item\n    when: 'actor.team == \"x\"'\n")
    assert "actor.team" in str(err) and (err.line, err.column) == (6, 12)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param('"by {actor.name}"', id="actor"),
        pytest.param('"for {tenant[plan]}"', id="tenant"),
        pytest.param('"a {kind.x}"', id="kind"),
    ],
)
def test_a_placeholder_into_kind_actor_or_tenant_is_a_load_error(message: str) -> None:
    # It could only ever be written <missing>.
    err = _error(HEAD + f"    when: true\n    message: {message}\n")
    assert "string" in str(err) and "<missing>" in str(err) and err.line == 6


@pytest.mark.parametrize(
    "when",
    [
        pytest.param('actor == "u1" and str(actor) != "x"', id="bare-names"),
        pytest.param("any(p.actor.id == 1 for p in params.people)", id="loop-variable-key"),
        pytest.param('params.actor.role == "admin"', id="a-key-named-actor"),
        pytest.param('context.tenant.plan == "free"', id="context-tenant"),
    ],
)
def test_reading_kind_actor_and_tenant_themselves_still_loads(when: str) -> None:
    pack = parse(HEAD + f"    when: '{when}'\n")
    assert [r.id for r in pack.rules] == ["r"]


def test_actor_placeholder_is_filled() -> None:
    pack = parse(HEAD + "    when: true\n    message: 'by {actor} in {tenant} ({kind})'\n")
    decision = Guard([pack]).check({"kind": "k", "actor": "u1", "tenant": "acme"})
    assert decision.hits[0].message == "by u1 in acme (k)"


# -- a number out of range is not text to quote -----------------------------------------

LIST = "    scope: list\n    cap: {by: item.agency_id, max: "


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(LIST + "-1}\n", id="cap-negative"),
        pytest.param(LIST + "1.5}\n", id="cap-fraction"),
        pytest.param(LIST + "true}\n", id="cap-bool"),
    ],
)
def test_a_bad_number_gets_no_advice_to_quote_it(rule: str) -> None:
    # The error said: quote it ("-1") where text is meant; quoted, max is text, still wrong.
    err = _error(HEAD + rule)
    assert "cap.max" in str(err) and "quote" not in str(err)


def test_a_number_where_text_belongs_still_gets_the_advice() -> None:
    err = _error(HEAD + "    when: true\n    message: 5\n")
    assert 'quote it ("5")' in str(err)


def test_a_test_file_repeat_of_zero_gets_no_advice_to_quote_it(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(HEAD + "    when: true\n")
    (tmp_path / "t.test.yaml").write_text(
        "cases:\n  - note: n\n    action: {kind: k}\n    repeat: 0\n    expect: {verdict: deny}\n"
    )
    with pytest.raises(PolicyError) as info:
        run_tests(tmp_path / "t.yaml")
    assert "repeat" in str(info.value) and "quote" not in str(info.value)


# -- a rule's shape errors point at the field at fault, not at the rule -----------------


@pytest.mark.parametrize(
    ("rule", "line", "column", "needle"),
    [
        pytest.param(
            "    scope: item\n    when: true\n    effect: redact\n    redact: [params.card]\n",
            8,
            13,
            "start with item.",
            id="item-rule-redacts-params",
        ),
        pytest.param(
            "    when: true\n    effect: redact\n    redact: [params.a, context.x]\n",
            7,
            13,
            "context.x",
            id="action-rule-redacts-context",
        ),
        pytest.param(
            "    when: true\n    effect: redact\n    redact: [kind]\n",
            7,
            13,
            "cannot be redacted",
            id="redacts-kind",
        ),
        pytest.param(
            "    scope: list\n    when: true\n    cap: {by: item.a, max: 1}\n",
            6,
            11,
            "takes no `when`",
            id="list-rule-with-when",
        ),
        pytest.param(
            "    scope: item\n    when: true\n    cap: {by: item.a, max: 1}\n",
            7,
            10,
            "only allowed on scope: list",
            id="cap-on-item-rule",
        ),
        pytest.param(
            "    when: true\n    cap: {by: item.a, max: 1}\n",
            6,
            10,
            "only allowed on scope: list",
            id="cap-on-action-rule",
        ),
    ],
)
def test_rule_shape_errors_point_at_the_field(
    rule: str, line: int, column: int, needle: str
) -> None:
    # Each pointed at the rule's first key (4:5) and repeated the whole rule as a dict.
    err = _error(HEAD + rule)
    assert needle in str(err) and "'id': 'r'" not in str(err)
    assert (err.line, err.column) == (line, column), str(err)


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        pytest.param("    scope: list\n", "needs `cap`", id="list-rule-without-cap"),
        pytest.param("    effect: deny\n", "needs a `when`", id="rule-without-when"),
    ],
)
def test_a_missing_field_is_still_named_at_the_rule(rule: str, needle: str) -> None:
    err = _error(HEAD + rule)
    assert needle in str(err) and (err.line, err.column) == (4, 5)


def test_a_condition_cut_by_a_yaml_comment_says_so() -> None:
    # YAML ends a plain scalar at " #": the condition became `... ["drop table", "` and the
    # error spoke only of an unterminated string.
    err = _error(HEAD + '    when: contains_any(params.s, ["drop table", " #evil"])\n')
    assert "comment" in str(err) and "quote the whole condition" in str(err)
    assert err.line == 5


def test_a_syntax_error_without_a_comment_gets_no_comment_hint() -> None:
    err = _error(HEAD + "    when: params.a ==\n")
    assert "comment" not in str(err)
