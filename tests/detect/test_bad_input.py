"""Bad input: every configured field gets a clear outcome, nothing is skipped silently."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner
from tests.detect.conftest import make_scanner, message

FIELDS = ["params.message", "params.subject", "params.attachments[*].text", "params.args"]


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(["EMAIL_ADDRESS", "PHONE_NUMBER", "OBFUSCATED_EMAIL"], fields=FIELDS)


def outcome(scanner: PiiScanner, action: dict[str, Any]) -> dict[str, str]:
    """Each field's outcome: scanned, missing, or its error message."""
    report = scanner.scan(action).report
    out = {f: "scanned" for f in report.fields_scanned}
    out.update({f: "missing" for f in report.fields_missing})
    out.update(report.field_errors)
    return out


FIELD_CASES = [
    pytest.param({"message": ""}, "params.message", "scanned", id="empty-string"),
    pytest.param({"message": "   \n\t"}, "params.message", "scanned", id="whitespace"),
    pytest.param({}, "params.message", "missing", id="missing"),
    pytest.param({"message": None}, "params.message", "missing", id="null"),
    pytest.param({"message": 4165550199}, "params.message", "scanned", id="int"),
    pytest.param({"message": 1.5}, "params.message", "scanned", id="float"),
    pytest.param({"message": True}, "params.message", "scanned", id="bool"),
    pytest.param(
        {"message": b"jo@example.com"}, "params.message", "expected text, got bytes", id="bytes"
    ),
    pytest.param({"message": ["a"]}, "params.message[0]", "scanned", id="list"),
    pytest.param({"message": {"a": "x"}}, "params.message.a", "scanned", id="dict"),
    pytest.param({"message": {"a": 1}}, "params.message.a", "scanned", id="dict-number"),
    pytest.param({"message": []}, "params.message", "missing", id="empty-list"),
    pytest.param({"message": {"a": None}}, "params.message", "missing", id="dict-of-null"),
    pytest.param(
        {"message": [{"e mail": "x"}]}, 'params.message[0]["e mail"]', "scanned", id="quoted-key"
    ),
    pytest.param(
        {"message": [b"x"]}, "params.message[0]", "expected text, got bytes", id="list-of-bytes"
    ),
    pytest.param(
        {"attachments": "x"}, "params.attachments", "expected a list, got str", id="not-a-list"
    ),
    pytest.param({"attachments": [None]}, "params.attachments[0]", "missing", id="null-item"),
    pytest.param(
        {"attachments": [{}]}, "params.attachments[0].text", "missing", id="item-without-field"
    ),
    pytest.param(
        {"attachments": ["x"]},
        "params.attachments[0]",
        "expected an object, got str",
        id="item-not-object",
    ),
]


@pytest.mark.parametrize(("params", "field", "expected"), FIELD_CASES)
def test_each_field_gets_an_outcome(
    scanner: PiiScanner, params: dict[str, Any], field: str, expected: str
) -> None:
    assert outcome(scanner, {"kind": "k", "params": params})[field] == expected


def test_params_not_an_object(scanner: PiiScanner) -> None:
    result = outcome(scanner, {"kind": "k", "params": "jo@example.com"})
    assert result == {"params": "expected an object, got str"}


def test_one_megabyte_text_is_refused_clearly_and_erased(scanner: PiiScanner) -> None:
    big = ("jo@example.com " * 70_000)[:1_048_576]
    action = {"params": {"message": big, "subject": "mail jo@example.com"}}
    scan = scanner.scan(action)
    assert scan.report.field_errors == {
        "params.message": "text of 1,048,576 characters exceeds max_text_chars=100,000; "
        "it was not scanned"
    }
    assert scan.report.fields_scanned == ["params.subject"]
    masked, _, erased = scanner.mask_for_audit(action, scan)
    assert erased == ["params.message"] and masked["params"]["message"].keys() == {"erased"}


def test_a_large_json_argument_is_refused_not_parsed(scanner: PiiScanner) -> None:
    args = json.dumps({"body": "x" * 200_000})
    assert "exceeds max_text_chars" in outcome(scanner, {"params": {"args": args}})["params.args"]


def test_binary_junk_is_scanned_without_crashing(scanner: PiiScanner) -> None:
    rng = random.Random(5)
    junk = bytes(rng.randrange(256) for _ in range(4000))
    texts = [
        junk.decode("latin-1"),
        junk.decode("utf-8", "surrogateescape"),  # lone surrogates
        "\x00jo@example.com\x00\x07\x1b[31m",
        "\ud800\udfff" * 10,
    ]
    for text in texts:
        scan = scanner.scan(message(text))
        assert scan.report.fields_scanned == ["params.message"], scan.report
    assert [f.entity_type for f in scanner.scan(message(texts[2])).findings] == ["EMAIL_ADDRESS"]


def test_lone_surrogates_are_hashed_not_refused(scanner: PiiScanner) -> None:
    assert len(scanner.hash_value("\ud800")) == 64


MIXED = [
    pytest.param("Привет! Пишите на jo@example.com 😀", "EMAIL_ADDRESS", id="cyrillic-emoji"),
    pytest.param("我的邮箱是 jo [at] example [dot] com", "OBFUSCATED_EMAIL", id="chinese"),
    pytest.param("رقمي هو phone +1 416 555 0199", "PHONE_NUMBER", id="arabic"),
    pytest.param("👩‍👩‍👧‍👦 jo@example.com 🇨🇦", "EMAIL_ADDRESS", id="emoji-sequences"),
]


@pytest.mark.parametrize(("text", "entity"), MIXED)
def test_mixed_scripts_and_emoji(scanner: PiiScanner, text: str, entity: str) -> None:
    scan = scanner.scan(message(text))
    assert entity in {f.entity_type for f in scan.findings}
    for f in scan.findings:
        assert 0 <= f.start < f.end <= len(text)


def test_ner_survives_junk_and_mixed_scripts(ner_scanner: PiiScanner) -> None:
    texts = ["", "\x00\x01", "\ud800 John Smith", "Anna Ivanova из Москвы 😀", "🙂" * 500]
    for scan in ner_scanner.scan_batch([message(t) for t in texts]):
        assert scan.report.fields_scanned == ["params.message"]


def _nest(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"deeper": leaf}
    return leaf


def test_deeply_nested_actions_are_copied_and_redacted(scanner: PiiScanner) -> None:
    action = {"params": {"message": "jo@example.com", "blob": _nest(20_000, "x")}}
    scan = scanner.scan(action)
    out = scanner.redact(action, scan)
    masked, _, _ = scanner.mask_for_audit(action, scan)
    assert out["params"]["message"] == masked["params"]["message"] == "<EMAIL_ADDRESS>"
    assert out["params"]["blob"] is not action["params"]["blob"]


def test_deeply_nested_json_string(scanner: PiiScanner) -> None:
    args = "[" * 100_000 + "jo@example.com" + "]" * 100_000
    expanding = make_scanner(["EMAIL_ADDRESS"], fields=["params.args"], max_text_chars=300_000)
    explicit = make_scanner(["EMAIL_ADDRESS"], fields=["params.args$"], max_text_chars=300_000)
    action = {"params": {"args": args}}
    # Expansion is best effort: what cannot be parsed is scanned as the text it is.
    assert expanding.scan(action).report.fields_scanned == ["params.args"]
    scan = explicit.scan(action)
    assert scan.report.field_errors == {"params.args": "JSON nested too deeply to scan"}
    _, _, erased = explicit.mask_for_audit(action, scan)
    assert erased == ["params.args"]


def test_json_strings_nested_in_json_strings(scanner: PiiScanner) -> None:
    inner = json.dumps({"to": "jo@example.com"})
    args = json.dumps({"payload": json.dumps({"inner": inner})})
    scan = scanner.scan({"params": {"args": args}})
    assert [f.field for f in scan.findings] == ["params.args$.payload$.inner$.to"]
    out = scanner.redact({"params": {"args": args}}, scan)
    assert "jo@example.com" not in out["params"]["args"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.sampled_from(["message", "subject", "attachments", "args"]), JSON))
def test_any_json_action_gets_an_outcome_per_field(
    scanner: PiiScanner, params: dict[str, Any]
) -> None:
    action = {"kind": "k", "params": params}
    report = scanner.scan(action).report
    reached = set(report.fields_scanned) | set(report.fields_missing) | set(report.field_errors)
    for field in ("params.message", "params.subject"):
        assert any(
            r == field or r.startswith((field + "$", field + "[", field + ".")) for r in reached
        ), field
    masked, _, erased = scanner.mask_for_audit(action, scanner.scan(action))
    assert set(erased) == set(report.field_errors)
    json.dumps(masked)  # the masked copy is still JSON
