"""A pack that lists `actor` as a PII field keeps it out of the whole audit record; the
tenant, which says whose decision it is, cannot be listed."""

from __future__ import annotations

import json

import pytest

from guard import Guard, PolicyError
from guard.policy import parse

pytest.importorskip("presidio_analyzer")

PACK = """\
name: p
version: 1
pii:
  entities: [EMAIL_ADDRESS]
  fields: [actor, params.message]
rules:
  - id: no-mail
    when: pii.any("EMAIL_ADDRESS")
    effect: redact
"""


def test_a_listed_actor_is_masked_in_the_records_own_copy() -> None:
    g = Guard([parse(PACK)], audit="memory://")
    d = g.check({"kind": "msg", "actor": "jo.smith@gmail.com", "params": {"message": "hi"}})
    assert d.actor == "jo.smith@gmail.com"  # the caller's own decision keeps it
    assert g.audit is not None
    record = g.audit.get(d.id).record
    assert "jo.smith@gmail.com" not in json.dumps(record)
    assert record["actor"] == record["action"]["actor"] == "<EMAIL_ADDRESS>"
    assert [e.record["id"] for e in g.audit.query(actor="<EMAIL_ADDRESS>").items] == [d.id]


def test_an_actor_with_no_finding_is_stored_as_sent() -> None:
    g = Guard([parse(PACK)], audit="memory://")
    d = g.check({"kind": "msg", "actor": "u7", "params": {"message": "hi"}})
    assert g.audit is not None
    assert g.audit.get(d.id).record["actor"] == "u7"


def test_tenant_cannot_be_a_pii_field() -> None:
    text = PACK.replace("fields: [actor, params.message]", "fields: [tenant, params.message]")
    with pytest.raises(PolicyError, match="the tenant cannot be a PII field") as info:
        parse(text, file="p.yaml")
    assert info.value.line == 5
