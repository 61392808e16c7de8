"""Sweep 14: random and hostile conditions, written into packs as a pack author writes them.

Each generated condition goes through the whole way in: YAML text, the loader, a Guard.
It must either fail to load with a PolicyError naming its place, or decide every input:
the compiled plan agrees with the exact closures, and a rule that cannot be evaluated hits
with its on_error effect, so an error never lets an action through.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard import Guard, PolicyError, Verdict
from guard._evaluate import RANK, run_rules, verdict_of
from guard.policy import CompiledPack, parse

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

PATHS = [
    "params.amount", "params.s", "params.n", "params.l", "params.d", "params.big",
    "params.url", "params.missing", "params.d.a", "params.l[0]", "params.l[-1]",
    "params[\"content-type\"]", "context.role", "context.x", "actor", "tenant", "kind", "score",
    "action", "params", "context",
]  # fmt: skip
LITERALS = [
    "0", "1", "-1", "500", "9007199254740993", "2.5", "1e308", "-0.0", "true", "false", "null",
    "None", "True", '""', '"a"', '"__class__"', '"{0.__class__}"', '"%s%s%s"', '"\\u0130"',
    '"ß"', '"docs.python.org"', '"http://good.com@evil.com"', "[]", "[1, true]", '{"a": 1}',
    "{1, 2}", '"a" * 99999', "[0] * 99999",
]  # fmt: skip
# Text that must never load: each is outside the language.
HOSTILE = [
    "params.__class__", "params._x", "getattr(params, 'x')", "__import__('os')", "eval('1')",
    "'{}'.format(params)", "params.s.upper()", "(lambda: 1)()", "[x for x in params.l]",
    "9 ** 9", "f'{params}'", "params.s[0:1]", "(x := 1)", "~params.n", "type(params)",
    "params.l.__len__()", "len.__self__", "pii.any.__globals__", "__builtins__", "2 << 64",
    "*params.l", "{**params.d}", "params @ params", "b'x'", "params.s if true",
]  # fmt: skip
FUNCTIONS = [
    "len", "lower", "upper", "abs", "min", "max", "round", "int", "float", "str", "sum",
    "matches", "contains_any", "startswith", "endswith", "domain", "shell_words", "has",
    "get", "rate", "total",
]  # fmt: skip
REGEXES = ['"(a+)+$"', '"(a|aa)*b"', '"^\\\\d{7,}$"', '"(?i)evil"']


def _call(name: str, args: list[str], regex: str) -> str:
    if name == "matches":
        return f"matches({(args or ['params.s'])[0]}, {regex})"
    if name in ("rate", "total"):
        key = (args or ["str(actor)"])[0]
        return f"rate({key}, 60)" if name == "rate" else f"total({key}, {key}, 60)"
    return f"{name}({', '.join(args)})"


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binop = st.sampled_from(["+", "-", "*", "/", "//", "%"])
    cmp = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
    return st.one_of(
        st.tuples(inner, binop, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, cmp, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
        inner.map(lambda e: f"(not {e})"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(
            st.sampled_from(FUNCTIONS), st.lists(inner, max_size=2), st.sampled_from(REGEXES)
        ).map(lambda t: _call(*t)),
        st.tuples(inner, inner).map(lambda t: f"get({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"any(v == {t[1]} for v in {t[0]})"),
        st.tuples(inner, inner).map(lambda t: f"all(v != {t[1]} for v in {t[0]})"),
        st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.tuples(inner, inner).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(inner, st.sampled_from(["[0]", "[-1]", '["a"]', ".a", "[true]"])).map("".join),
        st.sampled_from(HOSTILE),
    )


conditions = st.recursive(st.sampled_from(PATHS + LITERALS), _extend, max_leaves=8)
nasty_text = st.text(
    alphabet=st.sampled_from(list("ab1.(){}[]'\"_:;,+*/%<>=!\\ \n\t\u0130\u00df\uff3f")),
    max_size=40,
)
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 500, 501, 2.5, -0.0, 1e308, 9007199254740991, "", "a",
    "500", "ß", "\u0130", "http://good.com@evil.com", "https:evil.com", "bücher.de:8080",
    "a" * 5000, [], [1, True], ["a", None], {}, {"a": 1}, {"a": {"a": []}}, list(range(2000)),
]  # fmt: skip
KEYS = ["amount", "s", "n", "l", "d", "big", "url", "content-type", "a"]


def _pack(when: str, effect: str, on_error: str) -> str:
    return (
        "name: fuzz\nversion: 1\ndefaults: {verdict: allow, on_error: deny}\nrules:\n"
        f"  - id: r\n    when: {json.dumps(when, ensure_ascii=False)}\n"
        f"    effect: {effect}\n    on_error: {on_error}\n"
        "    message: 'by {actor}: {params.amount}'\n"
    )


def _inputs(seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(6):
        params = {k: rng.choice(VALUES) for k in KEYS if rng.random() < 0.6}
        action = {"kind": rng.choice(["k", "pay"]), "params": params}
        for name in ("actor", "tenant"):
            if rng.random() < 0.7:
                action[name] = rng.choice(["u1", "acme", "a" * 300])
        context = {k: rng.choice(VALUES) for k in ("role", "x", "score") if rng.random() < 0.6}
        out.append((action, context))
    return out


def _decides_safely(text: str, when: str, on_error: str, seed: int) -> None:
    try:
        pack = parse(text, file="fuzz.yaml")
    except PolicyError as exc:  # a load error names the file and a line
        assert exc.file == "fuzz.yaml" and exc.line is not None, (when, str(exc))
        return
    _check_decisions(pack, Verdict(on_error), seed)


def _check_decisions(pack: CompiledPack, on_error: Verdict, seed: int) -> None:
    rule = pack.rules[0]
    guard = Guard([pack])
    for action, context in _inputs(seed):
        env = {"action": action, "kind": action["kind"], "actor": action.get("actor"),
               "tenant": action.get("tenant"), "params": action["params"], "context": context,
               "score": context.get("score"), "pii": None}  # fmt: skip
        rules = pack.action_rules(action["kind"])
        planned = run_rules(rules, dict(env))
        exact = run_rules(tuple(rules), dict(env))
        assert [h.model_dump() for h in planned] == [h.model_dump() for h in exact], action
        decision = guard.check(action, context)
        assert decision.verdict is verdict_of(decision.hits, Verdict.ALLOW)
        json.dumps(decision.model_dump(mode="json"))  # the record is JSON, whatever ran
        for hit in decision.hits:
            if hit.error is not None:  # never allow through an error
                assert hit.effect is on_error
                assert RANK[decision.verdict] >= RANK[on_error]
            else:
                assert hit.effect is rule.effect


@FUZZ
@given(
    conditions,
    st.sampled_from(["deny", "escalate", "redact", "allow"]),
    st.sampled_from(["deny", "escalate", "redact"]),
    st.integers(0, 2**16),
)
def test_random_conditions_load_or_decide_safely(
    when: str, effect: str, on_error: str, seed: int
) -> None:
    _decides_safely(_pack(when, effect, on_error), when, on_error, seed)


@FUZZ
@given(nasty_text, st.integers(0, 2**16))
def test_random_text_as_a_condition_loads_or_decides_safely(when: str, seed: int) -> None:
    _decides_safely(_pack(when, "deny", "escalate"), when, "escalate", seed)


@pytest.mark.parametrize("when", HOSTILE)
def test_hostile_conditions_are_load_errors_at_their_place(when: str) -> None:
    text = _pack(f"params.amount > 1 and {when}", "deny", "deny")
    with pytest.raises(PolicyError) as info:
        parse(text, file="fuzz.yaml")
    assert info.value.file == "fuzz.yaml" and info.value.line == 6
    assert info.value.column is not None and info.value.column >= 11


BOUNDED = [
    pytest.param('len("a" * 999999999) > 0', id="huge-repeat"),
    pytest.param("len([[0] * 99999] * 99999) > 0", id="nested-repeat"),
    pytest.param("len(params.s * 100000) > 0", id="input-repeat"),
    pytest.param('int("9" * 5000) > 0', id="int-of-5000-digits"),
    pytest.param("int(1e308) * int(1e308) * int(1e308) * int(1e308) > 0", id="big-int-product"),
    pytest.param("1e308 * 10 > 0", id="float-overflow"),
    pytest.param('float("nan") != 0', id="nan"),
    pytest.param("params.amount / 0 > 0", id="division-by-zero"),
    pytest.param("round(params.amount, -1000) == 0", id="round-digits"),
    pytest.param("shell_words(params.s * 3) == []", id="shell-too-long"),
    pytest.param('domain("x y" + params.s) == "a"', id="domain-with-a-space"),
    pytest.param("contains_any(params.big, params.big)", id="pairs"),
    pytest.param("any(any(x == y for y in params.big) for x in params.big)", id="nested-generator"),
    pytest.param("any(params.big.count(x) for x in params.big)", id="method-in-generator"),
    pytest.param("str(params.big) == ''", id="str-of-list"),
    pytest.param("{params.big: 1} == {}", id="unhashable-key"),
    pytest.param("params.d[params.big] == 1", id="list-as-key"),
    pytest.param("rate(params.big, 60) > 1", id="rate-list-key"),
    pytest.param("total(str(actor), -1, 60) > 1", id="negative-amount"),
    pytest.param("not " * 150 + "true", id="deep-not"),
    pytest.param("(" * 150 + "1" + ")" * 150 + " == 1", id="deep-parens"),
    pytest.param("[" * 150 + "]" * 150 + " == []", id="deep-lists"),
    pytest.param(" or ".join(["params.amount > 1"] * 400), id="long-or"),
]
BIG_INPUT = {
    "kind": "pay",
    "actor": "u1",
    "params": {"amount": 700, "s": "a" * 5000, "big": list(range(10_000)), "d": {"a": 1}},
}


@pytest.mark.parametrize("when", BOUNDED)
@pytest.mark.parametrize("on_error", ["deny", "escalate"])
def test_expensive_conditions_are_refused_or_fail_closed(when: str, on_error: str) -> None:
    # Each is a load error, or an evaluation error the rule answers with its on_error:
    # never a crash, never an allow (the condition is true, or it fails).
    try:
        pack = parse(_pack(when, "deny", on_error), file="fuzz.yaml")
    except PolicyError as exc:
        assert exc.line is not None
        return
    decision = Guard([pack]).check(BIG_INPUT)
    assert decision.verdict in (Verdict.DENY, Verdict(on_error)), decision.hits
