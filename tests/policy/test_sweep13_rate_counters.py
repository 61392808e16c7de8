"""Sweep 13: rate() counts per pack and per rule, with no two rules sharing a counter."""

from __future__ import annotations

from guard import Guard, Verdict
from guard.policy import parse


def test_same_rule_id_in_two_packs_counts_apart() -> None:
    # Both packs' rule 'r' counted in one counter: a check under pack a used up pack b's
    # limit, so b's first action was denied.
    rule = 'rules:\n  - id: r\n    when: rate("k", 60) > 1\n'
    a = parse("name: a\nversion: 1\n" + rule)
    b = parse("name: b\nversion: 1\n" + rule)
    guard = Guard([a, b])
    assert guard.check({"kind": "k"}, policy="a").verdict is Verdict.ALLOW
    assert guard.check({"kind": "k"}, policy="b").verdict is Verdict.ALLOW
    assert guard.check({"kind": "k"}, policy="b").verdict is Verdict.DENY


def test_a_colon_in_a_rule_id_does_not_make_two_rules_share_a_counter() -> None:
    # Rule 'a' counting key "b:c" and rule 'a:b' counting key "c" were one counter "a:b:c".
    pack = parse(
        "name: c\nversion: 1\nrules:\n"
        '  - id: a\n    match: {kind: x}\n    when: rate("b:c", 60) > 1\n'
        '  - id: a:b\n    match: {kind: y}\n    when: rate("c", 60) > 1\n'
    )
    guard = Guard([pack])
    assert guard.check({"kind": "x"}).verdict is Verdict.ALLOW
    assert guard.check({"kind": "y"}).verdict is Verdict.ALLOW
    assert guard.check({"kind": "y"}).verdict is Verdict.DENY
