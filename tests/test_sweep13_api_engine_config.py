"""Guard's constructor and options as a new user gives them: one pack rather than a list,
None, a rate store given as its Redis URL (or as something that is no store), a pack name
that is not a string, and allowed() of no actions under a pack not loaded."""

from __future__ import annotations

from typing import Any

import pytest

from guard import Guard, GuardError, InvalidAction, PolicyError, Verdict
from guard.policy import MemoryRateStore, parse
from tests.service.conftest import PACK

RATE = """\
name: chat
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: too-many
    match: {kind: send}
    when: rate(str(actor), 60) > 2
    effect: deny
"""


def test_one_pack_is_taken_as_a_list_of_one() -> None:
    """It was TypeError: 'CompiledPack' object is not iterable."""
    pack = parse(PACK)
    g = Guard(pack, shadow=parse(PACK))
    assert list(g.packs) == ["svc-test"]
    assert g.check({"kind": "run_shell"}).shadow is not None


def test_no_packs_is_a_policy_error_and_no_shadow_is_none() -> None:
    """Both were TypeError: 'NoneType' object is not iterable."""
    with pytest.raises(PolicyError, match=r"Guard\(packs=\.\.\.\) takes compiled packs, got None"):
        Guard(None)  # type: ignore[arg-type]
    assert Guard([parse(PACK)], shadow=None).check({"kind": "x"}).shadow is None


@pytest.mark.parametrize("store", [object(), 3, b"redis://127.0.0.1"])
def test_a_rate_store_that_is_no_store_is_refused(store: Any) -> None:
    """It was kept: every rate() rule then failed ('object' has no attribute 'hit') and denied."""
    with pytest.raises(PolicyError, match=r"rate_store= takes a rate store"):
        Guard([parse(RATE)], rate_store=store)


def test_a_rate_store_given_as_a_redis_url_is_opened() -> None:
    """It was kept as a string: every rate() rule failed and denied."""
    pytest.importorskip("redis")
    from guard.policy._rate_redis import RedisRateStore

    g = Guard([parse(RATE)], rate_store="redis://127.0.0.1:1/0")  # connects when counting
    assert isinstance(g.rates, RedisRateStore)
    with pytest.raises(PolicyError, match=r"a Redis URL .*, got a str that is no Redis URL$"):
        Guard([parse(RATE)], rate_store="memory://")


def test_a_memory_store_counts() -> None:
    store = MemoryRateStore()
    g = Guard([parse(RATE)], rate_store=store)
    verdicts = [g.check({"kind": "send", "actor": "a"}).verdict for _ in range(3)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.DENY]
    assert g.rates is store


@pytest.mark.parametrize("policy", [["svc-test"], {"name": "svc-test"}, 3])
def test_a_pack_name_that_is_no_string_is_a_policy_error(policy: Any) -> None:
    """A list or a dict was TypeError: unhashable type."""
    g = Guard([parse(PACK)])
    with pytest.raises(PolicyError, match=r"policy= names a loaded pack"):
        g.check({"kind": "x"}, policy=policy)


def test_allowed_of_no_actions_still_checks_the_pack_and_the_guard() -> None:
    """allowed([], policy='nope') was [], as was allowed([]) of a closed Guard."""
    g = Guard([parse(PACK)])
    with pytest.raises(PolicyError, match=r"no loaded pack named 'nope'"):
        g.allowed([], policy="nope")
    g.close()
    with pytest.raises(GuardError, match=r"this Guard is closed"):
        g.allowed([])


def test_defer_explanation_refuses_what_it_cannot_record() -> None:
    """Both were taken: the worker thread then failed, and only logged it."""
    g = Guard([parse(PACK)])
    decision = g.evaluate({"kind": "x"})
    for given in [({"id": decision.id}, dict), (decision, "no callable"), ("d-1", 3)]:
        with pytest.raises(InvalidAction, match=r"^defer_explanation\(\) takes a Decision and a"):
            g.defer_explanation(*given)
    g.close()
