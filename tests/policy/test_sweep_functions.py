"""Built-in functions on edge-case arguments: booleans, overflow, hosts as a browser reads them."""

from __future__ import annotations

from typing import Any

import pytest

from guard._exceptions import EvaluationError
from guard.policy._expr import compile_expr
from guard.policy._rate import MemoryRateStore


def run(source: str, **params: Any) -> Any:
    env = {"params": params, "__rate__": MemoryRateStore()}
    return compile_expr(source, rule_id="r").evaluate(env)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("contains_any([1, 2], [true])", False, id="number-list-boolean-needle"),
        pytest.param("contains_any([true], [1])", False, id="boolean-list-number-needle"),
        pytest.param("contains_any([[1]], [[true]])", False, id="nested-boolean"),
        pytest.param("contains_any([{'a': 1}], [{'a': true}])", False, id="object-boolean"),
        pytest.param("contains_any([true], [true])", True, id="boolean-itself"),
        pytest.param("contains_any([1.0], [1])", True, id="float-equals-int"),
        pytest.param("contains_any([[1]], [[1.0]])", True, id="nested-float"),
        pytest.param("contains_any({'a': 1}, ['a'])", True, id="object-key"),
        pytest.param("contains_any({'a': 1}, [1])", False, id="object-value-is-no-key"),
        pytest.param("contains_any(params.tags, [true])", False, id="input-list"),
        pytest.param("max(1, 2.5)", 2.5, id="max-numbers"),
        pytest.param("sum([1, 2.5])", 3.5, id="sum-numbers"),
        pytest.param("abs(-2)", 2, id="abs-number"),
        pytest.param("round(2.567, 2)", 2.57, id="round-number"),
        pytest.param("rate('k', 1)", 1, id="rate-number-window"),
    ],
)
def test_booleans_are_not_numbers_in_functions_either(source: str, expected: Any) -> None:
    result = run(source, tags=[1, 0])
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        pytest.param("abs(true)", r"abs\(\) needs a number", id="abs"),
        pytest.param("round(false)", r"round\(\) needs a number", id="round"),
        pytest.param("sum([true, 1])", r"sum\(\) needs a list of numbers", id="sum"),
        pytest.param("min([1, true])", "booleans are not ordered", id="min-list"),
        pytest.param("max(true, false)", "booleans are not ordered", id="max-args"),
        pytest.param("rate('k', true)", "positive number of seconds", id="rate-window"),
        pytest.param("sum([params.big, params.big])", "not a finite number", id="sum-overflow"),
        pytest.param("sum([params.big * 10, 0 - params.big * 10])", "overflows", id="sum-nan"),
    ],
)
def test_function_refusals(source: str, fragment: str) -> None:
    with pytest.raises(EvaluationError, match=fragment):
        run(source, big=1e308)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("https://2130706433/", "127.0.0.1", id="ipv4-one-number"),
        pytest.param("https://0x7f.1/", "127.0.0.1", id="ipv4-hex-two-parts"),
        pytest.param("https://127.1/", "127.0.0.1", id="ipv4-two-parts"),
        pytest.param("https://0177.0.0.01/", "127.0.0.1", id="ipv4-octal"),
        pytest.param("https://127.0.0.%31/", "127.0.0.1", id="ipv4-percent"),
        pytest.param("https://１２７.0.0.1/", "127.0.0.1", id="ipv4-full-width"),
        pytest.param("https://4294967295", "255.255.255.255", id="ipv4-largest"),
        pytest.param("https://[0:0::1]:80/", "::1", id="ipv6-compressed"),
        pytest.param("https://[::FFFF:127.0.0.1]/", "127.0.0.1", id="ipv6-mapped"),
        pytest.param("https://1.example/", "1.example", id="digits-first-is-a-name"),
        pytest.param("https://0xg.com/", "0xg.com", id="not-a-number"),
        pytest.param("https://docs.python.org%2f@evil.com", "evil.com", id="userinfo"),
    ],
)
def test_domain_reads_hosts_as_browsers_do(url: str, host: str) -> None:
    assert run("domain(params.url)", url=url) == host


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://256.0.0.1/", id="ipv4-out-of-range"),
        pytest.param("https://4294967296/", id="ipv4-too-large"),
        pytest.param("https://1.2.3.4.5/", id="ipv4-five-parts"),
        pytest.param("https://08.0.0.1/", id="ipv4-bad-octal"),
        pytest.param("https://example.1/", id="name-ending-in-a-number"),
        pytest.param("https://ex ample.com/", id="space"),
        pytest.param("https://evil.com%40good.com/", id="percent-at"),
        pytest.param("https://%5B::1%5D/", id="percent-bracket"),
        pytest.param("https://a%00b.com/", id="percent-null"),
        pytest.param("https://a%25b.com/", id="percent-percent"),
        pytest.param("https://[::1%25eth0]/", id="ipv6-zone"),
        pytest.param("https://[v1.x]/", id="ipvfuture"),
        # browsers read a backslash as "/", HTTP clients as part of the host: ambiguous
        pytest.param("https://evil.com\\@good.com/", id="backslash-before-at"),
        pytest.param("https://docs.python.org\\@evil.com/x", id="backslash-allowed-first"),
        pytest.param("https:\\\\evil.com/", id="backslashes-for-slashes"),
        pytest.param("https://evil.com\\path", id="backslash-ends-host"),
    ],
)
def test_domain_refuses_what_browsers_refuse(url: str) -> None:
    with pytest.raises(EvaluationError, match="cannot read a hostname"):
        run("domain(params.url)", url=url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("https://evil.com/a\\b", "evil.com", id="backslash-in-path"),
        pytest.param("https://a.com/?q=\\", "a.com", id="backslash-in-query"),
    ],
)
def test_a_backslash_after_the_host_is_path(url: str, host: str) -> None:
    assert run("domain(params.url)", url=url) == host
