"""Red-team pass over the shipped marketplace-agent pack: each evasion beside its near miss.

Every evasion here went through before this sweep: a blocked user reached under another
case ("U7"), as a number (7 blocked as 7), or with a space or an "@" around the id; payments
and messages counted apart for "pa" and "PA"; contact details in an attachment's name (an
attachment with a name was refused outright, a false positive), in a proposal's cover letter,
or with "at" and "dot" spelt in Spanish, French, Italian or Russian, or on KakaoTalk, Zalo,
QQ, VK or 微信.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from guard import Guard, InvalidAction, Verdict

P = pytest.param
_ACTORS = itertools.count()


@pytest.fixture
def market() -> Iterator[Guard]:
    with Guard.from_policy("marketplace-agent") as g:
        yield g


def message(to: Any, text: str = "hi", **params: Any) -> dict[str, Any]:
    actor = f"sender-{next(_ACTORS)}"  # one sender per message: no rate limit in the way
    return {"kind": "send_message", "actor": actor, "params": {"to": to, "message": text, **params}}


def rule_ids(g: Guard, action: dict[str, Any], context: dict[str, Any] | None = None) -> list[str]:
    return [h.rule_id for h in g.check(action, context=context or {}).hits]


# -- blocked users ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "blocked"),
    [
        P("U7", ["u7"], id="upper-case-id"),
        P("u7", ["U7"], id="blocked-list-in-upper-case"),
        P("JoSmith", ["josmith"], id="user-name-in-mixed-case"),
        P(7, [7], id="numeric-id-blocked-as-a-number"),
        P("7", [7], id="numeric-id-as-text"),
        P(" u7", ["u7"], id="leading-space"),
        P("u7 ", ["u7"], id="trailing-space"),
        P("@u7", ["u7"], id="at-mention"),
        P("u7\u200b", ["u7"], id="zero-width-space"),
        P("u7\u00a0", ["u7"], id="no-break-space"),
        P(["u2", "U7"], ["u7"], id="list-upper-case"),
        P(["u2", 7], [7], id="list-numeric"),
        P(["u2", "7"], [7], id="list-numeric-as-text"),
        P(["u2", "@u7"], ["u7"], id="list-at-mention"),
        P(["u2", "u7"], ["U7"], id="list-blocked-in-upper-case"),
    ],
)
def test_a_blocked_user_under_another_spelling_is_still_blocked(
    market: Guard, to: Any, blocked: list[Any]
) -> None:
    d = market.check(message(to), context={"blocked_by": blocked})
    assert d.verdict is Verdict.DENY
    assert [h.rule_id for h in d.hits] == ["blocked-user-contact"]
    assert d.hits[0].error is None


@pytest.mark.parametrize(
    ("to", "blocked"),
    [
        P("u77", ["u7"], id="longer-id"),
        P("u2", ["u7"], id="another-user"),
        P(["u2", "u3"], ["u7", 77], id="list-of-others"),
        P(["user-42", "jo.smith_7", 1234], ["u7"], id="ids-with-dashes-dots-digits"),
        P("@u2", ["u7"], id="at-mention-of-another-user"),
        P(77, [7], id="another-number"),
        P("u7", [], id="nobody-blocked"),
    ],
)
def test_near_miss_recipients_are_not_blocked(market: Guard, to: Any, blocked: list[Any]) -> None:
    assert rule_ids(market, message(to), {"blocked_by": blocked}) == []


def test_a_message_without_a_recipient_still_fails_closed(market: Guard) -> None:
    action = message("u2")
    del action["params"]["to"]
    d = market.check(action, context={})
    assert d.verdict is Verdict.DENY
    assert [(h.rule_id, h.error is not None) for h in d.hits] == [("blocked-user-contact", True)]


# -- counts per actor, case aside -----------------------------------------------------------


def test_payments_by_one_actor_in_other_case_add_up(market: Guard) -> None:
    pay = [{"kind": "release_payment", "actor": a, "params": {"amount": 300}} for a in "pP"]
    assert rule_ids(market, pay[0]) == []
    assert rule_ids(market, pay[1]) == ["payments-add-up-past-approval"]


def test_a_burst_of_payments_by_one_actor_in_other_cases_is_held(market: Guard) -> None:
    verdicts = [
        market.check({"kind": "release_payment", "actor": a, "params": {"amount": 10}}).verdict
        for a in ["qa", "QA", "Qa", "qA"]
    ]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.ESCALATE]


def test_the_messaging_rate_limit_counts_an_actor_in_any_case_as_one(market: Guard) -> None:
    spellings = itertools.cycle(["casey", "CASEY", "Casey", "cAsEy"])
    send = {"kind": "send_message", "params": {"to": "u2", "message": "hello again"}}
    hits = [rule_ids(market, {**send, "actor": next(spellings)}) for _ in range(21)]
    assert hits[:20] == [[]] * 20
    assert hits[20] == ["messaging-rate-limit"]


@pytest.mark.parametrize(
    "actor", ["u5 ", " u5", "u5\t", "u5\u200b", "\u00a0u5", "u\u200d5", "u5\n"]
)
@pytest.mark.parametrize("kind", ["release_payment", "send_message"])
def test_an_actor_with_spaces_or_invisible_characters_is_refused(
    market: Guard, actor: str, kind: str
) -> None:
    params = {"amount": 100} if kind == "release_payment" else {"to": "u2", "message": "hi"}
    if actor.strip("\t\n") != actor:  # a control character: refused before any rule
        with pytest.raises(InvalidAction, match="ids must be printable text"):
            market.check({"kind": kind, "actor": actor, "params": params}, context={})
        return
    d = market.check({"kind": kind, "actor": actor, "params": params}, context={})
    assert d.verdict is Verdict.DENY
    assert [h.rule_id for h in d.hits] == ["actor-written-plainly"]


@pytest.mark.parametrize("actor", ["client-3", "u5", "jo.smith_7", "Jo Smith", None])
def test_near_miss_plain_actors_pay(market: Guard, actor: str | None) -> None:
    action = {"kind": "release_payment", "actor": actor, "params": {"amount": 100}}
    assert rule_ids(market, action) == []


# -- attachments, proposals ----------------------------------------------------------------


def test_an_attachment_may_have_a_name_and_the_name_is_scanned(market: Guard) -> None:
    plain = message("u2", "plan attached", attachments=[{"name": "plan-v2.pdf", "text": "w1"}])
    assert rule_ids(market, plain) == []
    leaky = message("u2", attachments=[{"name": "call 416-555-0199.pdf", "text": "my plan"}])
    before = copy.deepcopy(leaky)
    d = market.check(leaky, context={})
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-contact-before-contract"]
    assert d.final_action is not None
    assert "416" not in d.final_action["params"]["attachments"][0]["name"]
    assert leaky == before


@pytest.mark.parametrize(
    "attachment",
    [
        P({"name": "cv.pdf"}, id="name-without-text"),
        P({"name": "cv.pdf", "text": "ok", "content": "jo@example.com"}, id="third-key"),
        P({"text": "ok", "url": "https://jo.example"}, id="url-beside-text"),
    ],
)
def test_an_attachment_beyond_a_text_and_a_name_is_still_refused(
    market: Guard, attachment: dict[str, Any]
) -> None:
    hits = rule_ids(market, message("u2", attachments=[attachment]))
    assert hits == ["message-unscanned-parameter"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        P({"message": "my offer", "cover_letter": "mail jo@example.com"}, False, id="cover"),
        P({"message": "my offer", "body": "call 416 555 0199"}, False, id="body"),
        P({"message": "my offer", "job_id": "jo@example.com"}, False, id="id-with-at"),
        P({"message": "my offer", "link": "t.me/jo_smith"}, False, id="link"),
        P({"message": "offer", "milestones": [{"text": "jo@example.com"}]}, True, id="list"),
        P({"message": "offer", "terms": {"note": "jo@example.com"}}, True, id="object"),
        P({"message": "offer", "attachments": [{"content": "jo@example.com"}]}, False, id="att"),
    ],
)
def test_text_outside_a_proposals_scanned_fields_is_refused(
    market: Guard, params: dict[str, Any], error: bool
) -> None:
    d = market.check({"kind": "draft_proposal", "actor": "u1", "params": params}, context={})
    assert d.verdict is Verdict.DENY
    assert [(h.rule_id, h.error is not None) for h in d.hits] == [
        ("proposal-unscanned-parameter", error)
    ]


@pytest.mark.parametrize(
    "params",
    [
        P({"message": "I can start Monday", "amount": 450, "days": 5}, id="terms"),
        P({"message": "offer", "job_id": "j-42", "fixed_price": True, "deposit": None}, id="id"),
        P({"subject": "offer", "attachments": [{"name": "plan.pdf", "text": "w1"}]}, id="att"),
        P({"message": "offer", "job_id": "8f14e45f-ceea-467f-a0e6-1b2a3c4d5e6f"}, id="uuid"),
    ],
)
def test_near_miss_proposals_are_allowed(market: Guard, params: dict[str, Any]) -> None:
    assert rule_ids(market, {"kind": "draft_proposal", "actor": "u1", "params": params}) == []


# -- contact details in other languages and apps --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "mi correo es jo arroba gmail punto com",
        "écris-moi: jo arobase gmail point fr",
        "jo (chiocciola) libero (punto) it",
        "пиши jo собака mail точка ru",
        "kakao: jsmith88",
        "kakaotalk @jo88",
        "zalo 0912345678",
        "微信: jsmith88",
        "微信号 jsmith88",
        "QQ: 123456789",
        "vk: jo_smith",
    ],
)
def test_contact_details_in_other_languages_or_apps_are_redacted(market: Guard, text: str) -> None:
    d = market.check(message("u2", text), context={})
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-contact-before-contract"]
    assert d.final_action is not None and d.final_action["params"]["message"] != text


@pytest.mark.parametrize(
    "text",
    [
        "I use zalo for my family",
        "zalo is down today",
        "la arroba es un signo",
        "es un buen punto de partida",
        "the point is we finish by friday",
        "QQ plot attached",
        "VK is a social network",
        "chiocciola is the Italian word for @",
    ],
)
def test_near_miss_app_names_and_words_in_ordinary_text(market: Guard, text: str) -> None:
    assert rule_ids(market, message("u2", text)) == []


def test_after_a_contract_a_handle_on_another_app_may_be_shared(market: Guard) -> None:
    assert rule_ids(market, message("u2", "kakao: jsmith88"), {"has_contract": True}) == []
