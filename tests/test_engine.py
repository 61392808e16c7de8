from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard import ActionTooLarge, Guard, InvalidAction, PolicyError, Verdict
from guard.policy import parse

PACK = """\
name: p
version: 2
rules:
  - id: approve-big
    match: {kind: pay}
    when: params.amount > 500 and get(context.role, "agent") not in ["finance", "admin"]
    effect: escalate
    message: "payment of {params.amount} needs approval"
  - id: hard-limit
    match: {kind: pay}
    when: params.amount > 10000
    effect: deny
  - id: note-small
    match: {kind: pay}
    when: params.amount < 10
    effect: redact
    redact: [params.memo]
  - id: vip
    when: get(context.vip, false)
    effect: allow
"""


@pytest.fixture
def guard() -> Guard:
    return Guard([parse(PACK, file="p.yaml")])


@pytest.mark.parametrize(
    ("amount", "context", "verdict", "rules"),
    [
        pytest.param(100, {}, Verdict.ALLOW, [], id="small-allowed"),
        pytest.param(500, {}, Verdict.ALLOW, [], id="boundary-500-allowed"),
        pytest.param(501, {}, Verdict.ESCALATE, ["approve-big"], id="501-escalates"),
        pytest.param(700, {"role": "finance"}, Verdict.ALLOW, [], id="finance-allowed"),
        pytest.param(
            20000, {}, Verdict.DENY, ["approve-big", "hard-limit"], id="deny-beats-escalate"
        ),
        pytest.param(5, {}, Verdict.REDACT, ["note-small"], id="redact"),
        pytest.param(
            5, {"vip": True}, Verdict.REDACT, ["note-small", "vip"], id="redact-beats-allow"
        ),
        pytest.param(
            20000,
            {"vip": True},
            Verdict.DENY,
            ["approve-big", "hard-limit", "vip"],
            id="deny-beats-allow",
        ),
    ],
)
def test_precedence(
    guard: Guard, amount: int, context: dict, verdict: Verdict, rules: list[str]
) -> None:
    d = guard.check(
        {"kind": "pay", "actor": "u1", "params": {"amount": amount, "memo": "m"}}, context
    )
    assert d.verdict is verdict
    assert [h.rule_id for h in d.hits] == rules


def test_default_deny_needs_an_allow_rule() -> None:
    g = Guard(
        [
            parse(
                "name: p\nversion: 1\ndefaults: {verdict: deny}\nrules:\n"
                "  - id: ok\n    when: kind == 'read'\n    effect: allow\n"
            )
        ]
    )
    assert g.check({"kind": "read"}).verdict is Verdict.ALLOW
    assert g.check({"kind": "write"}).verdict is Verdict.DENY


def test_hit_carries_clause_evidence_and_filled_message(guard: Guard) -> None:
    d = guard.check({"kind": "pay", "params": {"amount": 700}}, {"role": "agent"})
    hit = d.hits[0]
    assert hit.message == "payment of 700 needs approval"
    assert hit.evidence["params.amount"] == 700
    assert "agent" in hit.evidence.values()


def test_missing_field_fails_closed_and_is_recorded(guard: Guard) -> None:
    d = guard.check({"kind": "pay", "params": {}})
    assert d.verdict is Verdict.DENY
    assert all(h.error for h in d.hits)
    assert "amount" in d.hits[0].error


def test_type_error_fails_closed(guard: Guard) -> None:
    d = guard.check({"kind": "pay", "params": {"amount": "700"}})
    assert d.verdict is Verdict.DENY and d.hits[0].error


def test_rule_on_error_overrides_pack_default() -> None:
    g = Guard(
        [
            parse(
                "name: p\nversion: 1\nrules:\n  - id: r\n    when: params.x > 1\n"
                "    effect: deny\n    on_error: escalate\n"
            )
        ]
    )
    d = g.check({"kind": "k"})
    assert d.verdict is Verdict.ESCALATE and d.hits[0].error


def test_non_boolean_condition_fails_closed() -> None:
    g = Guard(
        [parse("name: p\nversion: 1\nrules:\n  - id: r\n    when: params.x\n    effect: allow\n")]
    )
    d = g.check({"kind": "k", "params": {"x": "yes"}})
    assert d.verdict is Verdict.DENY and "expected true or false" in d.hits[0].error


def test_redact_blanks_paths_on_a_copy(guard: Guard) -> None:
    action = {"kind": "pay", "params": {"amount": 5, "memo": "secret"}}
    before = copy.deepcopy(action)
    d = guard.check(action)
    assert d.final_action == {"kind": "pay", "params": {"amount": 5, "memo": "[REDACTED]"}}
    assert action == before


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers(-(2**53) + 1, 2**53 - 1)
            | st.floats()
            | st.text(max_size=10),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
            max_leaves=10,
        ),
        max_size=4,
    )
)
@settings(max_examples=150, deadline=None)
def test_random_actions_never_crash_or_mutate(params: dict) -> None:
    g = Guard([parse(PACK)])
    action = {"kind": "pay", "params": params}
    before = copy.deepcopy(action)
    try:
        d = g.check(action, {"role": "x"})
    except InvalidAction as exc:  # only non-finite floats are refused here
        assert "finite" in str(exc)
        return
    assert action == before
    assert d.verdict in set(Verdict)
    if "amount" not in params:
        assert d.verdict is Verdict.DENY  # fail closed on the missing field
    json.dumps(d.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("action", "error", "needle"),
    [
        pytest.param("pay", InvalidAction, "must be a mapping", id="string"),
        pytest.param(["pay"], InvalidAction, "must be a mapping", id="list"),
        pytest.param({"params": {}}, InvalidAction, "kind", id="no-kind"),
        pytest.param({"kind": 3}, InvalidAction, "kind", id="kind-not-str"),
        pytest.param({"kind": "k", "params": []}, InvalidAction, "params", id="params-not-dict"),
        pytest.param({"kind": "k", "params": {"b": b"\xff"}}, InvalidAction, "bytes", id="bytes"),
        pytest.param(
            {"kind": "k", "params": {"s": "\udcff"}}, InvalidAction, "UTF-8", id="surrogate"
        ),
        pytest.param(
            {"kind": "k", "params": {"x": float("nan")}}, InvalidAction, "finite", id="nan"
        ),
        pytest.param(
            {"kind": "k", "params": {"o": object()}}, InvalidAction, "object", id="object"
        ),
        pytest.param({"kind": "k", 1: 2}, InvalidAction, "non-string key", id="int-key"),
        pytest.param(
            {"kind": "k", "params": {"n": 2**53 + 1}}, InvalidAction, "2\\*\\*53", id="bigint"
        ),
        pytest.param(
            {"kind": "k", "params": {"x": [1.0, float("-inf")]}},
            InvalidAction,
            "finite",
            id="inf-in-list",
        ),
        pytest.param(
            {"kind": "k", "params": {"m": "x" * 10_000_000}}, ActionTooLarge, "limit", id="10MB"
        ),
    ],
)
def test_bad_actions_get_specific_errors(guard: Guard, action, error, needle) -> None:
    with pytest.raises(error, match=needle):
        guard.check(action)


def test_deeply_nested_action_is_refused(guard: Guard) -> None:
    deep: dict = {"kind": "k"}
    cur = deep
    for _ in range(10_000):
        cur["n"] = {}
        cur = cur["n"]
    with pytest.raises(ActionTooLarge, match="nested deeper"):
        guard.check(deep)


def test_bad_context_is_refused(guard: Guard) -> None:
    with pytest.raises(InvalidAction, match="context"):
        guard.check({"kind": "pay", "params": {"amount": 1}}, "role=admin")  # type: ignore[arg-type]


def test_several_packs_need_a_name() -> None:
    g = Guard([parse(PACK), parse(PACK.replace("name: p", "name: q"))])
    with pytest.raises(PolicyError, match="several packs"):
        g.check({"kind": "pay", "params": {"amount": 1}})
    assert g.check({"kind": "pay", "params": {"amount": 1}}, policy="q").policy == "q"
    with pytest.raises(PolicyError, match="no loaded pack named 'z'"):
        g.check({"kind": "pay"}, policy="z")


def test_decision_serialises_with_policy_version_and_digest(guard: Guard) -> None:
    d = guard.check({"kind": "pay", "actor": "u1", "tenant": "t1", "params": {"amount": 50}})
    data = d.model_dump(mode="json")
    assert data["verdict"] == "allow" and data["policy_version"] == 2
    assert data["policy_digest"].startswith("sha256:") and data["action_digest"].startswith(
        "sha256:"
    )
    assert data["tenant"] == "t1" and data["actor"] == "u1"
    assert data["final_action"] == {
        "kind": "pay",
        "actor": "u1",
        "tenant": "t1",
        "params": {"amount": 50},
    }


def test_check_batch_matches_check(guard: Guard) -> None:
    actions = [{"kind": "pay", "params": {"amount": a}} for a in (1, 100, 700, 20000)]
    batch = guard.check_batch(actions)
    single = [guard.check(a) for a in actions]
    assert [d.verdict for d in batch] == [d.verdict for d in single]


def test_openai_style_tool_call_is_accepted(guard: Guard) -> None:
    call = {
        "type": "function",
        "function": {"name": "pay", "arguments": json.dumps({"amount": 700})},
    }
    d = guard.check(call)
    assert d.kind == "pay" and d.verdict is Verdict.ESCALATE


def test_shadow_pack_is_recorded_but_never_enforced() -> None:
    live = parse(PACK)
    candidate = parse(PACK.replace("params.amount > 10000", "params.amount > 1000"))
    g = Guard([live], shadow=[candidate])
    d = g.check({"kind": "pay", "params": {"amount": 5000}}, {"role": "finance"})
    assert d.verdict is Verdict.ALLOW
    assert d.shadow is not None and d.shadow.verdict is Verdict.DENY and not d.shadow.agrees
    assert d.shadow.digest == candidate.digest != live.digest


def test_evidence_is_trimmed_for_large_values() -> None:
    g = Guard([parse("name: p\nversion: 1\nrules:\n  - id: r\n    when: len(params.items) > 1\n")])
    d = g.check({"kind": "k", "params": {"items": list(range(5000))}})
    assert d.hits[0].evidence["params.items"] == {"summary": "list of 5000 elements"}
    assert d.hits[0].evidence["len(params.items)"] == 5000


def test_shadow_pack_with_its_own_pii_settings_scans_with_them() -> None:
    live = parse("name: m\nversion: 1\nrules: []\n")
    candidate = parse(
        "name: m\nversion: 2\npii:\n  entities: [EMAIL_ADDRESS]\n  fields: [params.message]\n"
        "rules:\n  - id: no-email\n    when: pii.any('EMAIL_ADDRESS')\n    effect: redact\n"
    )
    g = Guard([live], shadow=[candidate])
    d = g.check({"kind": "send", "params": {"message": "mail jo@example.com"}})
    assert d.verdict is Verdict.ALLOW
    assert d.shadow is not None and d.shadow.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.shadow.hits] == ["no-email"]


def test_acheck_batch_decides_on_the_loop_and_awaits_the_commit() -> None:
    import asyncio

    tools = parse(
        "name: tools\nversion: 1\nrules:\n"
        "  - id: no-rm\n    match: {kind: shell}\n"
        '    when: startswith(params.command, "rm ")\n    effect: deny\n'
    )
    with Guard([tools], audit="memory://") as g:  # rule-only: no PII scan to wait for
        assert g.decides_inline()
        actions = [
            {"kind": "search", "actor": "a1", "params": {"q": "tiles"}},
            {"kind": ""},
            {"kind": "shell", "actor": "a1", "params": {"command": "rm -rf /"}},
        ]
        ok, bad, denied = asyncio.run(g.acheck_batch(actions, {"budget_remaining": 500}))
        assert isinstance(bad, InvalidAction)  # in its own place; the others still decided
        assert ok.verdict is Verdict.ALLOW and denied.verdict is Verdict.DENY
        for d in (ok, denied):
            assert d.audited and g.audit.get(d.id).record["verdict"] == str(d.verdict)
        assert g.audit.size == 2


def test_a_pack_with_pii_is_not_decided_inline() -> None:
    with Guard.from_policy("marketplace-agent") as g:
        assert not g.decides_inline()


RATE_PACK = """\
name: rl
version: 1
rules:
  - id: rl
    match: {kind: msg}
    when: rate(str(actor), 60) > 3
  - id: no-bad
    match: {kind: msg}
    when: get(params.bad, false) == true
"""


def test_dry_runs_do_not_use_up_rate_budget() -> None:
    from guard.policy import parse

    g = Guard([parse(RATE_PACK)])
    a = {"kind": "msg", "actor": "u1", "params": {}}
    assert len(g.allowed([a] * 4)) == 4
    assert g.evaluate(a).verdict == "allow"
    assert [g.check(a).verdict for _ in range(4)] == ["allow"] * 3 + ["deny"]


def test_an_agent_counts_only_the_alternative_it_ran() -> None:
    from guard.policy import parse

    g = Guard([parse(RATE_PACK)])
    bad = {"kind": "msg", "actor": "u1", "params": {"bad": True}}
    good = {"kind": "msg", "actor": "u1", "params": {}}

    @g.agent
    def act() -> list:
        return [(bad, 0.9), (bad, 0.8), (good, 0.1)]

    assert [act()["params"] for _ in range(3)] == [{}, {}, {}]  # 3 counted, not 9
    assert g.check(good).verdict == "deny"  # the 4th counted event


def test_live_and_shadow_rules_count_an_event_once() -> None:
    from guard.policy import parse

    g = Guard([parse(RATE_PACK)], shadow=[parse(RATE_PACK.replace("version: 1", "version: 2"))])
    a = {"kind": "msg", "actor": "u1", "params": {}}
    verdicts = [(d.verdict, d.shadow.verdict) for d in (g.check(a) for _ in range(4))]
    assert verdicts == [("allow", "allow")] * 3 + [("deny", "deny")]


@pytest.mark.parametrize("items", [None, "abc", {"id": 1}, 5])
def test_rank_needs_a_list_of_items(items: object) -> None:
    g = Guard.from_policy("ranking")
    with pytest.raises(InvalidAction, match="items must be a list"):
        g.rank(items)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [True, 1.5, None, [1]])
def test_rank_item_ids_are_strings_or_integers(bad: object) -> None:
    g = Guard.from_policy("ranking")
    with pytest.raises(InvalidAction, match="'id' must be a string or an integer"):
        g.rank([{"id": bad}])


def test_check_batch_of_nothing_with_an_audit_log(tmp_path) -> None:
    g = Guard.from_policy("ranking", audit=f"sqlite:///{tmp_path / 'a.db'}")
    assert g.check_batch([]) == []
    g.close()


def test_cap_messages_are_filled_in() -> None:
    from guard.policy import parse

    pack = parse(
        "name: c\nversion: 1\nrules:\n  - id: per-agency\n    scope: list\n"
        "    cap: {by: item.agency, max: 1}\n    message: 'too many from {item.agency}'\n"
    )
    d = Guard([pack]).rank([{"id": 1, "agency": "a"}, {"id": 2, "agency": "a"}])
    assert d.items[1].reason == "too many from a"


def test_rankings_run_the_shadow_pack_too() -> None:
    from guard.policy import parse

    live = parse(
        "name: r\nversion: 1\nrules:\n  - id: drop-suspended\n    scope: item\n"
        "    when: get(item.status, '') == 'suspended'\n"
    )
    cand = parse(
        "name: r\nversion: 2\nrules:\n  - id: drop-unverified\n    scope: item\n"
        "    when: not get(item.verified, false)\n"
    )
    g = Guard([live], shadow=[cand])
    d = g.rank([{"id": "a"}, {"id": "b", "status": "suspended", "verified": True}])
    assert [i["id"] for i in d.final_items] == ["a"]  # the live pack decides
    assert d.shadow is not None and d.shadow.version == 2 and d.shadow.agrees is False
    assert [h.rule_id for h in d.shadow.hits] == ["drop-unverified"]
