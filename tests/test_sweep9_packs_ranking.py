"""Red-team pass over the shipped ranking pack: each evasion beside its near miss.

Both evasions went through before this sweep: a seller's phone number or handle in a
listing's title or description was shown as written, and a contact under a field name other
than seller_email and seller_phone (contact_email, seller_whatsapp, a phone written as a
number under mobile) was shown in the results.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from guard import Guard, Verdict

P = pytest.param


@pytest.fixture(scope="module")
def ranking() -> Iterator[Guard]:
    with Guard.from_policy("ranking") as g:
        yield g


def item(**fields: Any) -> dict[str, Any]:
    return {"id": "a", "score": 0.9, "verified": True, **fields}


@pytest.mark.parametrize(
    ("field", "text", "leak"),
    [
        P("title", "Plumber in Toronto, call 416-555-0199", "416-555-0199", id="phone-in-title"),
        P("description", "write to jo at gmail dot com", "gmail", id="spelt-email"),
        P("title", "Tutor - telegram @jo_smith", "jo_smith", id="handle"),
        P("description", "mail me: jo.smith88@gmail.com", "jo.smith88", id="email"),
    ],
)
def test_contact_details_in_a_listings_text_are_masked_and_the_item_kept(
    ranking: Guard, field: str, text: str, leak: str
) -> None:
    items = [item(**{field: text}), {**item(), "id": "b"}]
    before = copy.deepcopy(items)
    d = ranking.rank(items, context={})
    assert d.verdict is Verdict.REDACT
    assert [o.id for o in d.items or [] if o.rule_ids] == ["a"]
    assert d.items is not None and d.items[0].rule_ids == ["hide-contact-in-listing-text"]
    assert [i["id"] for i in d.final_items or []] == ["a", "b"]
    assert d.final_items is not None and leak not in d.final_items[0][field]
    assert items == before  # the caller's items are not mutated


@pytest.mark.parametrize(
    "fields",
    [
        P({"title": "Plumbing in Toronto, 20 years"}, id="title"),
        P({"description": "5 stars from 120 reviews; from $45/h; open 9-17"}, id="numbers"),
        P({"title": "Ask support@marketplace.example about refunds"}, id="allow-listed"),
        P({"tags": ["plumbing", "24/7"], "location": {"city": "Toronto"}}, id="no-text"),
    ],
)
def test_near_miss_listing_text_is_kept_as_written(ranking: Guard, fields: dict[str, Any]) -> None:
    d = ranking.rank([item(**fields)], context={})
    assert d.verdict is Verdict.ALLOW
    assert d.final_items == [item(**fields)]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        P({"contact_email": "jo@example.com"}, False, id="contact-email"),
        P({"seller_whatsapp": "+14165550199"}, False, id="whatsapp"),
        P({"Seller_Email": "jo@example.com"}, False, id="seller-email-in-other-case"),
        P({"sellerPhone": "416-555-0199"}, False, id="camel-case-phone"),
        P({"mobile": 4165550199}, False, id="phone-as-a-number"),
        P({"telegram": "@jo_smith"}, False, id="telegram"),
        P({"contact": {"email": "jo@example.com"}}, True, id="contact-object"),
        P({"phones": ["416-555-0199"]}, True, id="phone-list"),
    ],
)
def test_a_contact_field_the_pack_does_not_hide_drops_the_item(
    ranking: Guard, fields: dict[str, Any], error: bool
) -> None:
    d = ranking.rank([item(**fields), {**item(), "id": "b"}], context={})
    assert d.verdict is Verdict.REDACT
    assert [i["id"] for i in d.final_items or []] == ["b"]
    hits = [(h.rule_id, h.error is not None) for h in d.hits]
    assert hits == [("drop-unhidden-contact-field", error)]


@pytest.mark.parametrize(
    "fields",
    [
        P({"phone_verified": True, "email_opt_in": None}, id="flags"),
        P({"phone_clicks": 12, "contact_rate": 0.35}, id="counts"),
    ],
)
def test_near_miss_flags_and_counts_named_after_a_contact_are_kept(
    ranking: Guard, fields: dict[str, Any]
) -> None:
    d = ranking.rank([item(**fields)], context={})
    assert d.verdict is Verdict.ALLOW
    assert d.final_items == [item(**fields)]


def test_the_fields_the_pack_hides_are_still_only_blanked(ranking: Guard) -> None:
    d = ranking.rank([item(seller_email="jo@example.com", seller_phone="416-555-0199")])
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["hide-seller-contact"]
    assert d.final_items is not None and len(d.final_items) == 1


def test_without_pii_detection_a_listings_text_is_hidden_and_the_item_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import guard.detect
    from guard._exceptions import DependencyMissing

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DependencyMissing("presidio-analyzer is not installed")

    monkeypatch.setattr(guard.detect, "PiiScanner", unavailable)
    with Guard.from_policy("ranking") as g:
        items = [item(title="Plumber, call 416-555-0199"), {**item(), "id": "b"}]
        d = g.rank(items, context={})
    assert d.verdict is Verdict.REDACT
    assert d.final_items == [item(title="[REDACTED]"), {**item(), "id": "b"}]
    assert [(h.rule_id, h.effect, h.error is not None) for h in d.hits] == [
        ("hide-contact-in-listing-text", Verdict.REDACT, True)
    ]
