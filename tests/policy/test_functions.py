"""Table tests of the built-in functions, the registry, PII views and rate counters."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from guard._exceptions import EvaluationError, ExpressionError, PiiUnavailable
from guard._models import PiiFinding
from guard.policy._expr import compile_expr
from guard.policy._functions import DEFAULT_FUNCTIONS, FunctionRegistry, PiiView
from guard.policy._rate import MemoryRateStore, RateStore


def finding(entity: str, field: str = "params.message", score: float = 0.8) -> PiiFinding:
    return PiiFinding(entity_type=entity, field=field, start=0, end=3, score=score)


def make_env(**extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "params": {
            "message": "Call me at 555-1234, ok?",
            "tags": ["vip", "new"],
            "url": "https://Shop.Example.com:8443/path?q=1",
            "text": "Hello World",
            "n": -3.5,
            "nums": [3, 1, 2],
            "empty": [],
            "none": None,
            "big": 10**5000,
        },
        "actor": "u1",
        "pii": PiiView(
            [
                finding("PHONE_NUMBER", score=0.7),
                finding("EMAIL_ADDRESS", "params.attachments[0].text", 0.95),
                finding("EMAIL_ADDRESS", "params.message", 0.6),
            ],
            frozenset({"PHONE_NUMBER", "EMAIL_ADDRESS", "PERSON"}),
            fields=["params.message", "params.attachments[*].text"],
        ),
    }
    env.update(extra)
    return env


def run(source: str, **extra: Any) -> Any:
    return compile_expr(source, rule_id="rule-1").evaluate(make_env(**extra))


FUNCTIONS = [
    # len
    pytest.param("len(params.message)", 24, id="len-str"),
    pytest.param("len(params.tags)", 2, id="len-list"),
    pytest.param("len(params)", 9, id="len-object"),
    pytest.param("len(params.empty)", 0, id="len-empty"),
    # lower / upper
    pytest.param("lower(params.text)", "hello world", id="lower"),
    pytest.param("upper(params.text)", "HELLO WORLD", id="upper"),
    pytest.param("lower('ÄB')", "äb", id="lower-unicode"),
    # abs / round / int / float / str
    pytest.param("abs(params.n)", 3.5, id="abs"),
    pytest.param("abs(-2)", 2, id="abs-int"),
    pytest.param("round(2.567, 2)", 2.57, id="round-digits"),
    pytest.param("round(2.5)", 2, id="round-half-even"),
    pytest.param("round(1234, -2)", 1200, id="round-negative"),
    pytest.param("int('42')", 42, id="int-str"),
    pytest.param("int(' 42 ')", 42, id="int-spaces"),
    pytest.param("int(3.9)", 3, id="int-float"),
    pytest.param("float('1e3')", 1000.0, id="float-exp"),
    pytest.param("float('1.5')", 1.5, id="float-str"),
    pytest.param("float(2)", 2.0, id="float-int"),
    pytest.param("str(12)", "12", id="str-int"),
    pytest.param("str(1.5)", "1.5", id="str-float"),
    pytest.param("str(true)", "true", id="str-true"),
    pytest.param("str(null)", "null", id="str-null"),
    pytest.param("str('x')", "x", id="str-str"),
    # min / max / sum
    pytest.param("min(params.nums)", 1, id="min-list"),
    pytest.param("max(params.nums)", 3, id="max-list"),
    pytest.param("min(4, 2, 8)", 2, id="min-args"),
    pytest.param("max('a', 'b')", "b", id="max-str"),
    pytest.param("sum(params.nums)", 6, id="sum"),
    pytest.param("sum([0.5, 1])", 1.5, id="sum-float"),
    pytest.param("sum(params.empty)", 0, id="sum-empty"),
    # any / all on lists
    pytest.param("any(params.tags)", True, id="any-list"),
    pytest.param("any([0, null, ''])", False, id="any-falsy"),
    pytest.param("all([1, 'a'])", True, id="all-list"),
    pytest.param("all([1, 0])", False, id="all-falsy"),
    pytest.param("all(params.empty)", True, id="all-empty"),
    # matches (RE2, search semantics)
    pytest.param("matches(params.message, '\\\\d{3}-\\\\d{4}')", True, id="matches"),
    pytest.param("matches(params.message, '^\\\\d{3}')", False, id="matches-anchored-miss"),
    pytest.param("matches(params.text, '(?i)hello world')", True, id="matches-flag"),
    pytest.param("matches(params.text, 'hello world')", False, id="matches-case"),
    pytest.param("matches(params.text, '')", True, id="matches-empty-pattern"),
    # contains_any
    pytest.param("contains_any(params.text, ['WORLD', 'x'])", True, id="contains-any-ci"),
    pytest.param("contains_any(params.text, ['worlds'])", False, id="contains-any-near-miss"),
    pytest.param("contains_any(params.text, 'o w')", True, id="contains-any-one-needle"),
    pytest.param("contains_any(params.text, [])", False, id="contains-any-empty"),
    pytest.param("contains_any(params.tags, ['vip', 'x'])", True, id="contains-any-list"),
    pytest.param("contains_any(params.tags, ['VIP'])", False, id="contains-any-list-exact"),
    pytest.param("contains_any(params, ['url'])", True, id="contains-any-object-keys"),
    pytest.param("contains_any('Straße', ['STRASSE'])", True, id="contains-any-casefold"),
    # startswith / endswith
    pytest.param("startswith(params.text, 'Hello')", True, id="startswith"),
    pytest.param("startswith(params.text, 'hello')", False, id="startswith-case"),
    pytest.param("startswith(params.text, ['x', 'Hell'])", True, id="startswith-list"),
    pytest.param("startswith(params.text, [])", False, id="startswith-empty-list"),
    pytest.param("endswith(params.text, 'World')", True, id="endswith"),
    pytest.param("endswith(params.text, ['Worl'])", False, id="endswith-near-miss"),
    # domain
    pytest.param("domain(params.url)", "shop.example.com", id="domain"),
    pytest.param("domain('example.com/x')", "example.com", id="domain-schemeless"),
    pytest.param("domain('example.com:8080/x')", "example.com", id="domain-schemeless-port"),
    pytest.param("domain('//Example.COM.')", "example.com", id="domain-trailing-dot"),
    pytest.param("domain('http://user:pw@host.io/')", "host.io", id="domain-userinfo"),
    pytest.param("domain(' https://a.com ')", "a.com", id="domain-whitespace"),
    pytest.param("domain('https://ex\\tample.com')", "example.com", id="domain-tab"),
    pytest.param("domain('https://bücher.de/')", "xn--bcher-kva.de", id="domain-idna"),
    pytest.param("domain('https://BÜCHER.de')", "xn--bcher-kva.de", id="domain-idna-case"),
    pytest.param("domain('https://xn--bcher-kva.de')", "xn--bcher-kva.de", id="domain-punycode"),
    pytest.param("domain('https://example。com')", "example.com", id="domain-ideographic-dot"),
    pytest.param("domain('https://%65xample.com')", "example.com", id="domain-percent"),
    pytest.param("domain('HTTPS://[::1]:80/')", "::1", id="domain-ipv6"),
    pytest.param("domain('mailto:jo@example.com')", "example.com", id="domain-mailto"),
    pytest.param("domain('https:evil.com')", "evil.com", id="domain-no-slashes"),
    pytest.param("domain('HTTP:///evil.com/x')", "evil.com", id="domain-three-slashes"),
    pytest.param("domain('https://faß.de/')", "xn--fa-hia.de", id="domain-idna2008"),
    # rate: first hit in a fresh store
    pytest.param("rate(actor, 60)", 1, id="rate-first-hit"),
    # pii
    pytest.param("pii.any()", True, id="pii-any"),
    pytest.param("pii.any('PHONE_NUMBER')", True, id="pii-any-type"),
    pytest.param("pii.any('PERSON')", False, id="pii-any-scanned-none-found"),
    pytest.param("pii.any('PERSON', 'EMAIL_ADDRESS')", True, id="pii-any-several"),
    pytest.param("pii.count()", 3, id="pii-count"),
    pytest.param("pii.count('EMAIL_ADDRESS')", 2, id="pii-count-type"),
    pytest.param("pii.count('PERSON')", 0, id="pii-count-zero"),
    pytest.param("pii.count(null)", 3, id="pii-count-null"),
    pytest.param("pii.in_field('params.message')", True, id="pii-in-field"),
    pytest.param("pii.in_field('params.message', 'PHONE_NUMBER')", True, id="pii-in-field-type"),
    pytest.param("pii.in_field('params.message', 'PERSON')", False, id="pii-in-field-miss"),
    pytest.param("pii.in_field('params.attachments')", True, id="pii-in-field-parent"),
    pytest.param(
        "pii.in_field('params.attachments[*].text', 'EMAIL_ADDRESS')", True, id="pii-field-glob"
    ),
    pytest.param(
        "pii.in_field('params.attachments[0].text', 'PHONE_NUMBER')", False, id="pii-field-type"
    ),
    pytest.param("pii.max_score()", 0.95, id="pii-max-score"),
    pytest.param("pii.max_score('PHONE_NUMBER')", 0.7, id="pii-max-score-type"),
    pytest.param("pii.max_score('PERSON')", 0.0, id="pii-max-score-none"),
]


@pytest.mark.parametrize(("source", "expected"), FUNCTIONS)
def test_functions(source: str, expected: Any) -> None:
    value = run(source, __rate__=MemoryRateStore())
    assert value == expected
    assert type(value) is type(expected)


FUNCTION_ERRORS = [
    pytest.param("len(3)", EvaluationError, "len() needs a string, list or object", id="len-num"),
    pytest.param("len(params.none)", EvaluationError, "got null", id="len-null"),
    pytest.param("lower(3)", EvaluationError, "lower() needs a string", id="lower-num"),
    pytest.param("upper(params.tags)", EvaluationError, "upper() needs a string", id="upper-list"),
    pytest.param("abs('x')", EvaluationError, "abs() needs a number", id="abs-str"),
    pytest.param("min(params.empty)", EvaluationError, "empty list", id="min-empty"),
    pytest.param("max(3)", EvaluationError, "a list or several values", id="max-scalar"),
    pytest.param("min(1, 'a')", EvaluationError, "cannot order", id="min-mixed"),
    pytest.param("round('1')", EvaluationError, "round() needs a number", id="round-str"),
    pytest.param("round(5, -1000000000)", EvaluationError, "between -100 and 100", id="round-dos"),
    pytest.param("round(5, 1.5)", EvaluationError, "ndigits", id="round-float-digits"),
    pytest.param("int('1e5')", EvaluationError, "int() cannot convert", id="int-bad"),
    pytest.param("int(float('inf'))", EvaluationError, "not a finite number", id="int-inf"),
    pytest.param("float('nan')", EvaluationError, "not a finite number", id="float-nan"),
    pytest.param("int(true)", EvaluationError, "int() needs", id="int-bool"),
    pytest.param("float(false)", EvaluationError, "float() needs", id="float-bool"),
    pytest.param("int(params.tags)", EvaluationError, "int() needs", id="int-list"),
    pytest.param("float('abc')", EvaluationError, "float() cannot convert", id="float-bad"),
    pytest.param("float(null)", EvaluationError, "float() needs", id="float-null"),
    pytest.param("str(params.tags)", EvaluationError, "str() needs", id="str-list"),
    pytest.param("str(params.big)", EvaluationError, "str() cannot convert", id="str-huge-int"),
    pytest.param("any(3)", EvaluationError, "any() needs a list", id="any-num"),
    pytest.param("all('ab')", EvaluationError, "all() needs a list", id="all-str"),
    pytest.param("sum(['a'])", EvaluationError, "list of numbers", id="sum-str"),
    pytest.param("sum(3)", EvaluationError, "sum() needs a list", id="sum-num"),
    pytest.param("matches(3, 'a')", EvaluationError, "matches() needs a string", id="re-num"),
    pytest.param("contains_any(3, ['a'])", EvaluationError, "a string or list", id="ca-num"),
    pytest.param("contains_any('a', [1])", EvaluationError, "string needles", id="ca-needle"),
    pytest.param("contains_any('a', 1)", EvaluationError, "a string or a list", id="ca-needles"),
    pytest.param("startswith(3, 'a')", EvaluationError, "startswith() needs", id="sw-num"),
    pytest.param("startswith('a', [1])", EvaluationError, "a string or a list", id="sw-prefix"),
    pytest.param("endswith(null, 'a')", EvaluationError, "endswith() needs", id="ew-null"),
    pytest.param("domain(3)", EvaluationError, "domain() needs a URL", id="domain-num"),
    pytest.param("domain('')", EvaluationError, "cannot read a hostname", id="domain-empty"),
    pytest.param(
        "domain('http://')", EvaluationError, "cannot read a hostname", id="domain-nohost"
    ),
    pytest.param("domain('http://[::1')", EvaluationError, "cannot read", id="domain-bad-ipv6"),
    pytest.param("domain('http://a..b/')", EvaluationError, "cannot read", id="domain-empty-label"),
    pytest.param("rate(actor, 0)", EvaluationError, "positive number", id="rate-zero-window"),
    pytest.param("rate(actor, -1)", EvaluationError, "positive number", id="rate-neg-window"),
    pytest.param("rate(params.tags, 1)", EvaluationError, "string or integer key", id="rate-key"),
    pytest.param("pii.any('NOPE')", PiiUnavailable, "not available for 'NOPE'", id="pii-any-gap"),
    pytest.param("pii.any(1)", EvaluationError, "entity types are strings", id="pii-any-num"),
    pytest.param("pii.count('NOPE')", PiiUnavailable, "'NOPE'", id="pii-count-gap"),
    pytest.param("pii.max_score('NOPE')", PiiUnavailable, "'NOPE'", id="pii-max-gap"),
    pytest.param(
        "pii.in_field('params.other')", PiiUnavailable, "field 'params.other'", id="pii-field-gap"
    ),
    pytest.param("pii.in_field(3)", EvaluationError, "field path", id="pii-field-num"),
    pytest.param(
        "pii.in_field('params.message', 'NOPE')", PiiUnavailable, "'NOPE'", id="pii-field-type-gap"
    ),
]


@pytest.mark.parametrize(("source", "error", "fragment"), FUNCTION_ERRORS)
def test_function_errors(source: str, error: type[Exception], fragment: str) -> None:
    expr = compile_expr(source, rule_id="rule-1")
    with pytest.raises(error) as caught:
        expr.evaluate(make_env(__rate__=MemoryRateStore()))
    assert fragment in str(caught.value)


# ---------------------------------------------------------------------------------------
# PII.


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("pii.any()", id="any"),
        pytest.param("pii.any('EMAIL_ADDRESS')", id="any-type"),
        pytest.param("pii.count()", id="count"),
        pytest.param("pii.in_field('params.message')", id="in-field"),
        pytest.param("pii.max_score()", id="max-score"),
        pytest.param("len(pii)", id="bare"),
    ],
)
def test_pii_functions_fail_closed_without_a_scan(source: str) -> None:
    expr = compile_expr(source)
    with pytest.raises(PiiUnavailable, match="PII detection not available"):
        expr.evaluate(make_env(pii=None))


def test_pii_scan_with_no_entities_is_not_a_scan() -> None:
    env = make_env(pii=PiiView([], frozenset()))
    with pytest.raises(PiiUnavailable, match="covered no entity types"):
        compile_expr("pii.any()").evaluate(env)


def test_pii_without_known_fields_does_not_check_fields() -> None:
    env = make_env(pii=PiiView([finding("PERSON", "params.x")], frozenset({"PERSON"})))
    assert compile_expr("pii.in_field('params.y')").evaluate(env) is False
    assert compile_expr("pii.in_field('params.x', 'PERSON')").evaluate(env) is True


def test_pii_env_of_the_wrong_type_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="must be a PiiView"):
        compile_expr("pii.any()").evaluate(make_env(pii=[1]))


def test_bare_pii_is_a_fresh_list_of_dicts() -> None:
    expr = compile_expr("pii")
    env = make_env()
    first = expr.evaluate(env)
    assert first[0] == {
        "entity_type": "PHONE_NUMBER",
        "field": "params.message",
        "start": 0,
        "end": 3,
        "score": 0.7,
        "recognizer": "",
        "value_hash": None,
    }
    first.clear()
    assert len(expr.evaluate(env)) == 3
    assert "PiiView(3 findings" in repr(env["pii"])


def test_pii_evidence_records_the_result() -> None:
    expr = compile_expr("pii.count('EMAIL_ADDRESS') >= 2 and pii.max_score() > 0.9")
    assert expr.explain(make_env()) == (
        True,
        {"pii.count('EMAIL_ADDRESS')": 2, "pii.max_score()": 0.95},
    )


# ---------------------------------------------------------------------------------------
# rate().


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_counts_hits_in_a_sliding_window() -> None:
    clock = FakeClock()
    store = MemoryRateStore(clock=clock)
    expr = compile_expr("rate(actor, 10) > 2", rule_id="too-fast")
    env = make_env(__rate__=store)
    assert [expr.evaluate(env) for _ in range(3)] == [False, False, True]
    clock.now += 10.0  # the window is (now - 10, now]: every earlier hit has expired
    assert compile_expr("rate(actor, 10)", rule_id="too-fast").evaluate(env) == 1
    clock.now += 5.0
    assert compile_expr("rate(actor, 10)", rule_id="too-fast").evaluate(env) == 2


def test_rate_counters_are_per_rule_and_per_key() -> None:
    store = MemoryRateStore()
    env = make_env(__rate__=store)
    first = compile_expr("rate(actor, 60)", rule_id="a")
    second = compile_expr("rate(actor, 60)", rule_id="b")
    assert [first.evaluate(env), first.evaluate(env), second.evaluate(env)] == [1, 2, 1]
    assert first.evaluate({**env, "actor": "u2"}) == 1
    assert compile_expr("rate(7, 60)", rule_id="a").evaluate(env) == 1


def test_rate_key_is_prefixed_with_the_rule_id() -> None:
    seen: list[tuple[str, float]] = []

    class Recorder:
        def hit(self, key: str, window: float) -> int:
            seen.append((key, window))
            return 42

    assert isinstance(Recorder(), RateStore)
    value = compile_expr("rate(actor, 30)", rule_id="r9").evaluate(make_env(__rate__=Recorder()))
    assert value == 42
    assert seen == [("r9:u1", 30.0)]


def test_rate_without_a_store_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="needs a rate store"):
        compile_expr("rate(actor, 1)").evaluate(make_env())
    with pytest.raises(EvaluationError, match="not a RateStore"):
        compile_expr("rate(actor, 1)").evaluate(make_env(__rate__=object()))


def test_rate_store_failures_become_evaluation_errors() -> None:
    class Broken:
        def hit(self, key: str, window: float) -> int:
            raise ConnectionError("redis down")

    with pytest.raises(EvaluationError, match="rate\\(\\) failed: ConnectionError: redis down"):
        compile_expr("rate(actor, 1)").evaluate(make_env(__rate__=Broken()))


def test_memory_rate_store_bounds_its_keys() -> None:
    clock = FakeClock()
    store = MemoryRateStore(max_keys=3, clock=clock)
    for key in "abcde":
        store.hit(key, 60)
    assert len(store) == 3
    assert store.hit("a", 60) == 1  # "a" was evicted, least recently hit first
    store.clear()
    assert len(store) == 0


def test_memory_rate_store_prunes_expired_keys_first() -> None:
    clock = FakeClock()
    store = MemoryRateStore(max_keys=10, clock=clock)
    store.hit("old", 1)
    clock.now += 5
    store.hit("new", 60)
    assert len(store) == 1


def test_memory_rate_store_saturates_per_key() -> None:
    store = MemoryRateStore(max_hits_per_key=5, clock=FakeClock())
    counts = [store.hit("k", 60) for _ in range(8)]
    assert counts == [1, 2, 3, 4, 5, 5, 5, 5]


def test_memory_rate_store_windows_are_separate_counters() -> None:
    store = MemoryRateStore(clock=FakeClock())
    assert [store.hit("k", 60), store.hit("k", 60), store.hit("k", 1)] == [1, 2, 1]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"max_keys": 0}, "max_keys", id="keys"),
        pytest.param({"max_hits_per_key": 0}, "max_hits_per_key", id="hits"),
    ],
)
def test_memory_rate_store_validates_its_limits(kwargs: dict[str, int], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        MemoryRateStore(**kwargs)


@pytest.mark.parametrize("window", [0, -1, float("nan"), float("inf")])
def test_memory_rate_store_rejects_bad_windows(window: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        MemoryRateStore().hit("k", window)


def test_memory_rate_store_is_thread_safe() -> None:
    store = MemoryRateStore(max_hits_per_key=100_000)
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        counts = [store.hit("k", 3600) for _ in range(500)]
        with lock:
            results.extend(counts)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 4001))


# ---------------------------------------------------------------------------------------
# The registry.


def test_default_registry_is_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        DEFAULT_FUNCTIONS.register("x", len, min_args=1, max_args=1)


def test_copy_registers_without_touching_the_default() -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    registry.register("double", lambda x: x * 2, min_args=1, max_args=1)
    assert "double" in registry and "double" not in DEFAULT_FUNCTIONS
    assert len(registry) == len(DEFAULT_FUNCTIONS) + 1
    assert compile_expr("double(params.n)", functions=registry).evaluate(make_env()) == -7.0
    with pytest.raises(ExpressionError, match="unknown function 'double'"):
        compile_expr("double(1)")
    assert "double" in repr(registry)


def test_namespaced_function_with_env_and_rule_id() -> None:
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def lookup(env: Any, rule_id: str, *args: Any) -> str:
        calls.append((rule_id, args))
        return str(env["actor"])

    registry = DEFAULT_FUNCTIONS.copy()
    registry.register("geo.country", lookup, min_args=0, max_args=2, needs_env=True)
    expr = compile_expr("geo.country(1, 'x') == 'u1'", rule_id="r", functions=registry)
    assert expr.evaluate(make_env()) is True
    assert calls == [("r", (1, "x"))]
    assert expr.functions_used == frozenset({"geo.country"})
    with pytest.raises(ExpressionError, match="takes 0 to 2 argument"):
        compile_expr("geo.country(1, 2, 3)", functions=registry)


def test_literal_arguments_are_prepared_once_at_load() -> None:
    prepared: list[Any] = []

    def prepare(index: int, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("needs a list literal")
        prepared.append(value)
        return frozenset(value)

    registry = DEFAULT_FUNCTIONS.copy()
    registry.register(
        "one_of",
        lambda x, options: x in options,
        min_args=2,
        max_args=2,
        literal_args=(1,),
        prepare=prepare,
    )
    expr = compile_expr("one_of(actor, ['u1', 'u2'])", functions=registry)
    assert expr.evaluate(make_env()) is True
    assert expr.evaluate(make_env(actor="u3")) is False
    assert prepared == [["u1", "u2"]]  # once, shared by evaluate() and explain()
    with pytest.raises(ExpressionError, match="one_of\\(\\): needs a list literal"):
        compile_expr("one_of(actor, 'u1')", functions=registry)
    with pytest.raises(ExpressionError, match="must be a literal"):
        compile_expr("one_of(actor, params.tags)", functions=registry)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "fragment"),
    [
        pytest.param("_x", {}, ValueError, "invalid function name", id="underscore"),
        pytest.param("a..b", {}, ValueError, "invalid function name", id="empty-part"),
        pytest.param("a-b", {}, ValueError, "invalid function name", id="dash"),
        pytest.param("ns._x", {}, ValueError, "invalid function name", id="ns-underscore"),
        pytest.param("has", {}, ValueError, "special form", id="special"),
        pytest.param("len", {}, ValueError, "already registered", id="duplicate"),
        pytest.param("f", {"min_args": 2, "max_args": 1}, ValueError, "arity", id="arity"),
        pytest.param("f", {"min_args": -1}, ValueError, "arity", id="negative"),
        pytest.param("f", {"literal_args": (3,)}, ValueError, "out of range", id="literal"),
        pytest.param("f", {"fn": 3}, TypeError, "must be callable", id="not-callable"),
    ],
)
def test_register_validates(
    name: str, kwargs: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    args: dict[str, Any] = {"fn": len, "min_args": 1, "max_args": 1, **kwargs}
    fn = args.pop("fn")
    with pytest.raises(error, match=fragment):
        registry.register(name, fn, **args)


def test_registry_names_are_sorted_and_complete() -> None:
    names = DEFAULT_FUNCTIONS.names()
    assert list(names) == sorted(names)
    assert set(names) == {
        "len",
        "lower",
        "upper",
        "abs",
        "min",
        "max",
        "round",
        "int",
        "float",
        "str",
        "any",
        "all",
        "sum",
        "matches",
        "contains_any",
        "startswith",
        "endswith",
        "domain",
        "rate",
        "total",
        "shell_words",
        "pii.any",
        "pii.count",
        "pii.in_field",
        "pii.max_score",
    }
    assert FunctionRegistry().names() == ()


def test_memory_peek_counts_without_recording() -> None:
    clock = FakeClock()
    store = MemoryRateStore(clock=clock, max_hits_per_key=3)
    assert store.peek("k", 10) == 1 and len(store) == 0
    assert [store.hit("k", 10), store.peek("k", 10), store.peek("k", 10)] == [1, 2, 2]
    clock.now += 10.0
    assert store.peek("k", 10) == 1  # the one hit has left the window
    for _ in range(5):
        store.hit("k", 10)
    assert store.peek("k", 10) == 3  # saturates at the cap, as hit does
