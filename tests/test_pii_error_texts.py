"""Rule errors quote the values they fail on: for PII fields those quotes are masked.

Regression: `when: params.message > 5` on a message holding an e-mail and a card number
put `cannot compare string 'mail jane.doe@exa...d 4111111111111111' > number 5` into
hits[].error and hits[].message, and so into the /v1/check response and the audit log.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from guard import Guard, Verdict
from guard.audit import open_audit
from guard.detect._scrub import field_values, mask_literals, mask_values
from guard.policy import parse
from guard.policy._functions import describe

MESSAGE = "mail jane.doe@example.com card 4111111111111111"
RAW = ("jane.doe", "example.com", "4111111111111111", "@exa", "d 4111")

PACK = """\
name: leak
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD]
  fields: [params.message, params.args]
rules:
  - id: compare
    match: {kind: send_message}
    when: params.message > 5
    effect: deny
  - id: convert
    match: {kind: send_message}
    when: int(params.message) > 5
    effect: deny
  - id: not-boolean
    match: {kind: send_message}
    when: params.message
    effect: deny
  - id: domain
    match: {kind: send_message}
    when: domain(params.message) == "x"
    effect: deny
  - id: args
    match: {kind: call}
    when: params.args > 5
    effect: deny
  - id: plain-field
    match: {kind: send_message}
    when: params.to > 5
    effect: deny
  - id: explained
    match: {kind: send_message}
    when: len(params.message) > 0
    effect: escalate
    message: "message {params.message} is long"
"""


@pytest.fixture(scope="module")
def guard() -> Guard:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Guard([parse(PACK, file="leak.yaml")], audit=open_audit("memory://"))


def stored(g: Guard) -> str:
    assert g.audit is not None
    return json.dumps([r.record for r in g.audit.iter_records()])


def assert_clean(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(MESSAGE, id="string"),
        pytest.param([MESSAGE, "x"], id="list"),
        pytest.param({"body": MESSAGE}, id="object"),
        pytest.param("x " * 50 + MESSAGE + " y" * 50, id="long-string"),
        pytest.param('it\'s "quoted" ' + MESSAGE, id="quotes-in-value"),
    ],
)
def test_rule_errors_hold_no_raw_pii(guard: Guard, message: Any) -> None:
    action = {"kind": "send_message", "actor": "x", "params": {"to": "u2", "message": message}}
    d = guard.check(action)
    assert d.verdict is Verdict.DENY
    errors = [h for h in d.hits if h.error is not None]
    assert {h.rule_id for h in errors} >= {"compare", "plain-field"}
    response = json.dumps(d.model_dump(mode="json"))
    assert_clean(response)
    assert_clean(stored(guard))
    compare = next(h for h in d.hits if h.rule_id == "compare")
    assert compare.error is not None and "'<masked>'" in compare.error
    assert compare.message is not None and compare.message.endswith(compare.error)


def test_values_of_other_fields_stay_readable(guard: Guard) -> None:
    d = guard.check({"kind": "send_message", "params": {"to": "u2", "message": MESSAGE}})
    plain = next(h for h in d.hits if h.rule_id == "plain-field")
    assert plain.error is not None and "'u2'" in plain.error


def test_messages_and_evidence_stay_masked(guard: Guard) -> None:
    d = guard.check({"kind": "send_message", "params": {"to": "u2", "message": MESSAGE}})
    hit = next(h for h in d.hits if h.rule_id == "explained")
    assert hit.message == "message mail <EMAIL_ADDRESS> card <CREDIT_CARD> is long"
    assert hit.evidence["len(params.message)"] == len(MESSAGE)  # a count is not PII
    assert_clean(json.dumps(hit.evidence))


def test_json_string_fields_are_masked_whole_and_by_leaf(guard: Guard) -> None:
    args = json.dumps({"body": MESSAGE, "n": 1})
    d = guard.check({"kind": "call", "params": {"args": args}})
    [hit] = d.hits
    assert hit.error is not None and "'<masked>'" in hit.error
    assert_clean(json.dumps(d.model_dump(mode="json")))
    assert_clean(stored(guard))


# -- the masking itself --------------------------------------------------------------------


def test_a_shortened_repr_is_recognised_by_its_pieces() -> None:
    text = f"cannot compare {describe(MESSAGE)} > number 5"
    assert "..." in text
    assert mask_values(text, [MESSAGE]) == "cannot compare string '<masked>' > number 5"


def test_quoted_values_in_any_python_message_are_masked() -> None:
    text = f"invalid literal for int() with base 10: {MESSAGE!r}"
    assert mask_values(text, [MESSAGE]) == "invalid literal for int() with base 10: '<masked>'"
    assert mask_values(f"b{MESSAGE!r} and {MESSAGE}", [MESSAGE]) == "b'<masked>' and <masked>"


def test_unrelated_literals_and_apostrophes_are_left_alone() -> None:
    text = "can't compare 'abc' with 'u2' in 'params.message > 5'"
    assert mask_values(text, [MESSAGE]) == text
    assert mask_literals("x 'a' y \"b\"") == "x '<masked>' y \"<masked>\""


def test_field_values_reach_leaves_and_whole_json_strings() -> None:
    data = {"params": {"message": [MESSAGE, 4165550199], "args": json.dumps({"b": "jo@x.io"})}}
    values = field_values(data, ["params.message", "params.args"])
    assert MESSAGE in values and "4165550199" in values
    assert json.dumps({"b": "jo@x.io"}) in values and "jo@x.io" in values


def test_the_scanner_masks_what_it_finds_in_texts_from_elsewhere(guard: Guard) -> None:
    scanner = guard._scanners[guard.pack().digest]
    assert scanner is not None
    text = "value 'x' then card 4111 1111 1111 1111 and jo@example.com"
    assert scanner.scrub(text, {}) == "value 'x' then card <CREDIT_CARD> and <EMAIL_ADDRESS>"


JSON_PATH_PACK = """\
name: json-path
version: 1
pii:
  entities: [EMAIL_ADDRESS]
  fields: ["params.args$.body"]
rules:
  - id: r
    when: len(params.args) > 0
    effect: escalate
    message: "args {params.args}"
"""


def test_evidence_and_messages_of_a_json_path_field_are_masked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Guard([parse(JSON_PATH_PACK, file="j.yaml")])
    args = json.dumps({"body": "mail jo@example.com"})
    [hit] = g.evaluate({"kind": "k", "params": {"args": args}}).hits
    assert hit.message == 'args {"body": "mail <EMAIL_ADDRESS>"}'
    assert hit.evidence["params.args"] == '{"body": "mail <EMAIL_ADDRESS>"}'
