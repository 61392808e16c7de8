"""Redaction and audit masking: operators, idempotence, and the caller's data left alone."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner, ScanMismatch
from tests.detect.conftest import make_scanner, message

TEXT = "mail jo@example.com, card 4111 1111 1111 1111, skype: jo.smith"


@pytest.fixture(scope="module")
def operators_scanner() -> PiiScanner:
    return make_scanner(
        ["EMAIL_ADDRESS", "CREDIT_CARD", "CONTACT_HANDLE", "PHONE_NUMBER", "OBFUSCATED_EMAIL"],
        fields=["params.message", "params.args", "params.attachments[*].text"],
        operators={"CREDIT_CARD": "mask", "CONTACT_HANDLE": "hash"},
    )


def test_operators_per_entity(operators_scanner: PiiScanner) -> None:
    action = message(TEXT)
    out = operators_scanner.redact(action, operators_scanner.scan(action))
    token = (
        "<CONTACT_HANDLE#"
        + operators_scanner.hash_value("jo.smith")[:16].translate(
            str.maketrans("0123456789abcdef", "abcdefghijklmnop")
        )
        + ">"
    )
    assert out["params"]["message"] == f"mail <EMAIL_ADDRESS>, card {'*' * 19}, skype: {token}"
    assert action["params"]["message"] == TEXT


def test_hash_token_is_keyed_and_stable(operators_scanner: PiiScanner) -> None:
    a = operators_scanner.redact(
        message("skype: jo.smith"), operators_scanner.scan(message("skype: jo.smith"))
    )
    b = operators_scanner.redact(
        message("skype: jo.smith"), operators_scanner.scan(message("skype: jo.smith"))
    )
    other = make_scanner(["CONTACT_HANDLE"], operators={"CONTACT_HANDLE": "hash"})
    other._key = b"another key"  # type: ignore[attr-defined]
    c = other.redact(message("skype: jo.smith"), other.scan(message("skype: jo.smith")))
    assert a == b
    assert a["params"]["message"] != c["params"]["message"]


def test_overlapping_spans_are_merged(operators_scanner: PiiScanner) -> None:
    text = "write jo [at] example [dot] com or jo@example.com"
    out = operators_scanner.redact(message(text), operators_scanner.scan(message(text)))
    assert out["params"]["message"] == "write <OBFUSCATED_EMAIL> or <EMAIL_ADDRESS>"


def test_redaction_inside_json_arguments(operators_scanner: PiiScanner) -> None:
    args = json.dumps({"to": "jo@example.com", "n": 3, "body": ["skype: jo.smith"]})
    action = {"params": {"args": args}}
    out = operators_scanner.redact(action, operators_scanner.scan(action))
    doc = json.loads(out["params"]["args"])
    assert doc["to"] == "<EMAIL_ADDRESS>" and doc["n"] == 3
    assert doc["body"][0].startswith("skype: <CONTACT_HANDLE#")
    assert action["params"]["args"] == args


def test_mask_for_audit_masks_and_erases(operators_scanner: PiiScanner) -> None:
    action = {
        "kind": "send_message",
        "params": {
            "message": TEXT,
            "attachments": [
                {"text": "jo@example.com"},
                {"text": {"nested": "jo@example.com"}},
                {"text": 4111},
                {"text": b"jo@example.com"},
            ],
        },
    }
    scan = operators_scanner.scan(action)
    masked, masked_paths, erased = operators_scanner.mask_for_audit(action, scan)
    assert (
        masked["params"]["message"]
        == "mail <EMAIL_ADDRESS>, card <CREDIT_CARD>, skype: <CONTACT_HANDLE>"
    )
    assert masked_paths == [
        "params.message",
        "params.attachments[0].text",
        "params.attachments[1].text.nested",
    ]
    assert masked["params"]["attachments"][1]["text"] == {"nested": "<EMAIL_ADDRESS>"}
    assert masked["params"]["attachments"][2]["text"] == 4111  # scanned as "4111": no PII
    assert erased == ["params.attachments[3].text"]
    assert masked["params"]["attachments"][3]["text"] == {
        "erased": operators_scanner.hash_value("jo@example.com")
    } or set(masked["params"]["attachments"][3]["text"]) == {"erased"}
    dumped = json.dumps(masked)
    assert "jo@example.com" not in dumped and "jo.smith" not in dumped
    assert action["params"]["attachments"][2]["text"] == 4111
    assert action["params"]["attachments"][1]["text"] == {"nested": "jo@example.com"}


def test_redact_refuses_an_action_that_was_not_scanned(operators_scanner: PiiScanner) -> None:
    scan = operators_scanner.scan(message("mail jo@example.com"))
    with pytest.raises(ScanMismatch):
        operators_scanner.redact(message("mail jo@example.org!"), scan)
    with pytest.raises(ScanMismatch):
        operators_scanner.redact({"params": {}}, scan)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        # Bare runs of digits: only a context word lifts them over the threshold (a grouped
        # number such as 416-555-0199 is found without one, see test_recognizers).
        # "phone" is 5 words back once the e-mails are one word each, as their placeholders.
        (
            "phone jo@example.com jo@example.com 4165550199",
            "phone <EMAIL_ADDRESS> <EMAIL_ADDRESS> <PHONE_NUMBER>",
        ),
        # Each number "phone" lifts is then one word in the window of the next.
        (
            "phone 4165550199 4165550198 4165550197",
            "phone <PHONE_NUMBER> <PHONE_NUMBER> <PHONE_NUMBER>",
        ),
        # A placeholder is no context word: "phone" in <PHONE_NUMBER> lifts nothing.
        (
            "call 4165550198 red green blue 4165550199",
            "call <PHONE_NUMBER> red green blue <PHONE_NUMBER>",
        ),
        ("<PHONE_NUMBER> red 4165550199", "<PHONE_NUMBER> red 4165550199"),
        # Two values are two words, so they must be two placeholders, not one merged one.
        (
            "phone jo@example.com jo@example.com red green blue 4165550199",
            "phone <EMAIL_ADDRESS> <EMAIL_ADDRESS> red green blue 4165550199",
        ),
    ],
)
def test_a_value_and_its_placeholder_are_one_word_of_context(
    operators_scanner: PiiScanner, text: str, redacted: str
) -> None:
    scan = operators_scanner.scan(message(text))
    once = operators_scanner.redact(message(text), scan)
    assert once["params"]["message"] == redacted
    assert len(scan.findings) == redacted.count("<") - text.count("<")  # found by the first scan
    assert operators_scanner.scan(once).findings == ()
    assert operators_scanner.redact(once, operators_scanner.scan(once)) == once


def test_a_phone_lifted_past_other_values_is_reported_with_the_lifted_score(
    operators_scanner: PiiScanner,
) -> None:
    text = "phone jo@example.com jo@example.com 4165550199"
    phone = [
        f for f in operators_scanner.scan(message(text)).findings if f.entity_type == "PHONE_NUMBER"
    ]
    assert [(text[f.start : f.end], f.score) for f in phone] == [("4165550199", 0.75)]


def test_values_of_one_type_with_spaces_between_get_a_placeholder_each(
    operators_scanner: PiiScanner,
) -> None:
    text = "skype: jo.smith jo@example.com jo@example.com 4111 1111 1111 1111 4111111111111111"
    out = operators_scanner.redact(message(text), operators_scanner.scan(message(text)))
    assert out["params"]["message"].split()[2:] == [
        "<EMAIL_ADDRESS>",
        "<EMAIL_ADDRESS>",
        "*******************",
        "****************",
    ]


def test_a_value_that_a_redaction_exposes_is_redacted_too(operators_scanner: PiiScanner) -> None:
    # One run of digits to the card pattern until the phone number is replaced.
    text = "tel at add call 4165550199 4111 1111 1111 1111"
    scan = operators_scanner.scan(message(text))
    assert [f.entity_type for f in scan.findings] == ["PHONE_NUMBER"]
    once = operators_scanner.redact(message(text), scan)
    assert once["params"]["message"] == "tel at add call <PHONE_NUMBER> *******************"
    assert operators_scanner.redact(once, operators_scanner.scan(once)) == once


# -- properties ---------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "jo@example.com",
        "support@marketplace.example",
        "416-555-0199",
        "phone",
        "4111 1111 1111 1111",
        "4111 1111 1111 1112",
        "jo [at] example [dot] com",
        "skype: jo.smith",
        "telegram @jo_smith",
        "four one six five five five zero one nine nine",
        "416.555.0199",
        "536-90-4399",
        "ssn",
        "DE89370400440532013000",
        "10.1.2.3",
        "$1,249.99",
        "05/06/2024",
        "hello",
        "the",
        "at",
        "dot",
        "com",
        ".",
        ",",
        "@",
        "*",
        "<",
        ">",
        "#",
        "é",
        "\u200b",
        "\U0001f600",
        "\n",
    ]
)
TEXTS = st.lists(PIECES, max_size=12).map(" ".join) | st.text(max_size=60)
ACTIONS = st.fixed_dictionaries(
    {
        "kind": st.just("send_message"),
        "params": st.fixed_dictionaries(
            {"message": TEXTS},
            optional={
                "attachments": st.lists(
                    st.one_of(st.fixed_dictionaries({"text": TEXTS}), st.none(), st.integers()),
                    max_size=3,
                ),
                "args": TEXTS.map(lambda t: json.dumps({"body": t, "n": 1})),
            },
        ),
    }
)

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(ACTIONS)
def test_redacting_twice_equals_redacting_once(
    operators_scanner: PiiScanner, action: dict[str, Any]
) -> None:
    once = operators_scanner.redact(action, operators_scanner.scan(action))
    twice = operators_scanner.redact(once, operators_scanner.scan(once))
    assert twice == once


@SETTINGS
@given(ACTIONS)
def test_scan_redact_and_mask_never_mutate_the_input(
    operators_scanner: PiiScanner, action: dict[str, Any]
) -> None:
    before = copy.deepcopy(action)
    scan = operators_scanner.scan(action)
    out = operators_scanner.redact(action, scan)
    masked, _, _ = operators_scanner.mask_for_audit(action, scan)
    assert action == before
    out["params"]["message"] = "changed"
    masked["params"]["message"] = "changed"
    assert action == before


@SETTINGS
@given(ACTIONS)
def test_no_finding_survives_redaction(
    operators_scanner: PiiScanner, action: dict[str, Any]
) -> None:
    once = operators_scanner.redact(action, operators_scanner.scan(action))
    assert operators_scanner.scan(once).findings == ()
