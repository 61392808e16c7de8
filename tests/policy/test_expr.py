"""Table tests of the condition language: operators, errors, positions, evidence."""

from __future__ import annotations

import ast
import builtins
import types
from pathlib import Path
from typing import Any

import pytest

from guard._exceptions import (
    EvaluationError,
    ExpressionError,
    GuardError,
    MissingField,
    PiiUnavailable,
)
from guard._models import PiiFinding
from guard.policy._expr import (
    MAX_ITERATIONS,
    MAX_SOURCE_CHARS,
    SCOPE_NAMES,
    compile_expr,
)
from guard.policy._functions import DEFAULT_FUNCTIONS, PiiView


def make_env() -> dict[str, Any]:
    return {
        "kind": "send_message",
        "actor": "u1",
        "tenant": "t1",
        "action": {"kind": "send_message", "actor": "u1"},
        "params": {
            "amount": 700,
            "message": "Mail me at jo@example.com",
            "tags": ["a", "b"],
            "nested": {"deep": {"x": 1}},
            "lines": [{"text": "hi"}, {"text": "yo"}],
            "nums": [1, 5, 9],
            "zero": 0,
            "none": None,
            "flag": True,
            "ratio": 0.5,
            "url": "https://Shop.Example.com/x",
            "_private": "p",
        },
        "context": {"role": "agent", "has_contract": False, "limit": 4},
        "items": [
            {"id": 1, "status": "ok", "agency_id": "a"},
            {"id": 2, "status": "suspended", "agency_id": "b"},
        ],
        "item": {"id": 1, "status": "ok", "tags": ["new"]},
        "score": 0.75,
        "pii": PiiView(
            [
                PiiFinding(
                    entity_type="EMAIL_ADDRESS",
                    field="params.message",
                    start=11,
                    end=25,
                    score=0.9,
                )
            ],
            frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"}),
        ),
    }


def run(source: str, env: dict[str, Any] | None = None) -> Any:
    return compile_expr(source).evaluate(make_env() if env is None else env)


# ---------------------------------------------------------------------------------------
# Operators and literals.

OPERATORS = [
    # equality
    pytest.param('kind == "send_message"', True, id="eq-str"),
    pytest.param('kind == "send_messages"', False, id="eq-str-near-miss"),
    pytest.param('kind == "Send_Message"', False, id="eq-case-sensitive"),
    pytest.param("params.amount == 700.0", True, id="eq-int-float"),
    pytest.param('params.amount == "700"', False, id="eq-int-vs-str"),
    pytest.param("params.tags == ['a', 'b']", True, id="eq-list"),
    pytest.param("params.tags == ('a', 'b')", True, id="eq-tuple-is-list"),
    pytest.param("params.nested == {'deep': {'x': 1}}", True, id="eq-object"),
    pytest.param('context.role != "admin"', True, id="ne"),
    pytest.param('context.role != "agent"', False, id="ne-near-miss"),
    # ordering, with boundaries
    pytest.param("params.amount > 500", True, id="gt"),
    pytest.param("params.amount > 700", False, id="gt-boundary"),
    pytest.param("params.amount >= 700", True, id="ge-boundary"),
    pytest.param("params.amount >= 700.5", False, id="ge-near-miss"),
    pytest.param("params.amount < 700", False, id="lt-boundary"),
    pytest.param("params.amount < 701", True, id="lt"),
    pytest.param("params.amount <= 700", True, id="le-boundary"),
    pytest.param("params.amount <= 699", False, id="le-near-miss"),
    pytest.param('"apple" < "banana"', True, id="lt-strings"),
    pytest.param("0 < params.ratio < 1", True, id="chain"),
    pytest.param("0 < params.ratio < 0.4", False, id="chain-second-fails"),
    pytest.param("1 < 0 < params.message", False, id="chain-short-circuits"),
    pytest.param("params.amount > context.limit", True, id="gt-two-paths"),
    # membership
    pytest.param('context.role in ["finance", "admin"]', False, id="in-list-miss"),
    pytest.param('context.role in ["finance", "agent"]', True, id="in-list"),
    pytest.param('context.role not in ["finance", "admin"]', True, id="not-in-list"),
    pytest.param('context.role not in ("agent",)', False, id="not-in-tuple"),
    pytest.param('context.role in {"agent", "x"}', True, id="in-set"),
    pytest.param('"Mail" in params.message', True, id="in-substring"),
    pytest.param('"mail" in params.message', False, id="in-substring-case"),
    pytest.param('"a" in params.tags', True, id="in-path-list"),
    pytest.param('"c" in params.tags', False, id="in-path-list-miss"),
    pytest.param('"amount" in params', True, id="in-object-keys"),
    pytest.param('"amounts" in params', False, id="in-object-keys-miss"),
    pytest.param("params.tags in [['a', 'b'], 1]", True, id="in-unhashable-member"),
    pytest.param("params.nested in [1, 2]", False, id="in-unhashable-miss"),
    pytest.param("1 in [true]", False, id="in-bool-is-not-number"),
    pytest.param("true in [1, 2]", False, id="in-number-is-not-bool"),
    pytest.param("true in [1, true]", True, id="in-bool-member"),
    pytest.param("1.0 in [1]", True, id="in-int-float"),
    pytest.param("params.flag == 1", False, id="eq-bool-number"),
    pytest.param("params.flag != 1", True, id="ne-bool-number"),
    pytest.param("params.flag == true", True, id="eq-bool"),
    pytest.param("params.flag in params.tags", False, id="in-field-bool"),
    pytest.param("params.amount in {'a': 1}", False, id="in-dict-literal"),
    pytest.param('context.role in [kind, "agent"]', True, id="in-dynamic-list"),
    # identity with None only
    pytest.param("params.none is None", True, id="is-none"),
    pytest.param("params.zero is None", False, id="is-none-zero"),
    pytest.param("params.none is null", True, id="is-null-alias"),
    pytest.param("params.zero is not None", True, id="is-not-none"),
    pytest.param("params.none is not None", False, id="is-not-none-miss"),
    # boolean operators always return booleans
    pytest.param("params.amount and params.message", True, id="and-returns-bool"),
    pytest.param("params.zero and params.message", False, id="and-short"),
    pytest.param("params.zero or params.none", False, id="or-returns-bool"),
    pytest.param("params.zero or params.message", True, id="or"),
    pytest.param("params.flag and params.amount and params.message", True, id="and3"),
    pytest.param("params.zero or params.none or params.tags", True, id="or3"),
    pytest.param("params.flag and 1 and 2 and params.zero", False, id="and4"),
    pytest.param("not params.tags", False, id="not"),
    pytest.param("not params.zero", True, id="not-falsy"),
    pytest.param("not not params.message", True, id="not-not"),
    pytest.param("params.zero or not params.flag or kind == 'x'", False, id="or-not"),
    # arithmetic
    pytest.param("params.amount + 1", 701, id="add"),
    pytest.param("params.amount - 1", 699, id="sub"),
    pytest.param("params.amount * 2", 1400, id="mul"),
    pytest.param("params.amount / 7", 100.0, id="div"),
    pytest.param("params.amount // 300", 2, id="floordiv"),
    pytest.param("params.amount % 300", 100, id="mod"),
    pytest.param("1 + 2 * 3", 7, id="precedence"),
    pytest.param("(1 + 2) * 3", 9, id="parentheses"),
    pytest.param("-params.amount", -700, id="neg"),
    pytest.param("+params.ratio", 0.5, id="pos"),
    pytest.param("-3", -3, id="neg-literal"),
    pytest.param("params.ratio * 2 == 1", True, id="float-mul"),
    pytest.param("'ab' + 'cd'", "abcd", id="concat-str"),
    pytest.param("params.tags + ['c']", ["a", "b", "c"], id="concat-list"),
    pytest.param("'ab' * 2", "abab", id="repeat-str"),
    pytest.param("2 * [0]", [0, 0], id="repeat-list"),
    pytest.param("'ab' * -1", "", id="repeat-negative"),
    pytest.param("len([[0] * 100] * 100)", 100, id="repeat-nested-small"),
    # conditional expression
    pytest.param("'big' if params.amount > 500 else 'small'", "big", id="ifexp"),
    pytest.param("'big' if params.amount > 5000 else 'small'", "small", id="ifexp-else"),
    pytest.param("params.missing if false else 1", 1, id="ifexp-lazy"),
    # literals
    pytest.param("true", True, id="true"),
    pytest.param("false", False, id="false"),
    pytest.param("null", None, id="null"),
    pytest.param("True", True, id="True"),
    pytest.param("None", None, id="None"),
    pytest.param("1.5e3", 1500.0, id="float"),
    pytest.param("[1, 'a', null]", [1, "a", None], id="list"),
    pytest.param("(1, 2)", [1, 2], id="tuple-is-list"),
    pytest.param("{'a': params.amount}", {"a": 700}, id="object"),
    pytest.param("{1, 2} == {2, 1}", True, id="set"),
    pytest.param("[]", [], id="empty-list"),
    # field access
    pytest.param("params.nested.deep.x", 1, id="deep-path"),
    pytest.param("params['amount']", 700, id="subscript-str"),
    pytest.param("params['_private']", "p", id="subscript-underscore-key"),
    pytest.param("params.tags[0]", "a", id="index"),
    pytest.param("params.tags[-1]", "b", id="index-negative"),
    pytest.param("params.lines[1].text", "yo", id="index-then-field"),
    pytest.param("params.nested[context.role if false else 'deep'].x", 1, id="dynamic-key"),
    pytest.param("params.tags[params.zero]", "a", id="dynamic-index"),
    pytest.param("{'a': {'b': 2}}.a.b", 2, id="access-on-literal"),
    pytest.param("get(params.nested, {}).deep.x", 1, id="access-on-call"),
    pytest.param("action.kind", "send_message", id="action"),
    pytest.param("score > 0.5", True, id="score"),
    pytest.param("item.status", "ok", id="item"),
    # generators inside any()/all()
    pytest.param('any(x.status == "suspended" for x in items)', True, id="any-gen"),
    pytest.param('any(x.status == "banned" for x in items)', False, id="any-gen-miss"),
    pytest.param('all(x.status == "ok" for x in items)', False, id="all-gen"),
    pytest.param("all(x.id > 0 for x in items)", True, id="all-gen-true"),
    pytest.param("any(x > 4 for x in params.nums if x < 6)", True, id="any-gen-if"),
    pytest.param("any(x > 4 for x in params.nums if x < 5)", False, id="any-gen-if-filters"),
    pytest.param("all(x > 100 for x in params.nums if x > 100)", True, id="all-gen-empty"),
    pytest.param("any(x > context.limit for x in params.nums)", True, id="gen-uses-scope"),
    pytest.param("any(k == 'amount' for k in params)", True, id="gen-over-object-keys"),
    pytest.param("any(x for x in [])", False, id="any-empty"),
    pytest.param("any(x for x in params.nums if x > 1 if x < 6)", True, id="gen-two-ifs"),
    pytest.param("any(f.entity_type == 'EMAIL_ADDRESS' for f in pii)", True, id="gen-over-pii"),
    # special forms
    pytest.param("has(params.amount)", True, id="has"),
    pytest.param("has(params.amounts)", False, id="has-miss"),
    pytest.param("has(params.nested.deep.x)", True, id="has-deep"),
    pytest.param("has(params.nested.deep.y)", False, id="has-deep-miss"),
    pytest.param("has(params.amount.x)", False, id="has-through-number"),
    pytest.param("has(params.tags[1])", True, id="has-index"),
    pytest.param("has(params.tags[2])", False, id="has-index-miss"),
    pytest.param("has(rationale)", False, id="has-absent-scope"),
    pytest.param("has(rationale.x)", False, id="has-absent-scope-path"),
    pytest.param("any(has(x.agency_id) for x in items)", True, id="has-loop-var"),
    pytest.param("get(params.amount, 0)", 700, id="get"),
    pytest.param("get(params.amounts, 0)", 0, id="get-default"),
    pytest.param("get(params.none, 0)", None, id="get-present-null"),
    pytest.param("get(rationale.best, 'none')", "none", id="get-absent-scope"),
    pytest.param("get(params.x, params.amount + 1)", 701, id="get-default-expr"),
    pytest.param("get(params.amount, params.missing)", 700, id="get-default-lazy"),
]


@pytest.mark.parametrize(("source", "expected"), OPERATORS)
def test_operators(source: str, expected: Any) -> None:
    value = run(source)
    assert value == expected
    assert type(value) is type(expected)


def test_condition_from_the_design() -> None:
    expr = compile_expr('params.amount > 500 and context.role not in ["finance", "admin"]')
    assert expr.evaluate({"params": {"amount": 700}, "context": {"role": "agent"}}) is True
    assert expr.evaluate({"params": {"amount": 700}, "context": {"role": "admin"}}) is False
    assert expr.evaluate({"params": {"amount": 500}, "context": {"role": "agent"}}) is False


def test_multiline_condition_from_a_yaml_block() -> None:
    source = "params.amount > 500  # large payments\nand context.role != 'finance'\n"
    expr = compile_expr(source)
    assert expr.evaluate(make_env()) is True
    assert expr.evaluate({**make_env(), "context": {"role": "finance"}}) is False


def test_comment_does_not_swallow_the_next_line() -> None:
    expr = compile_expr("params.zero # comment\nor params.flag")
    assert expr.evaluate(make_env()) is True


def test_env_may_be_any_mapping() -> None:
    env = types.MappingProxyType({"params": types.MappingProxyType({"amount": 3})})
    assert compile_expr("params.amount + 1").evaluate(env) == 4


def test_literal_lists_are_fresh_on_every_evaluation() -> None:
    expr = compile_expr("[1, 2]")
    first = expr.evaluate({})
    first.append(3)
    assert expr.evaluate({}) == [1, 2]


def test_evaluate_does_not_mutate_env() -> None:
    env = make_env()
    before = repr(env)
    expr = compile_expr("any(x.status == 'ok' for x in items) and len(params.tags) == 2")
    expr.evaluate(env)
    expr.explain(env)
    assert repr(env) == before


# ---------------------------------------------------------------------------------------
# Evaluation errors.

EVALUATION_ERRORS = [
    pytest.param("params.missing", MissingField, "missing field 'params.missing'", id="missing"),
    pytest.param("params.nested.deep.y", MissingField, "'params.nested.deep.y'", id="missing-deep"),
    pytest.param(
        "params.amount.value", MissingField, "'params.amount' is number 700", id="through-number"
    ),
    pytest.param("params.tags.x", MissingField, "is a list", id="field-of-list"),
    pytest.param("params.tags[5]", MissingField, "has 2 items, no index 5", id="index-range"),
    pytest.param("params.tags['a']", MissingField, "indexed by integers", id="list-str-key"),
    pytest.param("params.message[0]", MissingField, "not an object", id="index-string"),
    pytest.param("params[context.role]", MissingField, "(key 'agent')", id="dynamic-key"),
    pytest.param(
        "params[params.tags]", EvaluationError, "cannot be used as a field", id="list-key"
    ),
    pytest.param("rationale.best", MissingField, "no 'rationale' in this scope", id="absent-scope"),
    pytest.param("attribution", MissingField, "no 'attribution' in this scope", id="absent-name"),
    pytest.param('"a" < 3', EvaluationError, "cannot compare string 'a' < number 3", id="lt-types"),
    pytest.param("params.flag + 1", EvaluationError, "cannot compute boolean", id="bool-plus"),
    pytest.param("params.flag > 0", EvaluationError, "cannot compare boolean", id="bool-gt"),
    pytest.param("params.flag <= 10", EvaluationError, "cannot compare boolean", id="bool-le"),
    pytest.param("params.amount > true", EvaluationError, "cannot compare", id="gt-bool"),
    pytest.param("-params.flag", EvaluationError, "unary -", id="neg-bool"),
    pytest.param("params.flag < params.amount", EvaluationError, "cannot compare", id="bool-lt"),
    pytest.param("params.none > 1", EvaluationError, "cannot compare null > number", id="none-gt"),
    pytest.param("params.tags >= 1", EvaluationError, "cannot compare", id="ge-types"),
    pytest.param("params.nested < params.nested", EvaluationError, "cannot compare", id="objects"),
    pytest.param("1 < params.amount < 'x'", EvaluationError, "cannot compare", id="chain-types"),
    pytest.param("1 in params.message", EvaluationError, "in string", id="in-types"),
    pytest.param("1 in params.amount", EvaluationError, "cannot check", id="in-number"),
    pytest.param("1 in 5", EvaluationError, "cannot check", id="in-literal-number"),
    pytest.param("params.tags in 'abc'", EvaluationError, "cannot check", id="in-literal-str"),
    pytest.param("1 / params.zero", EvaluationError, "division by zero", id="div-zero"),
    pytest.param("1 // params.zero", EvaluationError, "division", id="floordiv-zero"),
    pytest.param("params.amount % 0", EvaluationError, "modulo by zero", id="mod-zero"),
    pytest.param("params.message - 1", EvaluationError, "cannot compute string", id="sub-str"),
    pytest.param("params.message + 1", EvaluationError, "cannot compute", id="add-mixed"),
    pytest.param("params.tags + 'x'", EvaluationError, "cannot compute", id="add-list-str"),
    pytest.param("params.message % 3", EvaluationError, "cannot compute", id="str-format"),
    pytest.param("params.message * 1.5", EvaluationError, "cannot compute", id="mul-str-float"),
    pytest.param("'a' * true", EvaluationError, "cannot compute", id="mul-str-bool"),
    pytest.param("params.nested * 2", EvaluationError, "cannot compute", id="mul-object"),
    pytest.param('"a" * 1000000000', EvaluationError, "more than 100000", id="mul-str-huge"),
    pytest.param("[0] * 100001", EvaluationError, "more than 100000", id="mul-list-huge"),
    pytest.param("[[0] * 1000] * 1000", EvaluationError, "more than", id="mul-nested-huge"),
    pytest.param("['a' * 1000] * 1000", EvaluationError, "more than", id="mul-strings-huge"),
    pytest.param("['a' * 60000] + ['b' * 60000]", EvaluationError, "more than", id="add-huge"),
    pytest.param("-params.message", EvaluationError, "unary -", id="neg-str"),
    pytest.param("+params.tags", EvaluationError, "unary +", id="pos-list"),
    pytest.param("{params.tags: 1}", EvaluationError, "cannot be keys", id="object-list-key"),
    pytest.param("{params.tags}", EvaluationError, "cannot be set members", id="set-of-list"),
    pytest.param("any(x for x in params.amount)", EvaluationError, "list or object", id="gen-num"),
    pytest.param("all(x for x in params.message)", EvaluationError, "list or object", id="gen-str"),
    pytest.param("pii.any('PERSON')", PiiUnavailable, "'PERSON'", id="pii-not-scanned"),
]


@pytest.mark.parametrize(("source", "error", "fragment"), EVALUATION_ERRORS)
def test_evaluation_errors(source: str, error: type[Exception], fragment: str) -> None:
    expr = compile_expr(source)
    with pytest.raises(error) as caught:
        expr.evaluate(make_env())
    assert fragment in str(caught.value)
    with pytest.raises(error):
        expr.explain(make_env())


def test_generator_iteration_is_bounded() -> None:
    expr = compile_expr("any(x < 0 for x in params.nums)")
    ok = {"params": {"nums": list(range(MAX_ITERATIONS))}}
    assert expr.evaluate(ok) is False
    too_many = {"params": {"nums": list(range(MAX_ITERATIONS + 1))}}
    with pytest.raises(EvaluationError, match="limit is 10000"):
        expr.evaluate(too_many)


def test_huge_integer_products_are_refused() -> None:
    expr = compile_expr("params.big * params.big * params.big")
    with pytest.raises(EvaluationError, match="larger than"):
        expr.evaluate({"params": {"big": 2**30000}})


def test_float_overflow_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError):
        compile_expr("params.big / 3").evaluate({"params": {"big": 10**400}})


def test_env_that_is_not_a_mapping_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError):
        compile_expr("params.amount > 1").evaluate(None)  # type: ignore[arg-type]


def test_unexpected_exceptions_are_wrapped_and_guard_errors_pass_through() -> None:
    registry = DEFAULT_FUNCTIONS.copy()

    def boom(value: Any) -> Any:
        raise RuntimeError("kaput")

    def missing(value: Any) -> Any:
        raise MissingField("missing field 'x'")

    registry.register("boom", boom, min_args=1, max_args=1)
    registry.register("missing", missing, min_args=1, max_args=1)
    with pytest.raises(EvaluationError, match=r"boom\(\) failed: RuntimeError: kaput"):
        compile_expr("boom(1)", functions=registry).evaluate({})
    with pytest.raises(MissingField):
        compile_expr("missing(1)", functions=registry).evaluate({})


def test_truthiness_errors_of_foreign_objects_are_wrapped() -> None:
    class Ambiguous:
        def __bool__(self) -> bool:
            raise ValueError("ambiguous")

    with pytest.raises(EvaluationError, match="ambiguous"):
        compile_expr("not score").evaluate({"score": Ambiguous()})


def test_python_objects_in_env_expose_no_attributes() -> None:
    class Secret:
        token = "s3cr3t"

        def __getitem__(self, key: str) -> str:
            return "leaked"

    expr = compile_expr("context.token")
    with pytest.raises(MissingField, match="not an object"):
        expr.evaluate({"context": Secret()})


def test_pii_unavailable_when_no_scan_ran() -> None:
    env = {**make_env(), "pii": None}
    for source in ("pii", "len(pii) > 0", "pii.any()", "pii[0]"):
        with pytest.raises(PiiUnavailable, match="PII detection not available"):
            compile_expr(source).evaluate(env)
    absent = {k: v for k, v in make_env().items() if k != "pii"}
    with pytest.raises(PiiUnavailable):
        compile_expr("pii.any('EMAIL_ADDRESS')").evaluate(absent)


def test_float_refuses_nan_which_no_comparison_would_catch() -> None:
    with pytest.raises(EvaluationError, match="not a finite number"):
        compile_expr("float('nan') > 0").evaluate({})
    assert compile_expr("1 / 4").evaluate({}) == 0.25


# ---------------------------------------------------------------------------------------
# Load errors.

LOAD_ERRORS = [
    pytest.param("", "empty condition", id="empty"),
    pytest.param("   \n  ", "empty condition", id="blank"),
    pytest.param("x" * (MAX_SOURCE_CHARS + 1), "the limit is 2000", id="too-long"),
    pytest.param("params.amount >", "invalid syntax", id="syntax"),
    pytest.param("a = 1", "invalid syntax", id="assignment"),
    pytest.param("import os", "invalid syntax", id="import"),
    pytest.param("x := 1", "invalid syntax", id="walrus-bare"),
    pytest.param("(y := params.amount) > 1", "assignment (:=) is not allowed", id="walrus"),
    pytest.param("lambda: 1", "lambda is not allowed", id="lambda"),
    pytest.param("f'{params}'", "f-string is not allowed", id="f-string"),
    pytest.param("[x for x in items]", "list comprehension is not allowed", id="listcomp"),
    pytest.param("{x for x in items}", "set comprehension", id="setcomp"),
    pytest.param("{x: 1 for x in items}", "dict comprehension", id="dictcomp"),
    pytest.param("(x for x in items)", "generator expression outside", id="bare-generator"),
    pytest.param("sum(x for x in items)", "generator expression outside", id="sum-generator"),
    pytest.param("params[1:2]", "slice is not allowed", id="slice"),
    pytest.param("params[::2]", "slice is not allowed", id="slice-step"),
    pytest.param("params[1, 2]", "one value", id="tuple-index"),
    pytest.param("[*params.tags]", "star unpacking", id="star-list"),
    pytest.param("len(*params.tags)", "star unpacking", id="star-call"),
    pytest.param("{**params}", "** unpacking", id="dict-unpack"),
    pytest.param("len(**params)", "** unpacking", id="call-unpack"),
    pytest.param("len(obj=params)", "keyword argument 'obj'", id="keyword"),
    pytest.param("2 ** 8", "operator ** is not allowed", id="pow"),
    pytest.param("1 & 2", "operator & is not allowed", id="bitand"),
    pytest.param("1 | 2", "operator | is not allowed", id="bitor"),
    pytest.param("1 ^ 2", "operator ^ is not allowed", id="xor"),
    pytest.param("1 << 2", "operator << is not allowed", id="lshift"),
    pytest.param("1 >> 2", "operator >> is not allowed", id="rshift"),
    pytest.param("params @ params", "operator @ is not allowed", id="matmul"),
    pytest.param("~1", "operator ~ is not allowed", id="invert"),
    pytest.param("params is params", "only allowed with None", id="is-other"),
    pytest.param("params.amount is 700", "only allowed with None", id="is-int"),
    pytest.param("params.x is not true", "only allowed with None", id="is-not-true"),
    pytest.param("b'x' == params", "bytes literals are not allowed", id="bytes"),
    pytest.param("1j", "complex literals are not allowed", id="complex"),
    pytest.param("...", "ellipsis literals are not allowed", id="ellipsis"),
    pytest.param("foo", "unknown name 'foo'", id="unknown-name"),
    pytest.param("Params.amount", "unknown name 'Params'", id="name-case"),
    pytest.param("itemz.x", "names in scope: action, actor", id="near-miss-name"),
    pytest.param("__builtins__", "names starting with '_'", id="builtins"),
    pytest.param("_x", "names starting with '_'", id="underscore-name"),
    pytest.param("len", "can only be called", id="bare-function"),
    pytest.param("params._x", "field names starting with '_'", id="underscore-field"),
    pytest.param("params.__class__", "field names starting with '_'", id="dunder-field"),
    pytest.param("pii.entities", "pii has no fields", id="pii-field"),
    pytest.param("pii.any", "pii has no fields", id="pii-function-uncalled"),
    pytest.param("eval('1')", "unknown function 'eval'", id="eval"),
    pytest.param("lenn(params.tags)", "registered functions: abs, all, any", id="unknown-func"),
    pytest.param("params.items()", "method calls are not allowed", id="method"),
    pytest.param("params.message.lower()", "method calls are not allowed", id="str-method"),
    pytest.param("pii.all('X')", "method calls are not allowed", id="unknown-pii-fn"),
    pytest.param("'a'.upper()", "only registered functions can be called", id="literal-method"),
    pytest.param("len(params)(1)", "only registered functions", id="call-result"),
    pytest.param("len()", "len() takes exactly 1 argument(s), got 0", id="arity-low"),
    pytest.param("len(1, 2)", "len() takes exactly 1 argument(s), got 2", id="arity-high"),
    pytest.param("round(1, 2, 3)", "round() takes 1 to 2 argument(s)", id="arity-range"),
    pytest.param("min()", "at least 1", id="arity-min"),
    pytest.param("has(params.a, 1)", "has() takes exactly 1", id="has-arity"),
    pytest.param("get(params.a)", "get() takes exactly 2", id="get-arity"),
    pytest.param("has(len(params))", "needs a field path", id="has-non-path"),
    pytest.param("get('a', 1)", "needs a field path", id="get-non-path"),
    pytest.param("matches(params.message, params.pattern)", "must be a literal", id="re-literal"),
    pytest.param("matches(params.message, '(')", "invalid RE2 pattern", id="re-invalid"),
    pytest.param(r"matches(params.message, '(a)\\1')", "invalid RE2 pattern", id="re-backref"),
    pytest.param("matches(params.message, 3)", "must be a string literal", id="re-not-str"),
    pytest.param("any(x for x in items for y in x)", "only one 'for'", id="gen-two-fors"),
    pytest.param("any(x for x, y in items)", "plain name", id="gen-unpack"),
    pytest.param("any(item for item in items)", "must not start with '_' or reuse", id="gen-scope"),
    pytest.param("any(_x for _x in items)", "must not start with '_'", id="gen-underscore"),
    pytest.param("any(len for len in items)", "reuse a scope, function", id="gen-fn-name"),
    pytest.param("any(true for true in items)", "reuse", id="gen-alias"),
    pytest.param("any(any(y for y in x) for x in items)", "nested generator", id="gen-nested"),
    pytest.param("any((x for x in items), 1)", "exactly one argument", id="gen-extra-arg"),
    pytest.param("x.status == 'a'", "unknown name 'x'", id="loop-var-outside"),
    pytest.param("any(x for x in x)", "unknown name 'x'", id="loop-var-in-iter"),
    pytest.param("await params", "await is not allowed", id="await"),
    pytest.param("(yield)", "yield", id="yield"),
    pytest.param("-" * 150 + "1", "nested too deeply", id="deep-unary"),
    pytest.param("(" * 500 + "1" + ")" * 500, "too many nested parentheses", id="deep-parens"),
    pytest.param("a) or (b\nand c", "unbalanced parentheses", id="borrowed-parens"),
    pytest.param("\x00", "null bytes", id="null-byte"),
]


@pytest.mark.parametrize(("source", "fragment"), LOAD_ERRORS)
def test_load_errors(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expr(source, file="policies/p.yaml", line=7, column=11)
    assert fragment in str(caught.value)
    assert caught.value.file == "policies/p.yaml"
    assert caught.value.line is not None and caught.value.line >= 7
    assert caught.value.column is not None and caught.value.column >= 1


def test_load_error_lists_what_is_allowed() -> None:
    with pytest.raises(ExpressionError, match=r"lambda is not allowed.*allowed: and, or, not"):
        compile_expr("lambda: 1")


def test_load_error_message_names_file_line_and_column() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expr("params.amount > 500 and foo", file="p.yaml", line=12, column=11)
    assert str(caught.value).endswith("in 'foo' (p.yaml:12:35)")
    assert caught.value.code == "expression_invalid"


def test_non_string_condition_is_a_load_error() -> None:
    with pytest.raises(ExpressionError, match="must be a string, got bool"):
        compile_expr(True)  # type: ignore[arg-type]


def test_custom_registry_limits_the_functions() -> None:
    from guard.policy._functions import FunctionRegistry

    with pytest.raises(ExpressionError, match="unknown function 'len'"):
        compile_expr("len(params) > 1", functions=FunctionRegistry())
    # special forms do not depend on the registry
    assert compile_expr("has(params.a)", functions=FunctionRegistry()).evaluate(make_env()) is False


# ---------------------------------------------------------------------------------------
# Positions.

POSITIONS = [
    pytest.param("params.amount > 500 and foo", 12, 11, 12, 35, id="first-line-offset"),
    pytest.param("foo", None, None, 1, 1, id="no-offset"),
    pytest.param("params.amount >\n500 and\n  bar", 3, 9, 5, 3, id="third-line"),
    pytest.param("'é' == foo", None, None, 1, 8, id="unicode-characters-not-bytes"),
    pytest.param("'日本' == foo", 1, 5, 1, 13, id="cjk"),
    pytest.param("params.amount > > 3", 5, 3, 5, 19, id="syntax-column"),
    pytest.param("len(x=1)", 2, 1, 2, 5, id="keyword-position"),
    pytest.param("params.amount ** 2", 4, 2, 4, 2, id="binop-position"),
    pytest.param("params.ok and\n  params.__class__", 10, 3, 11, 3, id="dunder-second-line"),
    pytest.param('"unterminated', 4, 2, 4, 2, id="unterminated-string"),
    pytest.param("params.a and (\n  params.b or\n  eval(1))", 20, 5, 22, 3, id="call-third-line"),
]


@pytest.mark.parametrize(("source", "line", "column", "want_line", "want_column"), POSITIONS)
def test_error_positions(
    source: str, line: int | None, column: int | None, want_line: int, want_column: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expr(source, file="f.yaml", line=line, column=column)
    assert (caught.value.line, caught.value.column) == (want_line, want_column)


# ---------------------------------------------------------------------------------------
# Evidence.

EVIDENCE = [
    pytest.param(
        'params.amount > 500 and context.role not in ["finance", "admin"]',
        True,
        {"params.amount": 700, "context.role": "agent"},
        id="design-example",
    ),
    pytest.param(
        "context.has_contract and params.amount > 5",
        False,
        {"context.has_contract": False},
        id="and-short-circuit",
    ),
    pytest.param(
        "params.flag or params.amount > 5",
        True,
        {"params.flag": True},
        id="or-short-circuit",
    ),
    pytest.param(
        "'x' if params.zero else params.lines[1].text",
        "yo",
        {"params.zero": 0, "params.lines[1].text": "yo"},
        id="ifexp-branch",
    ),
    pytest.param(
        "len(params.message) > 10",
        True,
        {"params.message": "Mail me at jo@example.com", "len(params.message)": 25},
        id="call",
    ),
    pytest.param(
        "domain(params.url) == 'shop.example.com'",
        True,
        {"params.url": "https://Shop.Example.com/x", "domain(params.url)": "shop.example.com"},
        id="domain",
    ),
    pytest.param(
        'any(x.status == "suspended" for x in items)',
        True,
        {
            "items": make_env()["items"],
            'any(x.status == "suspended" for x in items)': True,
        },
        id="generator-no-loop-vars",
    ),
    pytest.param(
        "any(x > context.limit for x in params.nums)",
        True,
        {
            "params.nums": [1, 5, 9],
            "context.limit": 4,
            "any(x > context.limit for x in params.nums)": True,
        },
        id="generator-scope-paths",
    ),
    pytest.param(
        'pii.any("EMAIL_ADDRESS") and not context.has_contract',
        True,
        {'pii.any("EMAIL_ADDRESS")': True, "context.has_contract": False},
        id="pii-call",
    ),
    pytest.param(
        "has(params.x) or get(params.amount, 0) > 1",
        True,
        {"has(params.x)": False, "get(params.amount, 0)": 700},
        id="special-forms-record-the-call",
    ),
    pytest.param("kind", "send_message", {"kind": "send_message"}, id="bare-name"),
    pytest.param("1 + 2 > 0", True, {}, id="no-paths"),
    pytest.param(
        "params['amount'] > 1",
        True,
        {"params['amount']": 700},
        id="subscript-path",
    ),
    pytest.param(
        "params.amount > 1 and params.amount < 1000",
        True,
        {"params.amount": 700},
        id="repeated-path-one-key",
    ),
]


@pytest.mark.parametrize(("source", "value", "evidence"), EVIDENCE)
def test_evidence(source: str, value: Any, evidence: dict[str, Any]) -> None:
    expr = compile_expr(source)
    got_value, got_evidence = expr.explain(make_env())
    assert got_value == value
    assert expr.evaluate(make_env()) == value
    assert got_evidence == evidence


def test_evidence_is_attached_to_errors() -> None:
    expr = compile_expr("context.role == 'agent' and params.missing > 1")
    with pytest.raises(MissingField) as caught:
        expr.explain(make_env())
    assert caught.value.evidence == {"context.role": "agent"}  # type: ignore[attr-defined]


def test_evidence_key_of_a_multiline_call_is_one_line() -> None:
    expr = compile_expr("len(\n  params.tags\n) == 2")
    _, evidence = expr.explain(make_env())
    assert "len( params.tags )" in evidence


# ---------------------------------------------------------------------------------------
# What a condition uses.


def test_names_functions_and_paths_used() -> None:
    expr = compile_expr(
        "params.amount > 500 and context.role not in ['a'] and len(params.message) > 1"
        " and pii.any('EMAIL_ADDRESS') and has(item.x.y) and params.lines[0].text == ''"
        " and any(x.a for x in items) and rate(actor, 60) < 5 and matches(kind, 'a')"
    )
    assert expr.names_used == frozenset(
        {"params", "context", "pii", "item", "items", "actor", "kind"}
    )
    assert expr.functions_used == frozenset({"len", "pii.any", "has", "any", "rate", "matches"})
    assert expr.paths_used == frozenset(
        {
            "params.amount",
            "context.role",
            "params.message",
            "item.x.y",
            "params.lines",
            "items",
            "actor",
            "kind",
        }
    )
    assert expr.names_used <= SCOPE_NAMES
    assert expr.source.startswith("params.amount")
    assert "params.amount" in repr(expr)


def test_paths_used_stop_at_non_identifier_keys() -> None:
    expr = compile_expr("params['a b'].c == 1 and params['x'].y == 2")
    assert expr.paths_used == frozenset({"params", "params.x.y"})


# ---------------------------------------------------------------------------------------
# The compiler never runs text.


def test_compile_and_evaluate_never_call_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    expr = compile_expr("params.amount * 2 > 1000 and any(x > 4 for x in params.nums)")
    assert expr.evaluate(make_env()) is True
    assert expr.explain(make_env())[0] is True


def test_modules_never_call_eval_exec_or_compile() -> None:
    policy = Path(__file__).resolve().parents[2] / "guard" / "policy"
    for name in ("_expr.py", "_functions.py", "_rate.py"):
        tree = ast.parse((policy / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, name


def test_guard_errors_are_the_only_errors() -> None:
    assert issubclass(ExpressionError, GuardError)
    assert issubclass(MissingField, EvaluationError)


# ---------------------------------------------------------------------------------------
# The fast path inlines short field reads; it must behave exactly like the general path
# (which explain() uses), including every error.

INLINED = [
    'kind == "x"',
    'kind != "x"',
    "kind in ['x', 'y']",
    "kind not in ['x']",
    "kind < 'm'",
    "context.role == 'agent'",
    "context.role not in ['finance', 'admin']",
    "context.role in 'agents'",
    "context.role in [[1], 2]",
    "context.n > 1",
    "context.n >= 1",
    "context.n < 1",
    "context.n <= 1",
    "not context.flag",
    "len(context.role)",
    "lower(context.role)",
]
SHAPES: list[dict[str, Any]] = [
    {},
    {"kind": "x", "context": {"role": "agent", "n": 2, "flag": True}},
    {"kind": ["x"], "context": {"role": ["agent"], "n": "2", "flag": 0}},
    {"kind": None, "context": {"role": None, "n": None, "flag": None}},
    {"kind": {"a": 1}, "context": {"role": {"a": 1}, "n": [1], "flag": []}},
    {"kind": "y", "context": {}},
    {"kind": "y", "context": ["role", "n", "flag"]},
    {"kind": "y", "context": "role"},
    {"kind": "y", "context": None},
    {"kind": "y", "context": types.MappingProxyType({"role": "agent", "n": 0, "flag": 1})},
]


def outcome(call: Any, env: dict[str, Any]) -> tuple[str, Any]:
    try:
        result = call(env)
    except GuardError as exc:
        return (type(exc).__name__, str(exc))
    return ("value", result[0] if isinstance(result, tuple) else result)


@pytest.mark.parametrize("source", INLINED)
def test_inlined_reads_match_the_general_path(source: str) -> None:
    expr = compile_expr(source)
    for env in SHAPES:
        assert outcome(expr.evaluate, env) == outcome(expr.explain, env), (source, env)
