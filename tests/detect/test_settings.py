"""The pii section is validated before anything is built, with messages that say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from guard.detect import PiiSettings

BASE: dict[str, Any] = {"entities": ["EMAIL_ADDRESS"], "fields": ["params.message"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"entities": []}, "at least 1 item", id="no-entities"),
        pytest.param({"entities": ["email"]}, "upper-case entity name", id="lower-case-entity"),
        pytest.param({"fields": ["params..message"]}, "bad field path", id="bad-path"),
        pytest.param({"threshold": 1.5}, "less than or equal to 1", id="threshold"),
        pytest.param(
            {"operators": {"PHONE_NUMBER": "mask"}}, "not in entities", id="operator-for-unlisted"
        ),
        pytest.param(
            {"operators": {"EMAIL_ADDRESS": "shred"}},
            "'mask', 'replace' or 'hash'",
            id="bad-operator",
        ),
        pytest.param({"allow_list": [" "]}, "non-empty", id="blank-allow-list"),
        pytest.param({"phone_regions": ["usa"]}, "ISO 3166", id="bad-region"),
        pytest.param({"max_text_chars": 0}, "greater than 0", id="max-chars"),
        pytest.param({"nlp_model": " "}, "spaCy package name", id="blank-model"),
        pytest.param(
            {"recognizers": [{"name": "x", "supported_entity": "EMAIL_ADDRESS"}]},
            "needs patterns or a deny_list",
            id="empty-recognizer",
        ),
        pytest.param(
            {"recognizers": [{"name": "x", "supported_entity": "OTHER", "deny_list": ["a"]}]},
            "not in entities",
            id="recognizer-for-unlisted",
        ),
        pytest.param(
            {
                "recognizers": [
                    {
                        "name": "x",
                        "supported_entity": "EMAIL_ADDRESS",
                        "patterns": [{"regex": "a", "score": 2}],
                    }
                ]
            },
            "score must be a number",
            id="pattern-score",
        ),
        pytest.param(
            {
                "recognizers": [
                    {"name": "x", "supported_entity": "EMAIL_ADDRESS", "patterns": [{"rgx": "a"}]}
                ]
            },
            "unknown keys",
            id="pattern-keys",
        ),
        pytest.param({"unknown": 1}, "Extra inputs are not permitted", id="extra-key"),
    ],
)
def test_bad_settings_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PiiSettings(**{**BASE, **change})


def test_defaults_and_operator_lookup() -> None:
    s = PiiSettings(**BASE, operators={"EMAIL_ADDRESS": "hash"}, default_operator="mask")
    assert s.operator_for("EMAIL_ADDRESS") == "hash"
    assert s.operator_for("PHONE_NUMBER") == "mask"
    assert s.threshold == 0.5 and s.max_text_chars == 100_000 and s.parse_json_strings


def test_duplicates_are_folded() -> None:
    s = PiiSettings(entities=["EMAIL_ADDRESS", "EMAIL_ADDRESS"], fields=["a.b", "a.b"])
    assert s.entities == ["EMAIL_ADDRESS"] and s.fields == ["a.b"]
