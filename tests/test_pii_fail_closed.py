"""PII fields that hold lists, objects, numbers or too much text never pass unscanned.

Regressions: a list or object in `params.message` was reported as "expected a string"
and `pii.any(...)` answered false, so the shipped pack allowed the raw e-mail; a text
over `max_text_chars` was skipped the same way. Real Presidio runs, as in tests/detect.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from guard import Guard, PiiUnavailable, Verdict
from guard._models import PiiFinding
from guard.audit import open_audit
from guard.policy import parse
from guard.policy._functions import DEFAULT_FUNCTIONS, PiiView

EMAIL = "list@gmail.com"


@pytest.fixture(scope="module")
def market() -> Iterator[Guard]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Guard.from_policy("marketplace-agent", audit="memory://")
    yield g


def send(message: Any, **params: Any) -> dict[str, Any]:
    return {
        "kind": "send_message",
        "actor": "x",
        "params": {"to": "u2", "message": message, **params},
    }


def records(g: Guard) -> str:
    assert g.audit is not None
    return json.dumps([r.record for r in g.audit.iter_records()])


# -- lists and objects in a PII field are scanned leaf by leaf --------------------------


@pytest.mark.parametrize(
    ("message", "field", "redacted"),
    [
        pytest.param(
            [f"email me at {EMAIL}"], "params.message[0]", ["email me at <EMAIL_ADDRESS>"]
        ),
        pytest.param(
            {"inner": f"email me at {EMAIL}"},
            "params.message.inner",
            {"inner": "email me at <EMAIL_ADDRESS>"},
        ),
        pytest.param(
            ["hi", {"parts": [{"text": f"email me at {EMAIL}"}], "n": 3, "ok": True}],
            "params.message[1].parts[0].text",
            ["hi", {"parts": [{"text": "email me at <EMAIL_ADDRESS>"}], "n": 3, "ok": True}],
        ),
        pytest.param(
            {"e mail": EMAIL},
            'params.message["e mail"]',
            {"e mail": "<EMAIL_ADDRESS>"},
        ),
    ],
)
def test_lists_and_objects_in_a_pii_field_are_scanned_and_redacted(
    market: Guard, message: Any, field: str, redacted: Any
) -> None:
    action = send(message)
    before = copy.deepcopy(action)
    d = market.check(action)
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-contact-before-contract"]
    assert [(f.entity_type, f.field) for f in d.pii] == [("EMAIL_ADDRESS", field)]
    assert d.pii_report is not None and d.pii_report.field_errors == {}
    assert d.final_action is not None and d.final_action["params"]["message"] == redacted
    assert action == before  # the caller's action is not mutated
    assert EMAIL not in records(market)


def test_a_list_message_is_denied_when_a_card_is_in_it(market: Guard) -> None:
    d = market.check(send(["hi", "card 4111 1111 1111 1111"]), {"has_contract": True})
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-card-or-ssn-in-messages"]
    assert d.final_action is not None
    assert "4111" not in json.dumps(d.final_action)


def test_numbers_in_a_pii_field_are_scanned_as_text(market: Guard) -> None:
    d = market.check(send(4165550199))
    assert d.pii_report is not None
    assert d.pii_report.fields_scanned == ["params.message"]
    assert d.pii_report.field_errors == {}


# -- what cannot be scanned fails closed ------------------------------------------------


BIG = "Lorem ipsum dolor sit amet. " * 3600 + " email me at big@gmail.com"


def test_a_text_over_max_text_chars_is_denied_not_allowed(market: Guard) -> None:
    d = market.check(send(BIG))
    assert d.verdict is Verdict.DENY and d.final_action is None
    errors = {h.rule_id: h.error for h in d.hits}
    assert set(errors) == {"no-contact-before-contract", "no-card-or-ssn-in-messages"}
    for error in errors.values():
        assert error is not None
        assert error.startswith("PII scan incomplete: params.message: text of 100,826 characters")
    stored = records(market)
    assert "big@gmail.com" not in stored and "Lorem ipsum" not in stored


def test_a_too_large_text_in_a_list_is_denied_too(market: Guard) -> None:
    d = market.check(send(["hello", BIG]), {"has_contract": True})
    assert d.verdict is Verdict.DENY
    assert all(
        h.error and h.error.startswith("PII scan incomplete: params.message[1]: text of")
        for h in d.hits
    )


ON_ERROR_REDACT = """\
name: redact-on-error
version: 1
defaults: {verdict: allow, on_error: redact}
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER]
  fields: [params.message, "params.args$"]
  max_text_chars: 200
rules:
  - id: no-contact
    when: pii.any("EMAIL_ADDRESS", "PHONE_NUMBER")
    effect: redact
  - id: in-args
    when: pii.in_field("params.args", "EMAIL_ADDRESS")
    effect: redact
  - id: in-message
    when: pii.in_field("params.message", "EMAIL_ADDRESS")
    effect: deny
  - id: counted
    when: pii.count() > 0 or pii.max_score() > 0.9 or len(pii) > 0
    effect: escalate
"""


@pytest.fixture(scope="module")
def on_error_redact() -> Guard:
    return Guard([parse(ON_ERROR_REDACT, file="p.yaml")], audit=open_audit("memory://"))


def test_unscanned_fields_are_never_passed_on_raw(on_error_redact: Guard) -> None:
    big = "x" * 300 + f" mail {EMAIL}"
    action = {"kind": "k", "params": {"message": big, "args": '{"to": "ok"}'}}
    d = on_error_redact.check(action)
    assert d.verdict is Verdict.REDACT  # every pii.* rule errs, and follows on_error
    errs = {h.rule_id: h.error for h in d.hits}
    assert set(errs) == {"no-contact", "in-message", "counted"}  # in-args is not affected
    assert all(
        e and e.startswith("PII scan incomplete: params.message: text of 3") for e in errs.values()
    )
    assert d.final_action is not None
    assert d.final_action["params"]["message"] == "[REDACTED]"
    assert d.final_action["params"]["args"] == '{"to": "ok"}'
    assert EMAIL not in records(on_error_redact)


def test_invalid_json_at_a_json_path_fails_closed(on_error_redact: Guard) -> None:
    action = {"kind": "k", "params": {"message": "hello", "args": f"{{not json {EMAIL}"}}
    d = on_error_redact.check(action)
    errors = [h.error for h in d.hits if h.rule_id == "in-args"]
    assert errors and errors[0] is not None
    assert errors[0].startswith("PII scan incomplete: params.args: not valid JSON")
    assert d.final_action is not None and d.final_action["params"]["args"] == "[REDACTED]"
    assert EMAIL not in json.dumps(d.model_dump(mode="json"))
    assert EMAIL not in records(on_error_redact)


# -- the view's rule, unit by unit --------------------------------------------------------


def _finding(field: str) -> PiiFinding:
    return PiiFinding(
        entity_type="EMAIL_ADDRESS",
        field=field,
        start=0,
        end=3,
        score=1.0,
        recognizer="r",
        value_hash="0" * 64,
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("pii.any", ()),
        ("pii.any", ("EMAIL_ADDRESS",)),
        ("pii.count", ()),
        ("pii.max_score", ("EMAIL_ADDRESS",)),
        ("pii.in_field", ("params.message",)),
        ("pii.in_field", ("params",)),
        ("pii.in_field", ("params.message[1].x",)),
    ],
)
def test_an_incomplete_scan_makes_every_pii_question_raise(
    name: str, args: tuple[Any, ...]
) -> None:
    view = PiiView(
        [_finding("params.subject")],
        frozenset({"EMAIL_ADDRESS"}),
        fields=["params.subject"],
        incomplete={"params.message[1]": "expected text, got bytes"},
    )
    spec = DEFAULT_FUNCTIONS.get(name)
    assert spec is not None
    with pytest.raises(
        PiiUnavailable, match=r"PII scan incomplete: params\.message\[1\]: expected"
    ):
        spec.fn({"pii": view}, "rule", *args)
    with pytest.raises(PiiUnavailable, match="PII scan incomplete"):
        view.as_dicts()


def test_an_incomplete_scan_still_answers_for_other_fields() -> None:
    view = PiiView(
        [_finding("params.subject")],
        frozenset({"EMAIL_ADDRESS"}),
        fields=["params.subject"],
        incomplete={"params.message": "too large"},
    )
    spec = DEFAULT_FUNCTIONS.get("pii.in_field")
    assert spec is not None
    assert spec.fn({"pii": view}, "rule", "params.subject", "EMAIL_ADDRESS") is True


def test_in_field_sees_findings_inside_json_strings(on_error_redact: Guard) -> None:
    action = {"kind": "k", "params": {"message": "hello", "args": json.dumps({"to": EMAIL})}}
    d = on_error_redact.check(action)
    assert {h.rule_id for h in d.hits} == {"no-contact", "in-args", "counted"}
    assert all(h.error is None for h in d.hits)
    assert d.verdict is Verdict.ESCALATE


def test_pii_outside_the_listed_fields_is_masked_in_the_record(tmp_path) -> None:
    """Fields the pack does not list are not scanned for rules, but the audit copy of
    every text in them loses what the pattern recognizers find."""
    import json

    from guard import Guard

    g = Guard.from_policy("marketplace-agent", audit=f"sqlite:///{tmp_path / 'a.db'}")
    action = {
        "kind": "send_message",
        "actor": "u1",
        "memo": "mail jane.doe@example.com",
        "params": {"to": "+1 415-555-0132", "message": "hi there", "note": ["call 416-555-0199"]},
    }
    g.check(action, {"has_contract": True})
    record = json.dumps(g.audit.query(limit=1).items[0].record)
    for raw in ("jane.doe@example.com", "415-555-0132", "416-555-0199"):
        assert raw not in record
    assert '"message": "hi there"' in record and '"actor": "u1"' in record
    g.close()


def test_hits_in_the_record_do_not_quote_pii_of_unlisted_fields(tmp_path) -> None:
    import json

    from guard import Guard

    g = Guard.from_policy("marketplace-agent", audit=f"sqlite:///{tmp_path / 'a.db'}")
    phone = "+1 415-555-0132"
    action = {"kind": "send_message", "actor": "u1", "params": {"to": phone, "message": "hi"}}
    decision = g.check(action, {"has_contract": True, "blocked_by": [phone, "jo@example.com"]})
    assert [h.rule_id for h in decision.hits] == ["blocked-user-contact"]
    record = json.dumps(g.audit.query(limit=1).items[0].record)
    assert "415-555-0132" not in record and "jo@example.com" not in record
    assert "<PHONE_NUMBER>" in record
    g.close()
