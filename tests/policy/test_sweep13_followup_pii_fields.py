"""Sweep 13 follow-up: a `pii.fields` path that no input has (the context, `action.`, a
misspelt `params`) is a load error, not a field that is silently never scanned; a
top-level key an action carries (`body`) is a field like any other."""

from __future__ import annotations

import pytest

from guard import Guard, PolicyError, Verdict
from guard.policy import parse


def pack(fields: str) -> str:
    return (
        "name: p\nversion: 1\n"
        f"pii:\n  entities: [EMAIL_ADDRESS]\n  fields: {fields}\n"
        "rules:\n  - id: r\n    when: pii.any()\n    effect: redact\n"
    )


@pytest.mark.parametrize(
    ("fields", "root", "column"),
    [
        pytest.param("[params.message, context.m]", "context", 28, id="context"),
        pytest.param("[kind]", "kind", 12, id="kind"),
        pytest.param("[context.m, context.m]", "context", 12, id="duplicate"),
        pytest.param("[parms.message]", "parms", 12, id="misspelt-params"),
        pytest.param("[Params.message]", "Params", 12, id="params-case"),
    ],
)
def test_a_field_no_input_has_is_a_load_error(fields: str, root: str, column: int) -> None:
    with pytest.raises(PolicyError) as info:
        parse(pack(fields), file="p.yaml")
    err = info.value
    assert f"starts with {root!r}, which the PII scan never reads" in str(err)
    assert "a path into the action as sent" in str(err)
    assert (err.line, err.column) == (5, column)


def test_a_misspelt_params_is_named() -> None:
    with pytest.raises(PolicyError, match=r"\(did you mean 'params'\?\)"):
        parse(pack("[param.message]"))


def test_a_field_under_action_says_what_to_write() -> None:
    with pytest.raises(PolicyError, match=r"\(write 'params.message'\)"):
        parse(pack("[action.params.message]"))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param("[params.message]", id="params"),
        pytest.param('[params, "params.args$.body", "params.items[*].note"]', id="nested"),
        pytest.param("[actor]", id="actor"),
        pytest.param("[item.title, item]", id="item"),
        pytest.param('[body, "items[*].note", foo.bar]', id="top-level-keys"),
    ],
)
def test_fields_of_the_action_or_the_item_load(fields: str) -> None:
    assert parse(pack(fields)).pii is not None


def test_the_scan_reads_what_the_loader_lets_through() -> None:
    packed = parse(pack("[params.message, actor]"))
    with Guard([packed], audit="memory://") as g:
        d = g.check({"kind": "k", "actor": "jo@example.com", "params": {"message": "hi"}})
    assert d.verdict is Verdict.REDACT and [f.field for f in d.pii] == ["actor"]


def test_a_top_level_key_an_action_carries_is_scanned() -> None:
    packed = parse(pack("[body, items]"))
    with Guard([packed], audit="memory://") as g:
        d = g.check({"kind": "k", "body": "mail jo@example.com", "items": [{"n": "a@b.example"}]})
    assert d.verdict is Verdict.REDACT
    assert sorted(f.field for f in d.pii) == ["body", "items[0].n"]
    assert d.final_action is not None and "jo@example.com" not in str(d.final_action)
