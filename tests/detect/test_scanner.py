"""PiiScanner: fields, outcomes, policy knobs, and detectors plugged in through the protocol."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

import pytest

from guard._exceptions import InvalidAction
from guard.detect import (
    DetectionError,
    Detector,
    PiiConfigError,
    PiiScanner,
    PiiSettings,
    PiiWarning,
    RecognizerSpec,
    Span,
)
from tests.detect.conftest import KEY, make_scanner, message


def test_scan_reports_findings_with_concrete_fields(pattern_scanner: PiiScanner) -> None:
    action = {
        "kind": "send_message",
        "params": {
            "message": "mail jo@example.com",
            "attachments": [{"text": "no pii here"}, {"text": "skype: jo.smith"}],
        },
    }
    scan = pattern_scanner.scan(action)
    assert [(f.entity_type, f.field, f.start, f.end) for f in scan.findings] == [
        ("EMAIL_ADDRESS", "params.message", 5, 19),
        ("CONTACT_HANDLE", "params.attachments[1].text", 7, 15),
    ]
    assert scan.report.fields_scanned == [
        "params.message",
        "params.attachments[0].text",
        "params.attachments[1].text",
    ]
    assert scan.report.fields_missing == ["params.subject", "params.args"]
    assert scan.report.field_errors == {}
    assert scan.report.detectors[0].startswith("presidio-analyzer@")


def test_findings_hold_no_raw_values(pattern_scanner: PiiScanner) -> None:
    scan = pattern_scanner.scan(message("mail jo@example.com or call 416.555.0199"))
    dumped = json.dumps([f.model_dump() for f in scan.findings]) + scan.report.model_dump_json()
    assert "jo@example.com" not in dumped and "0199" not in dumped
    assert {f.recognizer for f in scan.findings} == {
        "OfflineEmailRecognizer",
        "GuardPhoneRecognizer",
        "ObfuscatedPhoneRecognizer",
    }
    assert scan.findings[0].value_hash == pattern_scanner.hash_value("jo@example.com")


def test_json_tool_arguments_are_scanned_leaf_by_leaf(pattern_scanner: PiiScanner) -> None:
    args = json.dumps(
        {"to": "jo@example.com", "body": ["hi", {"note": "telegram @jo_smith"}], "n": 5}
    )
    scan = pattern_scanner.scan({"params": {"args": args}})
    assert [(f.entity_type, f.field) for f in scan.findings] == [
        ("EMAIL_ADDRESS", "params.args$.to"),
        ("CONTACT_HANDLE", "params.args$.body[1].note"),
    ]
    assert "params.args$.body[0]" in scan.report.fields_scanned


def test_explicit_json_path_reaches_one_leaf() -> None:
    scanner = make_scanner(["EMAIL_ADDRESS"], fields=["params.args$.to", "params.args$.cc"])
    scan = scanner.scan(
        {"params": {"args": json.dumps({"to": "jo@example.com", "body": "x@y.com"})}}
    )
    assert [f.field for f in scan.findings] == ["params.args$.to"]
    assert scan.report.fields_missing == ["params.args$.cc"]


def test_a_string_that_is_not_json_is_scanned_as_text(pattern_scanner: PiiScanner) -> None:
    scan = pattern_scanner.scan({"params": {"args": "[urgent] mail jo@example.com"}})
    assert [f.field for f in scan.findings] == ["params.args"]


def test_allow_list_keeps_the_platforms_own_address(pattern_scanner: PiiScanner) -> None:
    text = "write to Support@Marketplace.example or support [at] marketplace [dot] example"
    assert pattern_scanner.scan(message(text)).findings == ()


def test_threshold_drops_weak_findings() -> None:
    strict = make_scanner(["OBFUSCATED_PHONE"], threshold=0.9)
    loose = make_scanner(["OBFUSCATED_PHONE"], threshold=0.5)
    text = "it is 416.555.0199"  # 0.6: unusual separators, no context word
    assert strict.scan(message(text)).findings == ()
    assert len(loose.scan(message(text)).findings) == 1


def test_custom_recognizers_from_yaml_shapes() -> None:
    scanner = make_scanner(
        ["EMPLOYEE_ID", "PROJECT"],
        recognizers=[
            RecognizerSpec(
                name="employee ids",
                supported_entity="EMPLOYEE_ID",
                patterns=[{"name": "emp", "regex": r"\bEMP-\d{6}\b", "score": 0.9}],
            ),
            RecognizerSpec(name="projects", supported_entity="PROJECT", deny_list=["Bluebird"]),
        ],
    )
    scan = scanner.scan(message("EMP-123456 works on bluebird, not EMP-12"))
    assert [(f.entity_type, f.recognizer, f.start) for f in scan.findings] == [
        ("EMPLOYEE_ID", "employee ids", 0),
        ("PROJECT", "projects", 20),
    ]


def test_invalid_custom_regex_is_a_config_error() -> None:
    spec = RecognizerSpec(name="bad", supported_entity="X_ID", patterns=[{"regex": "(unclosed"}])
    with pytest.raises(PiiConfigError, match="custom recognizer 'bad' is invalid: .*regex"):
        make_scanner(["X_ID"], recognizers=[spec])


def test_unknown_entity_names_the_allowed_ones() -> None:
    with pytest.raises(PiiConfigError) as info:
        make_scanner(["EMAIL_ADRESS"])
    assert "unknown PII entity 'EMAIL_ADRESS'" in str(info.value)
    assert "EMAIL_ADDRESS" in str(info.value) and "OBFUSCATED_PHONE" in str(info.value)


def test_missing_ner_model_warns_and_reports_not_scanned() -> None:
    with pytest.warns(PiiWarning, match="PERSON will not be scanned"):
        scanner = make_scanner(["PERSON", "EMAIL_ADDRESS"], nlp_model="no_such_spacy_model")
    assert scanner.entities_scanned == {"EMAIL_ADDRESS"}
    assert scanner.entities_not_scanned == {"PERSON"}
    scan = scanner.scan(message("John Smith, jo@example.com"))
    assert scan.report.entities_not_scanned == ["PERSON"]
    assert [f.entity_type for f in scan.findings] == ["EMAIL_ADDRESS"]
    assert not any(d.startswith("spacy:") for d in scan.report.detectors)


def test_nothing_scannable_erases_instead_of_claiming_a_scan() -> None:
    with pytest.warns(PiiWarning):
        scanner = make_scanner(["PERSON"], nlp_model="no_such_spacy_model")
    scan = scanner.scan(message("John Smith"))
    assert scan.report.fields_scanned == []
    assert "not scanned" in scan.report.field_errors["params.message"]
    masked, _, erased = scanner.mask_for_audit(message("John Smith"), scan)
    assert erased == ["params.message"] and "John" not in json.dumps(masked)


def test_ner_runs_only_the_components_it_needs(ner_scanner: PiiScanner) -> None:
    scan = ner_scanner.scan(message("My name is John Smith."))
    spacy_label = next(d for d in scan.report.detectors if d.startswith("spacy:"))
    assert spacy_label.endswith("[senter,ner]")


def test_scan_batch_equals_scan_one_by_one(ner_scanner: PiiScanner) -> None:
    actions = [
        message("I'm Maria Garcia from Berlin, mail maria@example.com"),
        message(""),
        {"params": {}},
        message("Call John Smith on +1 416 555 0199, phone number for work"),
    ]
    batch = ner_scanner.scan_batch(actions)
    single = [ner_scanner.scan(a) for a in actions]
    assert [b.findings for b in batch] == [s.findings for s in single]
    assert [b.report for b in batch] == [s.report for s in single]


def test_non_mapping_action_is_refused(pattern_scanner: PiiScanner) -> None:
    with pytest.raises(InvalidAction, match="must be a mapping, got list"):
        pattern_scanner.scan([1, 2])  # type: ignore[arg-type]


# -- detectors through the extension point ------------------------------------------------


class FakeDetector:
    """Flags every occurrence of 'secret' as SECRET, and fails on texts containing 'boom'."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []

    def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
        self.calls.append((list(texts), list(entities)))
        if any("boom" in t for t in texts):
            raise DetectionError("the fake detector exploded")
        out = []
        for text in texts:
            i = text.find("secret")
            out.append([] if i < 0 else [Span("SECRET", i, i + 6, 0.9, "fake")])
        return out


def test_a_fake_detector_plugs_in_through_the_protocol() -> None:
    fake = FakeDetector()
    assert isinstance(fake, Detector)
    settings = PiiSettings(
        entities=["SECRET"], fields=["params.message", "params.attachments[*].text"]
    )
    scanner = PiiScanner(settings, detector=fake, hash_key=KEY)
    action = {
        "params": {"message": "a secret", "attachments": [{"text": "boom"}, {"text": "secret!"}]}
    }
    scan = scanner.scan(action)
    assert [(f.field, f.start) for f in scan.findings] == [
        ("params.message", 2),
        ("params.attachments[1].text", 0),
    ]
    assert scan.report.detectors == ["fake"]
    assert scan.report.field_errors == {"params.attachments[0].text": "the fake detector exploded"}
    assert fake.calls[0] == (["a secret", "boom", "secret!"], ["SECRET"])  # one batched call first


def test_a_detector_returning_a_wrong_shape_is_an_error_per_field() -> None:
    class Broken(FakeDetector):
        def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
            return [[Span("SECRET", 0, 999, 0.9, "broken")] for _ in texts]

    scanner = PiiScanner(
        PiiSettings(entities=["SECRET"], fields=["params.message"]), detector=Broken()
    )
    scan = scanner.scan(message("tiny"))
    assert "outside the text" in scan.report.field_errors["params.message"]


def test_entity_aware_detector_decides_what_is_scanned() -> None:
    class Partial(FakeDetector):
        supported_entities = frozenset({"SECRET", "OTHER"})

        def prepare(self, entities: Collection[str]) -> tuple[frozenset[str], tuple[str, ...]]:
            return frozenset(entities) - {"OTHER"}, ("partial@1",)

    scanner = PiiScanner(
        PiiSettings(entities=["SECRET", "OTHER"], fields=["params.message"]), detector=Partial()
    )
    scan = scanner.scan(message("secret"))
    assert scan.report.entities_scanned == ["SECRET"]
    assert scan.report.entities_not_scanned == ["OTHER"]
    assert scan.report.detectors == ["partial@1"]


def test_regex_timeout_is_a_field_error_not_a_silent_skip() -> None:
    slow = RecognizerSpec(
        name="slow", supported_entity="SLOW", patterns=[{"regex": r"(a|aa)+b", "score": 0.9}]
    )
    action = {"params": {"message": "a" * 40 + "c", "subject": "jo@example.com"}}
    scanner = make_scanner(
        ["SLOW", "EMAIL_ADDRESS"],
        recognizers=[slow],
        regex_timeout_ms=1,
        fields=["params.message", "params.subject"],
    )
    scan = scanner.scan(action)
    assert "regex budget" in scan.report.field_errors["params.message"]
    assert scan.report.fields_scanned == ["params.subject"]
    assert [f.entity_type for f in scan.findings] == ["EMAIL_ADDRESS"]


def test_results_are_cached_per_text_digest() -> None:
    scanner = make_scanner(["EMAIL_ADDRESS"], cache_size=8)
    detector = scanner.detector
    first = scanner.scan(message("jo@example.com"))
    before = len(detector._cache)  # type: ignore[attr-defined]
    again = scanner.scan(message("jo@example.com"))
    assert again.findings == first.findings
    assert len(detector._cache) == before  # type: ignore[attr-defined]


def test_the_engine_is_built_once_per_process() -> None:
    a = make_scanner(["EMAIL_ADDRESS"])
    b = make_scanner(["PHONE_NUMBER"], threshold=0.9)
    assert a.detector is b.detector
