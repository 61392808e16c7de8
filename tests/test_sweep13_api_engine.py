"""Guard's and RemoteGuard's API as a new user meets it: an audit URL given to the
constructor, record() of something not a decision, allowed() of one action or of None,
allowed()'s answer for a redacted action, declared actions checked when decorating, more
alternatives than the sidecar reads, and ActionBlocked when every alternative was denied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard import ActionBlocked, ActionEscalated, AuditError, Guard, InvalidAction, PolicyError
from guard.audit import open_audit
from guard.client import GuardClient, RemoteError, RemoteGuard
from guard.policy import parse
from tests.service.conftest import (  # noqa: F401 - fixtures
    PACK,
    client,
    make_client,
    pack_file,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

Guards = tuple[Guard, RemoteGuard]
SHELL = {"kind": "run_shell", "params": {}}
NOTE = {"kind": "note", "params": {"text": "hello", "secret": "s3cr3t"}}


def pay(amount: Any) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


@pytest.fixture
def guards(client: Any, pack_file: Path) -> Iterator[Guards]:  # noqa: F811
    with Guard.from_policy(pack_file) as local:
        yield local, RemoteGuard("", client=GuardClient("http://testserver", client=client))


# -- 1. Guard(packs, audit="sqlite:///...") ------------------------------------------------


def test_the_constructor_opens_an_audit_url_as_from_policy_does(tmp_path: Path) -> None:
    """It kept the string, then failed the first check: 'str' object has no attribute 'append'."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Guard([parse(PACK)], audit=url) as g:
        d = g.check(pay(1))
        assert d.audited
    with open_audit(url, create=False) as log:
        assert log.get(d.id).record["verdict"] == "allow"


@pytest.mark.parametrize("audit", [Path("a.db"), {"url": "memory://"}, 3])
def test_the_constructor_refuses_an_audit_that_is_no_log_nor_url(audit: Any) -> None:
    with pytest.raises(AuditError, match=r"audit= takes an AuditLog or an audit URL"):
        Guard([parse(PACK)], audit=audit)


# -- 2. record(<not a Decision>) ------------------------------------------------------------


@pytest.mark.parametrize("given", [{"id": "x", "policy": "svc-test"}, None, "d-1"])
def test_record_refuses_what_is_not_a_decision(given: Any) -> None:
    g = Guard([parse(PACK)])
    with pytest.raises(InvalidAction, match=r"record\(\) takes a Decision"):
        g.record(given)


# -- 3. allowed() of one action, None or a string ----------------------------------------


@pytest.mark.parametrize(
    ("given", "name"), [(pay(1), "dict"), (None, "NoneType"), ("pay", "str"), (b"x", "bytes")]
)
def test_allowed_refuses_what_is_not_a_list_of_actions(
    guards: Guards, given: Any, name: str
) -> None:
    message = rf"^allowed\(\) takes a list of actions, got {name}$"
    for g in guards:
        with pytest.raises(InvalidAction, match=message):
            g.allowed(given)


def test_shield_refuses_one_action_as_allowed_does(guards: Guards) -> None:
    _, remote = guards
    for call in (remote.client.shield, remote.client.shield_verdicts):
        with pytest.raises(InvalidAction, match=r"^shield\(\) takes a list of actions, got dict$"):
            call(pay(1))


def test_allowed_takes_a_tuple_or_a_generator_of_actions(guards: Guards) -> None:
    for g in guards:
        assert g.allowed((pay(1), SHELL)) == [pay(1)]
        assert g.allowed(a for a in [SHELL, pay(2)]) == [pay(2)]


# -- 4. allowed() of an action the policy redacts ------------------------------------------


def test_allowed_gives_a_redacted_action_as_it_would_run() -> None:
    """It returned the action as given, secret and all, for a planner to run."""
    g = Guard([parse(PACK)])
    given = [pay(1), NOTE, SHELL]
    out = g.allowed(given)
    assert out == [pay(1), {"kind": "note", "params": {"text": "hello", "secret": "[REDACTED]"}}]
    assert out[0] is given[0]  # an allowed action comes back as given
    assert NOTE["params"]["secret"] == "s3cr3t"  # the caller's action is not edited


def test_remote_allowed_gives_a_redacted_action_as_it_would_run(guards: Guards) -> None:
    """The sidecar's /v1/shield answers a redacted candidate's final_action: remote and
    in-process allowed() give the same list (the remote one left redacted actions out)."""
    local, remote = guards
    given = [pay(1), NOTE, SHELL]
    out = remote.allowed(given)
    assert out == local.allowed(given)
    assert out == [pay(1), {"kind": "note", "params": {"text": "hello", "secret": "[REDACTED]"}}]
    assert all("s3cr3t" not in repr(a) for a in out)


def test_shield_answers_final_action_for_a_redact_only(client: Any) -> None:  # noqa: F811
    r = client.post("/v1/shield", json={"actions": [pay(1), NOTE, SHELL]})
    finals = [item["final_action"] for item in r.json()["items"]]
    assert finals == [
        None,
        {"kind": "note", "params": {"text": "hello", "secret": "[REDACTED]"}},
        None,
    ]


# -- 5. RemoteGuard.agent(actions=...) checked when decorating ------------------------------


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ("pay", r"actions= must be a list of the actions the scores are over, got str"),
        ([], r"actions= is empty"),
        ([pay(1), {"params": {}}], r"^actions\[1\]: "),
        ([pay(1), 5], r"^actions\[1\]: "),
    ],
)
def test_declared_actions_are_checked_when_decorating(
    guards: Guards, actions: Any, message: str
) -> None:
    for g in guards:
        with pytest.raises(InvalidAction, match=message):
            g.agent(actions=actions)


# -- 6. more alternatives than the sidecar reads -----------------------------------------


def test_more_alternatives_than_the_sidecar_reads_are_refused_before_sending(
    guards: Guards,
) -> None:
    """It failed with RemoteError 422 validation_error: invalid request: body.candidates."""
    local, remote = guards
    many = [(SHELL, 0.9)] * 100 + [(pay(1), 0.1)]
    assert local.agent(lambda: many)()["kind"] == "pay"
    with pytest.raises(InvalidAction, match=r"101 alternatives; the sidecar reads at most 100"):
        remote.agent(lambda: many)()
    declared = [pay(i) for i in range(150)]
    with pytest.raises(InvalidAction, match=r"150 alternatives; the sidecar reads at most 100"):
        remote.agent(actions=declared)(lambda: [0.0] * 150)()
    masked = [0.0] * 100 + [float("-inf")] * 50  # the masked ones are not sent
    assert remote.agent(actions=declared)(lambda: masked)()["kind"] == "pay"
    assert remote.agent(lambda: many[1:])()["kind"] == "pay"  # 100 are read


def test_an_index_past_the_sidecars_limit_is_refused_before_sending(guards: Guards) -> None:
    """10,001 declared actions, all but the last two masked: a 422 on body.candidates.1.2."""
    local, remote = guards
    declared = [{"kind": "read", "params": {"page": i}} for i in range(10_001)]
    scores = [float("-inf")] * 9_999 + [1.0, 0.5]
    assert local.agent(actions=declared)(lambda: scores)() == declared[9_999]
    with pytest.raises(InvalidAction, match=r"index 10000 is past the sidecar's limit of 9,999"):
        remote.agent(actions=declared)(lambda: scores)()
    assert remote.agent(actions=declared[:10_000])(lambda: scores[1:])() == declared[9_998]


def test_the_client_knows_the_sidecars_limits() -> None:
    from guard import client as module
    from service._schemas import MAX_POSITION, CheckRequest

    limits = CheckRequest.model_fields["candidates"].metadata
    limit = next(m.max_length for m in limits if hasattr(m, "max_length"))
    assert (module._MAX_CANDIDATES, module._MAX_POSITION) == (limit, MAX_POSITION)


# -- 7. ActionBlocked when every alternative was denied -----------------------------------


def test_blocked_names_every_alternatives_rules(guards: Guards) -> None:
    """It said 'action blocked by no-shell', as if the payment had not been tried."""
    for g in guards:

        @g.agent
        def act() -> list[Any]:
            return [(SHELL, 0.6), (pay(20000), 0.4)]

        with pytest.raises(ActionBlocked) as info:
            act()
        decision = info.value.decision
        assert str(info.value) == (
            "action blocked by no-shell: all 2 alternatives were denied "
            f"(huge-payment, no-shell) (decision {decision.id})"
        )


def test_escalated_says_the_held_action_is_an_alternative(guards: Guards) -> None:
    for g in guards:
        with pytest.raises(ActionEscalated) as info:
            g.agent(lambda: [(SHELL, 0.6), (pay(900), 0.4)])()
        assert str(info.value) == (
            "action escalated for review by big-payment: first choice denied by no-shell; "
            "substituted alternative #1 (score 0.4), the best one not denied "
            f"(decision {info.value.decision_id})"
        )


def test_blocked_without_alternatives_says_what_it_said(guards: Guards) -> None:
    for g in guards:
        with pytest.raises(ActionBlocked) as info:
            g.agent(lambda: SHELL)()
        assert str(info.value) == f"action blocked by no-shell (decision {info.value.decision_id})"


# -- a pack name that is not a string ------------------------------------------------------


@pytest.mark.parametrize("policy", [3, ["svc-test"], {"name": "svc-test"}])
def test_a_pack_name_that_is_no_string_is_refused_before_sending(
    guards: Guards, policy: Any
) -> None:
    """The sidecar's answer was RemoteError 422 validation_error: invalid request: body.policy."""
    _, remote = guards
    calls = [
        lambda: remote.check(pay(1), policy=policy),
        lambda: remote.check_batch([pay(1)], policy=policy),
        lambda: remote.rank([{"id": 1}], policy=policy),
        lambda: remote.allowed([pay(1)], policy=policy),
        lambda: remote.agent(policy=policy),
        lambda: remote.ranker(policy=policy),
        lambda: RemoteGuard("", client=remote.client, policy=policy),
    ]
    for call in calls:
        with pytest.raises(PolicyError, match=r"^policy= names a pack the sidecar loads, got "):
            call()


def test_candidates_yielded_are_read_once_and_counted(guards: Guards) -> None:
    _, remote = guards
    yielded = ((a, p) for a, p in [(SHELL, 0.6), (pay(1), 0.4)])
    assert remote.client.check(candidates=yielded).final_action == pay(1)
    with pytest.raises(InvalidAction, match=r"candidates must hold at least one"):
        remote.client.check(candidates=iter([]))
    with pytest.raises(InvalidAction, match=r"101 alternatives; the sidecar reads at most 100"):
        remote.client.check(candidates=((SHELL, 0.5) for _ in range(101)))


# -- explanations sent with a check ------------------------------------------------------


@pytest.mark.parametrize(
    ("explanations", "message"),
    [
        ("why", r"^explanations must be a list of mappings, got str$"),
        ({"why": 1}, r"^explanations must be a list of mappings, got dict$"),
        (["why"], r"^explanation #0 must be a mapping \(dict\), got str$"),
        ([{"score": float("nan")}], r"^explanation #0 holds nan"),
        ([{"raw": b"x"}], r"^explanation #0 holds bytes"),
        ([{}] * 11, r"^11 explanations; the sidecar records at most 10 with one check$"),
    ],
)
def test_explanations_are_checked_before_sending(
    guards: Guards, explanations: Any, message: str
) -> None:
    """They were ValueError / TypeError from dict() and the JSON encoder, or a 422."""
    _, remote = guards
    with pytest.raises(InvalidAction, match=message):
        remote.client.check(pay(1), explanations=explanations)


def test_an_explanation_may_be_a_model(guards: Guards) -> None:
    from pydantic import BaseModel

    class Why(BaseModel):
        feature: str
        weight: float

    _, remote = guards
    d = remote.client.check(pay(1), explanations=[Why(feature="amount", weight=0.5)])
    assert d.explanations == [{"feature": "amount", "weight": 0.5}]


# -- a 422 says what is wrong ---------------------------------------------------------------


def test_a_422_says_what_is_wrong_where(guards: Guards) -> None:
    """It said only 'invalid request: query.verdict'; what is wrong was in details alone."""
    _, remote = guards
    with pytest.raises(RemoteError) as info:
        remote.client.decisions(verdict="nope")
    assert str(info.value) == (
        "422 validation_error: invalid request: query.verdict "
        "(Input should be 'allow', 'redact', 'escalate' or 'deny')"
    )
    with pytest.raises(RemoteError, match=r"query\.limit \(Input should be greater than"):
        remote.client.escalations(limit=0)


def test_a_422_of_several_errors_names_each_place() -> None:
    errors = [
        {"loc": ["body", "note"], "msg": "Input should be a valid string", "type": "string_type"},
        {"loc": ["body", "reviewer"], "msg": "Too long", "type": "string_too_long"},
        {"loc": "odd", "msg": 3, "type": "x"},  # not shown: no message to show
    ]
    body = {"error": {"code": "validation_error", "message": "invalid request: body.note, ..."}}
    body["error"]["details"] = {"errors": errors}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=body)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    with pytest.raises(RemoteError) as info:
        GuardClient("http://sidecar", client=http).resolve("d-1", "approve")
    assert str(info.value).endswith(
        "(body.note: Input should be a valid string; body.reviewer: Too long)"
    )
    assert info.value.details == {"errors": errors}


# -- the sidecar's URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "got"),
    [
        ("127.0.0.1:8000", "another URL"),
        ("localhost:8000", "another URL"),
        ("ftp://127.0.0.1:8000", "another URL"),
        ("", "another URL"),
        ("http://", "a URL without a host"),
        ("http://[::1", "another URL"),
        (None, "NoneType"),
    ],
)
def test_a_url_that_is_no_sidecars_is_refused_when_made(url: Any, got: str) -> None:
    """Without http:// the first check failed as 'connection_lost ... the sidecar may have
    decided and recorded it', though nothing was sent; None was httpx's TypeError."""
    message = rf"^base_url must be the sidecar's http:// or https:// URL .*, got {got}$"
    for make in (GuardClient, RemoteGuard):
        with pytest.raises(InvalidAction, match=message):
            make(url)


def test_a_url_of_another_protocol_is_unreachable_not_lost() -> None:
    """A client given its own httpx client is not checked: nothing was sent, nor decided."""
    http = httpx.Client(base_url="ftp://127.0.0.1:9")
    with pytest.raises(RemoteError) as info:
        GuardClient("", client=http).check(pay(1))
    assert (info.value.status, info.value.code) == (0, "sidecar_unreachable")
    assert "may have decided" not in str(info.value)


def test_allowed_names_the_action_it_refuses(guards: Guards) -> None:
    """Among many candidates, 'action needs a non-empty string kind' said not which one."""
    for g in guards:
        with pytest.raises(InvalidAction, match=r"^action #2: action needs a non-empty string"):
            g.allowed([pay(1), SHELL, {"params": {}}])
        with pytest.raises(InvalidAction, match=r"^context must be a mapping \(dict\), got list$"):
            g.allowed([pay(1)], [1])
