"""Sweep 11: YAML 1.1 coercions a pack author never meant, and the functions' semantics
under odd input (URLs a browser reads differently, Unicode case, mixed types)."""

from __future__ import annotations

from typing import Any

import pytest

from guard import Guard
from guard._exceptions import EvaluationError, ExpressionError, PolicyError
from guard.policy import parse
from guard.policy._expr import compile_expr


def _pack(rule: str, head: str = "name: p\nversion: 1\n") -> str:
    return f"{head}rules:\n  - id: r\n{rule}"


# ---------------------------------------------------------------------------------------
# 1. YAML 1.1 reads `on`, `yes`, `017`, `1_000` as what no author of YAML 1.2 meant.


@pytest.mark.parametrize("word", ["on", "yes", "no", "off", "On", "YES", "No", "OFF"])
def test_a_when_of_yes_no_on_off_is_a_load_error(word: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse(_pack(f"    when: {word}\n"), file="p.yaml")
    exc = err.value
    assert (exc.file, exc.line, exc.column) == ("p.yaml", 5, 11)
    assert repr(word) in str(exc) and "quote" in str(exc) and "true or false" in str(exc)


@pytest.mark.parametrize("word", ["true", "false", "True", "FALSE"])
def test_a_when_of_true_or_false_still_loads(word: str) -> None:
    [rule] = parse(_pack(f"    when: {word}\n")).rules
    assert rule.when is not None and rule.when.source == word.lower()


@pytest.mark.parametrize(
    ("rule", "line", "column", "text"),
    [
        ("    when: 'true'\n    effect: no\n", 6, 13, "'no'"),
        ("    when: 'true'\n    severity: on\n", 6, 15, "'on'"),
        ("    when: 'true'\n    on_error: Off\n", 6, 15, "'Off'"),
        ("    match: {kind: no}\n    when: 'true'\n", 5, 19, "'no'"),
        ("    match: {kind: [send, yes]}\n    when: 'true'\n", 5, 26, "'yes'"),
        ("    match: {kind: 1e3}\n    when: 'true'\n", 5, 19, "'1e3'"),
        ("    when: 'true'\n    on: deny\n", 6, 5, "'on'"),  # a key, too
    ],
)
def test_yaml_coercions_elsewhere_are_load_errors_at_their_position(
    rule: str, line: int, column: int, text: str
) -> None:
    with pytest.raises(PolicyError) as err:
        parse(_pack(rule), file="p.yaml")
    assert (err.value.line, err.value.column) == (line, column)
    assert text in str(err.value) and "quote" in str(err.value)


def test_an_id_that_yaml_1_2_reads_as_a_number_is_a_load_error() -> None:
    with pytest.raises(PolicyError) as err:
        parse("name: p\nversion: 1\nrules:\n  - id: 1e3\n    when: 'true'\n")
    assert (err.value.line, err.value.column) == (4, 9) and "'1e3'" in str(err.value)


@pytest.mark.parametrize(
    ("version", "shown"),
    [("017", "15"), ("1_000", "1000"), ("1:10", "70"), ("0o17", "15")],
)
def test_a_version_yaml_versions_read_differently_is_a_load_error(version: str, shown: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse(f"name: p\nversion: {version}\nrules: []\n")
    assert (err.value.line, err.value.column) == (2, 10)
    assert repr(version) in str(err.value) and shown in str(err.value)


def test_version_1_10_names_what_was_written_and_how_to_quote_it() -> None:
    with pytest.raises(PolicyError) as err:
        parse("name: p\nversion: 1.10\nrules: []\n")
    assert "'1.10'" in str(err.value) and "1.1" in str(err.value) and "quote" in str(err.value)


@pytest.mark.parametrize(
    "source",
    [
        "name: p\nversion: '1.10'\nrules:\n  - id: 'no'\n    when: 'true'\n    effect: \"no\"\n",
        "name: p\nversion: 1\nrules:\n  - id: a\n    match: {kind: !!str on}\n    when: 'true'\n",
    ],
)
def test_quoted_or_tagged_text_is_text(source: str) -> None:
    try:
        pack = parse(source)
    except PolicyError as exc:  # 'no' is no verdict: refused as such, not as YAML
        assert "unknown effect 'no'" in str(exc)
    else:
        assert pack.rules[0].kinds == frozenset({"on"})
        assert pack.version == 1


# ---------------------------------------------------------------------------------------
# 2. Functions under odd input: the documented answer, or an evaluation error.

ALLOW_LIST = """name: fetch
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: fetch-allow-list
    when: domain(params.url) not in ["docs.python.org", "xn--bcher-kva.de", "::1"]
    effect: deny
"""


def _verdict(guard: Guard, url: str) -> str:
    decision = guard.check({"kind": "fetch_url", "actor": "a", "params": {"url": url}})
    return str(decision.verdict.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.python.org/3/",
        "HTTPS://DOCS.PYTHON.ORG/3/",
        "https://docs.python.org./3/",
        "https://docs.python.org:443/3/",
        "docs.python.org/3/",
        "//docs.python.org/3/",
        "https://bücher.de/",
        "https://BÜCHER.de/",
        "https://xn--bcher-kva.de/",
        "https://XN--BCHER-KVA.DE/",
        "https://[0:0::1]:8080/",
    ],
)
def test_a_custom_allow_list_allows_every_spelling_of_an_allowed_host(url: str) -> None:
    assert _verdict(Guard([parse(ALLOW_LIST)]), url) == "allow"


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.python.org@evil.com/",
        "https://docs.python.org:x@evil.com/",
        "https://evil.com./",
        "https:\\\\evil.com",
        "https:\\docs.python.org",
        "https://docs.python.org\\@evil.com",
        "\x00https://evil.com",
        "https://evil .com/",
        "javascript:alert(document.domain)//docs.python.org",
        "javascript://docs.python.org/%0aalert(1)",  # a browser runs it: no fetch at all
        "data:text/html,<script>alert(1)</script>",
        "blob:https://docs.python.org/0b7f",
        "view-source:https://docs.python.org/",
        "https://docs.python.org:99999/",
        "https://docs.python.org:https/",
    ],
)
def test_a_custom_allow_list_refuses_other_hosts_and_urls_without_one(url: str) -> None:
    assert _verdict(Guard([parse(ALLOW_LIST)]), url) == "deny"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:docs.python.org",
        "data:text/html;base64,PHNjcmlwdD4=",
        "blob:https://docs.python.org/0b7f",
        "view-source:https://docs.python.org/",
        "about:blank",
        "https://docs.python.org:99999/",
        "https://docs.python.org:80x/",
    ],
)
def test_domain_of_a_url_without_a_host_or_with_a_bad_port_is_an_error(url: str) -> None:
    with pytest.raises(EvaluationError, match="domain"):
        compile_expr("domain(params.url)").evaluate({"params": {"url": url}})


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("localhost:8080/x", "localhost"),
        ("docs.python.org:", "docs.python.org"),
        ("mailto:jo@example.com", "example.com"),
        ("https://[::ffff:127.0.0.1]/", "127.0.0.1"),
    ],
)
def test_domain_still_reads_a_host_and_port_without_a_scheme(url: str, host: str) -> None:
    assert compile_expr("domain(params.url)").evaluate({"params": {"url": url}}) == host


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com@docs.python.org/",  # userinfo of another host, then an allowed one
        "javascript:alert(1)",
        "data:text/html,x",
        "https://docs.python.org:99999/",
    ],
)
def test_the_shipped_allow_list_refuses_urls_without_a_plain_host(url: str) -> None:
    assert _verdict(Guard.from_policy("agent-tools"), url) == "deny"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("STRASSE", "ß"),
        ("straße", "STRASSE"),
        ("KİLL", "kill"),  # Turkish dotted capital I
        ("kıll", "KILL"),  # Turkish dotless small i
        ("ＫＩＬＬ all", "kill"),  # fullwidth letters
        ("kill", "ＫＩＬＬ"),
        ("ﬁle", "FILE"),  # a ligature
    ],
)
def test_contains_any_folds_unicode_case_and_width(text: str, needle: str) -> None:
    expr = compile_expr("contains_any(params.t, params.n)")
    assert expr.evaluate({"params": {"t": text, "n": [needle]}}) is True


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((["a"], 1), "string or a list"),
        (("a", [1]), "string needles"),
        ((1, ["a"]), "string or list to search"),
        ((None, ["a"]), "string or list to search"),
    ],
)
def test_contains_any_refuses_what_it_cannot_search(args: tuple[Any, Any], error: str) -> None:
    expr = compile_expr("contains_any(params.t, params.n)")
    with pytest.raises(EvaluationError, match=error):
        expr.evaluate({"params": {"t": args[0], "n": args[1]}})


@pytest.mark.parametrize("function", ["startswith", "endswith"])
@pytest.mark.parametrize(("text", "affix"), [(1, "a"), ("a", 1), ("a", [1]), (None, "a")])
def test_startswith_and_endswith_refuse_non_strings(function: str, text: Any, affix: Any) -> None:
    expr = compile_expr(f"{function}(params.t, params.a)")
    with pytest.raises(EvaluationError):
        expr.evaluate({"params": {"t": text, "a": affix}})


def test_startswith_is_exact_as_documented() -> None:
    expr = compile_expr('startswith(params.t, "/etc")')
    assert expr.evaluate({"params": {"t": "/ＥＴＣ/passwd"}}) is False
    assert expr.evaluate({"params": {"t": "/ETC/passwd"}}) is False


@pytest.mark.parametrize("amount", ["700", None, [700], True, {"v": 700}])
def test_a_mixed_type_amount_fails_closed_in_a_custom_pack(amount: Any) -> None:
    pack = parse(
        "name: pay\nversion: 1\nrules:\n  - id: big\n    when: params.amount > 500\n"
        "    effect: escalate\n"
    )
    decision = Guard([pack]).check({"kind": "pay", "actor": "a", "params": {"amount": amount}})
    assert decision.verdict.value == "deny"
    assert decision.hits[0].error


@pytest.mark.parametrize("value", [5, 2.5, True, None])
def test_len_of_a_number_boolean_or_null_is_an_error(value: Any) -> None:
    with pytest.raises(EvaluationError, match="len"):
        compile_expr("len(params.v)").evaluate({"params": {"v": value}})


def test_a_pattern_from_the_input_is_a_load_error_and_bad_text_an_evaluation_error() -> None:
    with pytest.raises(Exception, match="must be a literal"):
        compile_expr("matches(params.t, params.p)")
    with pytest.raises(EvaluationError):
        compile_expr('matches(params.t, "a")').evaluate({"params": {"t": "\ud800a"}})


# ---------------------------------------------------------------------------------------
# 3. Sandbox escapes missing from test_expr_fuzz.ESCAPES: refused at load, or bounded.

BIG = list(range(10_000))
MORE_ESCAPES = [
    pytest.param("1j", id="complex"),
    pytest.param("...", id="ellipsis"),
    pytest.param("params.s[::-1]", id="slice"),
    pytest.param("params.a @ params.b", id="matmul"),
    pytest.param("params.a << 1", id="lshift"),
    pytest.param("~params.a", id="invert"),
    pytest.param("sorted(params.big)", id="sorted"),
    pytest.param("range(10 * 10)", id="range"),
    pytest.param("map(len, params)", id="map"),
    pytest.param("hasattr(params, 'a')", id="hasattr"),
    pytest.param("__debug__", id="debug"),
    pytest.param("__loader__", id="loader"),
    pytest.param("__spec__", id="spec"),
    pytest.param("len(*params.big)", id="star-arg"),
    pytest.param("len(**params)", id="double-star-arg"),
    pytest.param("len(x=params)", id="keyword-arg"),
    pytest.param("any(any(y > x for y in params.big) for x in params.big)", id="nested-gen"),
    pytest.param("any((x := 1) for x in items)", id="gen-element-walrus"),
    pytest.param("params.__ᶜlass__", id="nfkc-modifier-dunder"),
    pytest.param("params._\u200b_class__", id="zero-width-dunder"),
    pytest.param("(1).__class__", id="literal-dunder"),
    pytest.param("1 .__class__", id="int-dunder"),
    pytest.param("pii.any.__call__()", id="pii-dunder-call"),
    pytest.param("pii['any']", id="pii-subscript"),
    pytest.param("{params.big: 1}", id="unhashable-key"),
    pytest.param("{{}}", id="unhashable-member"),
    pytest.param("rb'a'", id="raw-bytes"),
    pytest.param("t'{params}'", id="template-string"),
    pytest.param("'%c' % 1114112", id="percent-char"),
    pytest.param("params\\\n.__class__", id="line-continuation-dunder"),
    pytest.param("int(1e308) * int(1e308) * int(1e308) * int(1e308)", id="huge-int-chain"),
    pytest.param("[params.big] * 10 + [params.big] * 10", id="repeat-sum"),
    pytest.param("str(params.a) * 100000 + str(params.a)", id="string-at-the-bound"),
]


@pytest.mark.parametrize("source", MORE_ESCAPES)
def test_more_escapes_are_refused_or_bounded(source: str) -> None:
    env = {"params": {"a": 1, "b": 2, "s": "abc", "big": BIG}, "items": [{"a": 1}], "pii": None}
    try:
        expr = compile_expr(source, file="escape.yaml", line=1, column=1)
    except ExpressionError as exc:
        assert exc.line is not None and exc.column is not None
        return
    try:
        value = expr.evaluate(env)
    except EvaluationError:
        return
    assert isinstance(value, (str, int, float, bool, list, dict)) or value is None
    assert not callable(value)


@pytest.mark.parametrize(
    ("when", "column", "meant"),
    [
        ('domain(params.url) in ["bücher.de", "Bücher.de"]', 35, "xn--bcher-kva.de"),
        ('domain(params.url) in ["xn--bcher-kva.de", "Ä.com"]', 55, "xn--4ca.com"),
        ('domain(params.url) == "Docs.Python.org"', 34, "docs.python.org"),
        ('"evil.com." == domain(params.url)', 12, "evil.com"),
        ('endswith(domain(params.url), ".Corp.example")', 41, ".corp.example"),
    ],
)
def test_comparing_domain_with_a_host_it_never_returns_is_a_load_error(
    when: str, column: int, meant: str
) -> None:
    with pytest.raises(PolicyError) as err:
        parse(f"name: p\nversion: 1\nrules:\n  - id: r\n    when: '{when}'\n", file="p.yaml")
    assert (err.value.line, err.value.column) == (5, column)
    assert f"write {meant!r}" in str(err.value)


def test_domain_compared_with_hosts_as_it_writes_them_loads() -> None:
    when = (
        'domain(params.url) not in ["docs.python.org", "xn--bcher-kva.de", "::1", "127.0.0.1"] '
        'and not endswith(domain(params.url), ".marketplace.example")'
    )
    assert parse(f"name: p\nversion: 1\nrules:\n  - id: r\n    when: '{when}'\n").rules


def test_a_load_error_after_non_ascii_text_in_a_condition_names_the_right_column() -> None:
    when = 'contains_any(params.t, ["é"]) or rate(str(actor), "1m") > 2'
    with pytest.raises(PolicyError) as err:
        parse(f"name: p\nversion: 1\nrules:\n  - id: r\n    when: '{when}'\n")
    assert (err.value.line, err.value.column) == (5, 12 + when.index('"1m"'))
