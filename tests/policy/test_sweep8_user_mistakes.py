"""A new user's mistakes get one specific error, and the reference's examples load as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guard import Guard, Verdict
from guard._exceptions import ExpressionError, PolicyError, PolicyNotFound
from guard.policy import parse, resolve

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy-language.md"
HEAD = "name: p\nversion: 1\nrules:\n  - id: r\n"


def doc_block(after: str) -> str:
    """The first ```yaml block after the heading `after` in the reference."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(after) + r".*?```yaml\n(.*?)```", text, re.S)
    assert found is not None, after
    return found.group(1)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("lenn", "len"),
        ("contains", "contains_any"),
        ("startsWith", "startswith"),
        ("pii.anyy", "pii.any"),
        ("shellwords", "shell_words"),
    ],
)
def test_a_misspelt_function_suggests_the_one_meant(typo: str, meant: str) -> None:
    with pytest.raises(ExpressionError, match=f"did you mean '{re.escape(meant)}'") as info:
        parse(HEAD + f"    when: {typo}(params.a) > 1\n", file="p.yaml")
    assert (info.value.line, info.value.column) == (5, 11)


def test_a_name_like_no_function_suggests_nothing() -> None:
    with pytest.raises(ExpressionError) as info:
        parse(HEAD + "    when: frobnicate(params.a)\n", file="p.yaml")
    assert "did you mean" not in str(info.value)
    assert "unknown function 'frobnicate'" in str(info.value)


def test_a_rule_id_with_a_non_ascii_letter_says_ascii() -> None:
    text = "name: p\nversion: 1\nrules:\n  - id: règle\n    when: 'true'\n"
    with pytest.raises(PolicyError, match="ASCII letters") as info:
        parse(text, file="p.yaml")
    assert (info.value.line, info.value.column) == (4, 9)


@pytest.mark.parametrize("name", ["Shop", "shop é", "-shop", "x" * 65])
def test_a_bad_pack_name_is_explained_not_only_given_as_a_regex(name: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse(f"name: '{name}'\nversion: 1\n", file="p.yaml")
    message = str(info.value)
    assert "lower-case ASCII letters" in message
    assert "must be 1 to 64 lower-case ASCII letters, digits and . _ -" in message
    assert (info.value.line, info.value.column) == (1, 7)


@pytest.mark.parametrize("spec", ["", " "])
def test_an_empty_policy_name_is_not_the_current_folder(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nversion: 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyNotFound, match="no policy given"):
        resolve(spec)


def test_a_device_is_not_a_policy_file() -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null on this system")
    with pytest.raises(PolicyNotFound, match="neither a policy file nor a folder"):
        resolve("/dev/null")


def test_the_pii_settings_example_loads_as_written() -> None:
    pack = parse(
        "name: p\nversion: 1\n"
        + doc_block("## PII settings")
        + 'rules:\n  - id: order\n    when: pii.any("ORDER_ID")\n'
    )
    assert pack.pii is not None and "ORDER_ID" in pack.pii.entities


def test_the_rules_example_loads_and_escalates_as_documented() -> None:
    text = "name: p\nversion: 1\n" + doc_block("Example of each scope:")
    decision = Guard([parse(text)]).check(
        {"kind": "release_payment", "actor": "u1", "params": {"amount": 700}}, {"role": "agent"}
    )
    assert decision.verdict is Verdict.ESCALATE
    assert [h.message for h in decision.hits] == ["payment of 700 needs approval"]


def test_an_index_past_a_one_word_list_says_one_item() -> None:
    from guard._exceptions import EvaluationError
    from guard.policy import compile_expr

    with pytest.raises(EvaluationError, match="has 1 item, no index 5"):
        compile_expr('shell_words("ls")[5] == "x"').evaluate({})


@pytest.mark.parametrize(
    "source",
    ["params.a < 1e999", "params.a > -1e999", "params.a in [1, 1e999]", "get(params.a, 1e999) > 1"],
)
def test_a_number_literal_past_the_range_of_numbers_is_a_load_error(source: str) -> None:
    from guard.policy import compile_expr

    with pytest.raises(ExpressionError, match="1e999 is beyond the range of numbers"):
        compile_expr(source)
