"""A small client for the guard's HTTP sidecar, and `RemoteGuard`: the decorators, remotely.

    from guard.client import GuardClient, RemoteGuard

    client = GuardClient("http://127.0.0.1:8000", api_key="gk_...")
    decision = client.check({"kind": "send_message", "params": {"message": "hi"}},
                            policy="marketplace-agent")

    g = RemoteGuard("http://127.0.0.1:8000", "gk_...", wait_for_review=60)
    @g.agent(policy="marketplace-agent", context={"role": "agent"})
    def pay(invoice): ...          # same semantics as Guard.agent, decided by the sidecar

Needs httpx (`pip install 'agent-guard[service]'`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, overload
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ValidationError

from guard._engine import _action_list, _unique_ids
from guard._exceptions import (
    ActionBlocked,
    ActionEscalated,
    ActionTooLarge,
    AuditError,
    DependencyMissing,
    GuardError,
    InvalidAction,
    PolicyError,
    PolicyNotFound,
)
from guard._models import Decision, DecisionEventV1, Verdict
from guard._validate import check_action, check_data, digest
from guard.audit._canonical import canonical_json
from guard.audit._merkle import leaf_hash, verify_consistency, verify_inclusion
from guard.audit._signing import TreeHead, verify_head
from guard.enforce import (
    ContextArg,
    GuardedAction,
    GuardedRanking,
    TextArg,
    _candidates,
    _check_declared,
    _context,
    _plain,
    _ranked_items,
    _score,
    _wrap,
    texts,
)

__all__ = ["GuardClient", "RemoteError", "RemoteGuard"]

P = ParamSpec("P")
_Pair = tuple[Mapping[str, Any] | BaseModel, float]  # (action, probability)
_Indexed = tuple[Mapping[str, Any] | BaseModel, float, int]  # ..., index in the caller's list

# The sidecar's limits on POST /v1/check (service/_schemas.py, CheckRequest): more
# alternatives, or a larger index, is a 422. Not sent in parts: each check is recorded.
_MAX_CANDIDATES = 100
_MAX_POSITION = 9_999
_MAX_EXPLANATIONS = 10
_LONG_POLL_CHUNK = 30.0  # seconds per long-poll request, halved while the server refuses it
_MIN_LONG_POLL = 0.1


class RemoteError(GuardError):
    """The sidecar answered with an error: HTTP `status`, stable `code`, `details`.

    No usable answer is a RemoteError too, never an allowed action: `status` 0 with code
    sidecar_unreachable (connection refused, DNS, TLS), sidecar_timeout or connection_lost;
    or the answer's status with redirect_refused, bad_response (not JSON, or not the
    expected shape), decision_mismatch (a decision for an action other than the one sent)
    or proof_invalid (a hash, proof or signature that does not verify; `details["failed"]`
    names which). Nothing is retried.
    """

    code = "remote_error"

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.details = status, code, details
        self._message = message

    def __reduce__(self) -> Any:  # pickled (for another process) with its four arguments
        return type(self), (self.status, self.code, self._message, self.details)


class _PolicyRequired(RemoteError, PolicyError):
    """422 policy_required: several packs are loaded and no policy= named one. A PolicyError,
    as `Guard.check` raises in process, and a RemoteError with its status and code."""


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:
        raise DependencyMissing(
            "the sidecar client needs httpx; pip install 'agent-guard[service]'"
        ) from exc
    return httpx


class GuardClient:
    """Calls the sidecar's /v1 API; errors become `RemoteError` (or the guard's own types)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        client: Any = None,
        public_key: str | None = None,
    ) -> None:
        """`public_key` (hex) pins the log's Ed25519 key: heads signed with another are refused."""
        httpx = _httpx()
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout < math.inf
        ):
            raise InvalidAction(
                f"timeout must be a number of seconds > 0 (finite), got {timeout!r}"
            )
        headers = _authorization(api_key)
        self._public_key = _hex_arg(public_key, "public_key")
        if client is None:
            client = httpx.Client(base_url=_base_url(base_url), timeout=timeout)
        self._http = client
        self._headers = headers
        self._timeout = timeout
        self._long_poll = _LONG_POLL_CHUNK

    def __enter__(self) -> GuardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __reduce__(self) -> Any:
        raise _not_sent()

    # -- deciding ---------------------------------------------------------------------------

    def check(
        self,
        action: Mapping[str, Any] | BaseModel | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        candidates: Sequence[_Pair | _Indexed] | None = None,
        explanations: Sequence[Mapping[str, Any]] | None = None,
    ) -> Decision:
        """Decide one action, or the best of `candidates` [(action, probability), ...].

        A candidate may be (action, probability, index), index its position in the
        caller's own list of actions (all of them have one, or none): the substitution
        then reports those indices. `explanations` (e.g. a planner's rationale) are
        recorded with the decision.
        """
        if candidates is not None and action is not None:
            raise InvalidAction("give an action or candidates, not both")
        if isinstance(candidates, Iterator):  # yielded: read once, here
            candidates = list(candidates)
        if candidates is not None and not candidates:
            raise InvalidAction("candidates must hold at least one (action, probability) pair")
        if candidates is not None and len(candidates) > _MAX_CANDIDATES:
            raise InvalidAction(
                f"{len(candidates)} alternatives; the sidecar reads at most {_MAX_CANDIDATES} "
                "in one check (the in-process Guard any number): propose fewer, or mask the "
                "rest with -inf scores over declared actions"
            )
        # Checked as the in-process Guard checks them (actions, then context), before sending:
        # no action and no candidates is Guard.check(None)'s error.
        pairs = [_candidate(c, i) for i, c in enumerate(candidates or ())]
        sent = [c[0] for c in pairs] if candidates is not None else [_action(action)]
        body: dict[str, Any] = _body(
            policy=_pack_name(policy),
            context=_context_sent(context),
            explanations=_explanations(explanations),
        )
        if candidates is not None:
            body["candidates"] = pairs
        else:
            body["action"] = sent[0]
        proposed = _Proposed(sent)
        return proposed.bind(self._decision("POST", "/v1/check", policy, json=body))

    def check_batch(
        self,
        actions: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[Decision]:
        """Decide many actions in one request and one audit transaction."""
        if isinstance(actions, str | bytes | Mapping) or not isinstance(actions, Iterable):
            raise InvalidAction(f"actions must be a list of mappings, got {type(actions).__name__}")
        sent = []
        for index, action in enumerate(actions):
            try:
                sent.append(_action(action))
            except InvalidAction as exc:  # which one, in a batch of many
                raise type(exc)(f"action #{index}: {exc}") from None
        body = _body(policy=_pack_name(policy), context=_context_sent(context), actions=sent)
        if not sent:  # nothing to decide, as in process (the sidecar refuses an empty list)
            return []
        proposed = [_Proposed([a]) for a in body["actions"]]
        page = self._request("POST", "/v1/check/batch", json=body)
        items = page.get("items")
        where = "POST /v1/check/batch"
        if not isinstance(items, list) or len(items) != len(proposed):
            got = f"{len(items)} items" if isinstance(items, list) else f"items {items!r:.80}"
            raise _bad(200, where, f"{len(proposed)} decisions expected, got {got}")
        return [p.bind(_decision(d, where, policy)) for p, d in zip(proposed, items, strict=True)]

    def rank(
        self,
        items: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        actor: str | None = None,
        query: str | None = None,
    ) -> Decision:
        """Filter a ranking; `decision.final_items` are the survivors, `items` the reasons."""
        context = _context_sent(context)
        if isinstance(items, Iterator):
            items = list(items)
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
            raise InvalidAction(f"items must be a list of mappings, got {type(items).__name__}")
        rows = [check_data(it, f"item {i}") for i, it in enumerate(items)]
        _unique_ids(rows)
        for what, value in (("actor", actor), ("query", query)):
            if value is not None and not isinstance(value, str):
                raise InvalidAction(f"{what} must be a string, got {type(value).__name__}")
        body = _body(
            policy=_pack_name(policy), context=context, actor=actor, query=query, items=rows
        )
        expected = _ranking_digest(body["items"], query)
        decision = self._decision("POST", "/v1/rank", policy, json=body)
        if decision.action_digest != expected:
            raise _mismatch(decision, "POST /v1/rank", [expected])
        return decision

    def shield(
        self,
        actions: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[int]:
        """The indexes of the candidate actions allowed now (nothing is recorded)."""
        return self._shield(actions, context, policy)[0]

    def shield_verdicts(
        self,
        actions: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every candidate's verdict and the rules behind it (nothing is recorded)."""
        return self._shield(actions, context, policy)[1]

    def _shield(
        self,
        actions: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None,
        policy: str | None,
    ) -> tuple[list[int], list[dict[str, Any]]]:
        """The allowed indexes and the verdicts, checked to be one per action sent, in order."""
        sent = []
        for index, action in enumerate(_action_list(actions, "shield")):
            try:
                sent.append(_action(action))
            except InvalidAction as exc:  # which one, of many
                raise type(exc)(f"action #{index}: {exc}") from None
        context = _context_sent(context)
        if not sent:  # nothing to allow (the sidecar refuses an empty list)
            return [], []
        body = _body(policy=_pack_name(policy), context=context, actions=sent)
        page = self._request("POST", "/v1/shield", json=body)
        items, allowed = page.get("items"), page.get("allowed")
        where = "POST /v1/shield"
        if not isinstance(items, list) or [
            it.get("index") if isinstance(it, dict) else it for it in items
        ] != list(range(len(sent))):
            got = f"{len(items)} items" if isinstance(items, list) else f"items {items!r:.80}"
            raise _bad(
                200, where, f"not one verdict per action in order ({len(sent)} expected, got {got})"
            )
        indexes = [i for i, it in enumerate(items) if it.get("allowed") is True]
        if allowed != indexes:
            why = f"allowed {allowed!r:.80} where its verdicts allow {indexes!r:.80}"
            raise _bad(200, where, why)
        return indexes, items

    # -- review -----------------------------------------------------------------------------

    def wait_for_resolution(self, decision_id: str, timeout: float) -> dict[str, Any] | None:
        """Long-poll until a reviewer resolves the escalation; None if `timeout` passes first."""
        _seconds(timeout, "timeout")
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            chunk = min(remaining, self._long_poll)
            try:
                answer = self._request(
                    "GET",
                    f"/v1/escalations/{_segment(decision_id)}/wait",
                    params={"timeout": chunk},
                    timeout=chunk + self._timeout,
                )
            except RemoteError as exc:
                if _timeout_too_long(exc) and chunk > _MIN_LONG_POLL:
                    # The server's long-poll maximum (long_poll_max) is below our chunk.
                    self._long_poll = max(_MIN_LONG_POLL, chunk / 2)
                    continue
                if exc.status != 408:
                    raise
                if time.monotonic() >= deadline:
                    return None
                continue
            return _resolution(answer, decision_id)

    def escalations(
        self,
        status: str = "pending",
        *,
        tenant: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """A page of escalations, newest first: pending (default), resolved or all."""
        _one_of(status, "status", _SHOWN)
        params = _body(status=status, tenant=tenant, cursor=cursor, limit=limit)
        page = self._request("GET", "/v1/escalations", params=params)
        where = "GET /v1/escalations"
        _items(page, where, "escalations", lambda e: _escalation_problem(e, _SHOWN[status]))
        why = (
            _fields(page, {"next_cursor": (str, _NONE)})
            if "next_cursor" in page
            else "no next_cursor"
        )
        if why is not None:  # a caller pages on with it
            raise _bad(200, where, f"not a page of escalations ({why})")
        return page

    def resolve(
        self, decision_id: str, outcome: str, note: str = "", reviewer: str | None = None
    ) -> dict[str, Any]:
        """Approve or deny a held action (a second resolution is a 409 RemoteError)."""
        _one_of(outcome, "outcome", ("approve", "deny"))
        body = _body(outcome=outcome, note=note, reviewer=reviewer)
        path = f"/v1/escalations/{_segment(decision_id)}/resolve"
        answer = self._request("POST", path, json=body)
        return _recorded(answer, f"POST {path}", decision_id, "resolution", "outcome", body)

    def review(
        self, decision_id: str, label: str, note: str = "", reviewer: str | None = None
    ) -> dict[str, Any]:
        """Label a decision: correct, false_positive or false_negative."""
        _one_of(label, "label", ("correct", "false_positive", "false_negative"))
        body = _body(label=label, note=note, reviewer=reviewer)
        path = f"/v1/decisions/{_segment(decision_id)}/review"
        answer = self._request("POST", path, json=body)
        return _recorded(answer, f"POST {path}", decision_id, "review", "label", body)

    # -- reading ----------------------------------------------------------------------------

    def decision(self, decision_id: str) -> dict[str, Any]:
        """A decision's audit record (PII masked), with its index and leaf hash (checked to
        be the hash of that record)."""
        path = f"/v1/decisions/{_segment(decision_id)}"
        answer = self._request("GET", path)
        why = _stored_problem(answer)
        if why is not None:
            raise _bad(200, f"GET {path}", f"not a stored decision ({why})")
        _same_decision(answer["id"], decision_id, f"GET {path}")
        _leaf_of(answer["record"], answer["leaf_hash"], f"GET {path}")
        return answer

    def decisions(self, **filters: Any) -> dict[str, Any]:
        """A page of decisions (filters: verdict, rule_id, policy, actor, since, cursor, ...);
        each item's leaf hash is checked to be the hash of its record."""
        params = {k: v for k, v in filters.items() if v is not None}
        page = self._request("GET", "/v1/decisions", params=params)
        where = "GET /v1/decisions"
        items = _items(page, where, "decisions", _stored_problem)
        why = _fields(page, {"next_cursor": (str, _NONE)}) if "next_cursor" in page else None
        if why is not None or "next_cursor" not in page:  # a caller pages on with it
            raise _bad(200, where, f"not a page of decisions ({why or 'no next_cursor'})")
        for item in items:
            _leaf_of(item["record"], item["leaf_hash"], where)
        return page

    def proof(self, decision_id: str, *, verify: bool = True) -> dict[str, Any]:
        """An inclusion proof of the decision against the current signed head.

        With `verify` (the default) nothing of it is taken on trust: the leaf hash is
        recomputed from the record, the audit path must lead to the root, the root and
        size must be the head's, and the head's Ed25519 signature must check (against the
        client's `public_key` when one was given); else `RemoteError` proof_invalid.
        """
        path = f"/v1/decisions/{_segment(decision_id)}/proof"
        where = f"GET {path}"
        answer = self._request("GET", path)
        why = _fields(answer, _PROOF) or _hashes(answer, "leaf_hash", "root")
        why = why or _hex_list(answer["audit_path"], "audit_path")
        why = why or _record_problem(answer["record"])
        if why is None and (head := _head_problem(answer["head"])) is not None:
            why = f"head: {head}"
        if why is not None:
            raise _bad(200, where, f"not an inclusion proof ({why})")
        _same_decision(answer["record"]["id"], decision_id, where)
        if verify:
            _verify_inclusion(answer, where)
            _verify_head(answer["head"], where, self._public_key)
        return answer

    def head(self, *, verify: bool = True) -> dict[str, Any]:
        """The signed tree head and the public key that checks it.

        With `verify` (the default) its Ed25519 signature must check, against the client's
        `public_key` when one was given (the head's own key proves only that someone
        holding it signed), else `RemoteError` proof_invalid.
        """
        answer = self._request("GET", "/v1/audit/head")
        why = _head_problem(answer)
        if why is not None:
            raise _bad(200, "GET /v1/audit/head", f"not a signed tree head ({why})")
        if verify:
            _verify_head(answer, "GET /v1/audit/head", self._public_key)
        return answer

    def consistency(
        self,
        first: int,
        second: int | None = None,
        *,
        verify: bool = True,
        first_root: str | None = None,
        second_root: str | None = None,
    ) -> dict[str, Any]:
        """A consistency proof between two tree sizes (`second` default: the current size).

        With `verify` (the default) the proof must show the tree of `first` leaves is a
        prefix of the tree of `second`; `first_root` and `second_root` (hex, from heads you
        verified and kept) must then be the roots it joins. Else `RemoteError` proof_invalid.
        """
        _tree_size(first, "first")
        if second is not None:
            _tree_size(second, "second")
        held = {
            "first_root": _hex_arg(first_root, "first_root"),
            "second_root": _hex_arg(second_root, "second_root"),
        }
        params = {"from": first, **({"to": second} if second is not None else {})}
        answer = self._request("GET", "/v1/audit/consistency", params=params)
        where = "GET /v1/audit/consistency"
        why = _fields(answer, _CONSISTENCY) or _hashes(answer, "first_root", "second_root")
        why = why or _hex_list(answer["proof"], "proof")
        if why is None and answer["first"] != first:
            why = f"first {answer['first']!r}, not the {first!r} asked"
        if why is None and second is not None and answer["second"] != second:
            why = f"second {answer['second']!r}, not the {second!r} asked"
        if why is not None:
            raise _bad(200, where, f"not a consistency proof ({why})")
        if verify:
            _verify_consistency(answer, where, held)
        return answer

    def policies(self) -> list[dict[str, Any]]:
        """The loaded packs: name, version, digest, description, rules, pii, shadow."""
        page = self._request("GET", "/v1/policies")
        return _items(page, "GET /v1/policies", "packs", lambda p: _fields(p, _POLICY))

    def ready(self) -> bool:
        """True when the sidecar answers /readyz."""
        try:
            return bool(self._http.get("/readyz", timeout=self._timeout).status_code == 200)
        except Exception:  # any transport error means "not ready yet"
            return False

    def _decision(self, method: str, path: str, policy: str | None, **kwargs: Any) -> Decision:
        return _decision(self._request(method, path, **kwargs), f"{method} {path}", policy)

    def _request(
        self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        httpx = _httpx()
        seconds = timeout or self._timeout
        where = f"{method} {path}"
        # As a closed Guard refuses (httpx's RuntimeError is no GuardError).
        if getattr(self._http, "is_closed", False):
            raise GuardError(
                "this client is closed: it sends nothing more; make a new one (GuardClient or "
                "RemoteGuard) to go on deciding"
            )
        try:
            response = self._http.request(
                method, path, headers=self._headers, timeout=seconds, **kwargs
            )
        except httpx.RequestError as exc:  # a transport error, or a body it cannot decode
            raise _transport_error(exc, where, seconds, self._http.base_url) from exc
        status = response.status_code
        if status >= 400:
            raise _error(response, getattr(self._http, "base_url", None))
        if not 200 <= status < 300:
            location = response.headers.get("location")
            raise RemoteError(
                status,
                "redirect_refused",
                f"the sidecar answered {where} with {status} (to {location!r}); redirects are "
                "not followed, so the request and its key go only to the URL given",
                {"location": location},
            )
        try:
            data = response.json()
        except ValueError:
            text = response.text
            raise _bad(status, where, f"not JSON ({len(text)} characters: {text[:80]!r})") from None
        if not isinstance(data, dict):
            raise _bad(status, where, f"a JSON {type(data).__name__}, not an object")
        return data


class RemoteGuard:
    """`Guard`'s check/check_batch/rank/allowed and decorators, decided by a sidecar over HTTP.

    Denied first choices are replaced by the best allowed alternative (server side);
    denials raise `ActionBlocked`, escalations `ActionEscalated`, unless
    `wait_for_review` seconds are given: then the call long-polls for a reviewer and
    proceeds on approval (a reviewer's deny raises `ActionBlocked`).
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        policy: str | None = None,
        wait_for_review: float | None = None,
        client: GuardClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.client = client or GuardClient(url, api_key, timeout=timeout)
        self.policy = _pack_name(policy)
        self.wait_for_review = _seconds(wait_for_review, "wait_for_review")

    def __enter__(self) -> RemoteGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client."""
        self.client.close()

    def __reduce__(self) -> Any:
        raise _not_sent()

    def check(
        self,
        action: Mapping[str, Any] | BaseModel,
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> Decision:
        """Decide and record one action."""
        return self.client.check(action, context, policy=policy or self.policy)

    def check_batch(
        self,
        actions: Iterable[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[Decision]:
        """Decide and record many actions in one request and one audit transaction."""
        return self.client.check_batch(actions, context, policy=policy or self.policy)

    def rank(
        self,
        items: Sequence[Mapping[str, Any] | BaseModel],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        actor: str | None = None,
        query: str | None = None,
    ) -> Decision:
        """Filter a ranking."""
        return self.client.rank(
            items, context, policy=policy or self.policy, actor=actor, query=query
        )

    def allowed(
        self,
        actions: Iterable[Mapping[str, Any]],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[Mapping[str, Any]]:
        """The candidate actions the policy would let run now (a planner's pre-shield), in
        order, as `Guard.allowed` gives them: an allowed action as given, a redacted one as
        it would run (its redacted fields replaced); denied and escalated ones are left out.
        `actions` is a list (tuple, generator) of actions, not one action. Nothing is
        recorded."""
        actions = _action_list(actions, "allowed")
        verdicts = self.client.shield_verdicts(actions, context, policy=policy or self.policy)
        out: list[Mapping[str, Any]] = []
        for action, v in zip(actions, verdicts, strict=True):
            if v["allowed"] is not True:
                continue
            if v["verdict"] == "allow":
                out.append(action)
            elif v["verdict"] == "redact":
                final = v.get("final_action")
                if not isinstance(final, dict) or not isinstance(final.get("kind"), str):
                    raise _bad(200, "POST /v1/shield", "a redact verdict without its final_action")
                out.append(final)
        return out

    def enforce(
        self,
        out: Any,
        context: Mapping[str, Any] | None,
        *,
        actions: Sequence[Mapping[str, Any]] | None = None,
        policy: str | None = None,
        wait_for_review: float | None = None,
    ) -> GuardedAction:
        """Check a proposal (action, alternatives or scores) remotely; return what may run."""
        if isinstance(out, Iterator):  # alternatives yielded: read them once, here
            out = list(out)
        candidates = _candidates(out, actions)
        policy = policy or self.policy
        if len(candidates) == 1 and isinstance(out, Mapping | BaseModel):
            # one action, decided with the context's own score; one alternative of a list
            # or of scores goes as a candidate, decided with its probability as `score`
            decision = self.client.check(candidates[0][0], context, policy=policy)
        else:
            given = sorted(candidates, key=lambda c: c[2])
            # The plain pairs any sidecar reads, unless masked actions were left out: then
            # each keeps its declared index, as in process.
            dense = [c[2] for c in given] == list(range(len(given)))
            sent = [(a, p) for a, p, _ in given] if dense else given
            decision = self.client.check(None, context, policy=policy, candidates=sent)
        wait = self.wait_for_review if wait_for_review is None else wait_for_review
        return self._apply(decision, candidates[0][0], wait)

    @overload
    def agent(self, fn: Callable[P, Any], /) -> Callable[P, Any]: ...
    @overload
    def agent(
        self,
        fn: None = None,
        /,
        *,
        actions: Sequence[Mapping[str, Any]] | None = None,
        policy: str | None = None,
        context: ContextArg = None,
        wait_for_review: float | None = None,
    ) -> Callable[[Callable[P, Any]], Callable[P, Any]]: ...

    def agent(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        actions: Sequence[Mapping[str, Any]] | None = None,
        policy: str | None = None,
        context: ContextArg = None,
        wait_for_review: float | None = None,
    ) -> Any:
        """Wrap `fn` so its proposal is checked by the sidecar and enforced here."""
        _seconds(wait_for_review, "wait_for_review")
        _pack_name(policy)
        _check_declared(actions)  # refused here, not at the first call, as in process

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            def enforce(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                ctx = _context(context, args, kwargs)
                return self.enforce(
                    out, ctx, actions=actions, policy=policy, wait_for_review=wait_for_review
                )

            return _wrap(func, enforce, _in_thread(enforce))

        return decorate(fn) if fn is not None else decorate

    @overload
    def ranker(self, fn: Callable[P, Any], /) -> Callable[P, Any]: ...
    @overload
    def ranker(
        self,
        fn: None = None,
        /,
        *,
        policy: str | None = None,
        context: ContextArg = None,
        actor: TextArg = None,
        query: TextArg = None,
    ) -> Callable[[Callable[P, Any]], Callable[P, Any]]: ...

    def ranker(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        policy: str | None = None,
        context: ContextArg = None,
        actor: TextArg = None,
        query: TextArg = None,
    ) -> Any:
        """Wrap a ranking function so the sidecar's item rules and caps filter its items.
        `actor` and `query` as in process; the tenant is the API key's."""
        _pack_name(policy)
        named = {"actor": actor, "query": query}

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            def enforce(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                items = _ranked_items(out)
                ctx, who = _context(context, args, kwargs), texts(named, args, kwargs)
                decision = self.rank(items, ctx, policy=policy, **who)
                kept = items if decision.mode == "shadow" else decision.final_items or []
                result = GuardedRanking(kept)
                result.decision = decision
                return result

            return _wrap(func, enforce, _in_thread(enforce))

        return decorate(fn) if fn is not None else decorate

    def _apply(self, decision: Decision, first: Any, wait: float | None) -> GuardedAction:
        if decision.mode == "shadow":
            result = GuardedAction(_plain(first))
        elif decision.verdict is Verdict.DENY:
            raise ActionBlocked(decision)
        elif decision.verdict is Verdict.ESCALATE:
            result = GuardedAction(self._reviewed(decision, wait))
        else:
            result = GuardedAction(decision.final_action or {})
        result.decision = decision
        return result

    def _reviewed(self, decision: Decision, wait: float | None) -> dict[str, Any]:
        if not wait:
            raise ActionEscalated(decision)
        resolution = self.client.wait_for_resolution(decision.id, wait)
        if resolution is None:
            raise ActionEscalated(
                decision, f"action still held for review after {wait:g} s (decision {decision.id})"
            )
        if resolution.get("outcome") != "approve":
            raise ActionBlocked(
                decision,
                f"reviewer {resolution.get('reviewer')!r} denied "
                f"the held action (decision {decision.id})",
            )
        return decision.final_action or {}


def _authorization(api_key: str | None) -> dict[str, str]:
    """The header that sends `api_key` (none without a key); a key no header can carry is
    refused here, without showing it (httpx's error would, once sending)."""
    if not api_key:
        return {}
    if not isinstance(api_key, str):
        raise InvalidAction(
            f"api_key must be a string of printable ASCII, got {type(api_key).__name__}"
        )
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise InvalidAction(
            "api_key must be a string of printable ASCII without spaces, as the sidecar issues "
            "keys (gk_...); this one holds whitespace or other characters (a newline read with "
            "it from a file?)"
        )
    return {"Authorization": f"Bearer {api_key}"}


def _not_sent() -> TypeError:
    """Refuse pickling and copying, as a Guard does, saying what to do instead."""
    return TypeError(
        "a GuardClient or RemoteGuard cannot be pickled or copied: it holds an open connection "
        "pool. Send the sidecar's URL instead and make one in each process with "
        "RemoteGuard(url, api_key, ...)"
    )


def _seconds(value: float | None, what: str) -> float | None:
    """A wait in seconds, refused when it is not a number >= 0 (NaN would long-poll forever)."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
    ):
        raise InvalidAction(
            f"{what} must be a number of seconds >= 0 (inf waits as long as it takes), "
            f"got {value!r}"
        )
    return value


def _in_thread(enforce: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """`enforce` for an async function: its HTTP call (and any wait for a reviewer) runs in
    a worker thread, so the event loop goes on serving other tasks meanwhile."""
    return functools.partial(asyncio.to_thread, enforce)


class _Proposed:
    """The actions a check sent, as the sidecar reads them, to tie its decision to them."""

    def __init__(self, actions: Sequence[dict[str, Any]]) -> None:
        # As sent (JSON), each made native (a tool call) the way the sidecar's engine does.
        self._actions = [check_action(a)[0] for a in _as_sent(actions)]

    def digests(self, tenant: str | None) -> list[str]:
        """Each action's digest once the sidecar bound its key's tenant to it, if any."""
        return [check_action(_with_tenant(a, tenant))[1] for a in self._actions]

    def bind(self, decision: Decision) -> Decision:
        """The decision, if it is one for an action sent; else `RemoteError` decision_mismatch."""
        expected = self.digests(decision.tenant)
        if decision.action_digest not in expected:
            raise _mismatch(decision, "POST /v1/check", expected)
        if decision.verdict is not Verdict.DENY and decision.final_action is None:
            raise _bad(200, "POST /v1/check", f"an {decision.verdict.value} without a final_action")
        return decision


def _candidate(candidate: Any, i: int) -> tuple[Any, ...]:
    """A candidate to send: (action, probability) or (action, probability, index)."""
    if not isinstance(candidate, tuple | list) or len(candidate) not in (2, 3):
        raise InvalidAction(
            f"alternative #{i} must be an (action, probability) pair or an (action, "
            f"probability, index) triple, got {candidate!r:.80}"
        )
    sent = (_action(candidate[0]), _score(candidate[1], f"alternative #{i}"))
    if len(candidate) == 2:
        return sent
    index = candidate[2]
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidAction(f"alternative #{i}: index must be an integer >= 0, got {index!r}")
    if index > _MAX_POSITION:
        raise InvalidAction(
            f"alternative #{i}: index {index} is past the sidecar's limit of {_MAX_POSITION:,} "
            f"(the in-process Guard has none): declare at most {_MAX_POSITION + 1:,} actions"
        )
    return (*sent, index)


def _action(action: Any) -> dict[str, Any]:
    """An action to send, once it passes the checks the in-process Guard makes (same errors:
    a NaN, bytes or a numpy number in it is refused here, not by the JSON encoder)."""
    check_action(action)
    return _plain(action)


def _explanations(explanations: Any) -> list[dict[str, Any]] | None:
    """`explanations` to send, each checked as a context is (the sidecar records them)."""
    if explanations is None:
        return None
    if isinstance(explanations, str | bytes | Mapping) or not isinstance(explanations, Iterable):
        raise InvalidAction(
            f"explanations must be a list of mappings, got {type(explanations).__name__}"
        )
    sent = [check_data(e, f"explanation #{i}") for i, e in enumerate(explanations)]
    if len(sent) > _MAX_EXPLANATIONS:
        raise InvalidAction(
            f"{len(sent)} explanations; the sidecar records at most {_MAX_EXPLANATIONS} "
            "with one check"
        )
    return sent or None


def _context_sent(context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if context is None else check_data(context, "context")


def _as_sent(value: Any) -> Any:
    """`value` as the sidecar parses it from the JSON the client sends (tuples as lists...)."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _with_tenant(action: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    if tenant is None or action.get("tenant") is not None:
        return action
    return {**action, "tenant": tenant}


def _ranking_digest(items: list[dict[str, Any]], query: str | None) -> str:
    rows = [check_data(item, f"item {i}") for i, item in enumerate(_as_sent(items))]
    return digest({"items": rows, "query": query}, "ranking")


def _decision(data: dict[str, Any], where: str, policy: str | None) -> Decision:
    """The answer as a decision, made under `policy` when one was asked for."""
    try:
        decision = Decision.model_validate(data)
    except ValidationError as exc:
        raise _bad(200, where, f"not a decision ({_first_error(exc, 'the body')})") from None
    if policy is not None and decision.policy != policy:
        raise RemoteError(
            200,
            "decision_mismatch",
            f"the sidecar answered {where} with decision {decision.id!r} under policy "
            f"{decision.policy!r}, not {policy!r}; it is not applied",
            {"decision_id": decision.id, "policy": decision.policy, "expected": policy},
        )
    return decision


def _resolution(answer: dict[str, Any], decision_id: str) -> dict[str, Any]:
    """A long-poll's resolution, checked to be one of `decision_id`."""
    where = f"GET /v1/escalations/{decision_id}/wait"
    resolution = answer.get("resolution")
    if not isinstance(resolution, dict):
        raise _bad(200, where, f"no resolution object (got {resolution!r:.80})")
    ids = {answer.get("decision_id"), resolution.get("decision_id", decision_id)}
    if ids != {decision_id}:
        raise RemoteError(
            200,
            "decision_mismatch",
            f"the sidecar answered {where} with the resolution of another decision "
            f"({sorted(map(str, ids - {decision_id}))!r}); it is not applied",
            {"decision_id": decision_id},
        )
    return resolution


# The escalation statuses each `status` filter lists.
_SHOWN = {
    "pending": ("pending",),
    "resolved": ("approved", "denied"),
    "all": ("pending", "approved", "denied"),
}
_NONE = type(None)
_POLICY = {
    "name": (str,),
    "version": (int, str),
    "digest": (str,),
    "description": (str,),
    "rules": (int,),
    "pii": (bool,),
    "shadow": (str, _NONE),
}
_ESCALATION = {
    "decision_id": (str,),
    "status": (str,),
    "decision": (dict,),
    "resolution": (dict, _NONE),
}


def _items(
    page: dict[str, Any], where: str, what: str, problem: Callable[[dict[str, Any]], str | None]
) -> list[dict[str, Any]]:
    """A page's items, each an object `problem` finds nothing wrong with."""
    items = page.get("items")
    if not isinstance(items, list):
        raise _bad(200, where, f"not a page of {what} (items {items!r:.80})")
    for i, item in enumerate(items):
        why = problem(item) if isinstance(item, dict) else f"a JSON {type(item).__name__}"
        if why is not None:
            raise _bad(200, where, f"not a page of {what} (item {i}: {why})")
    return items


def _fields(item: dict[str, Any], types: Mapping[str, tuple[type, ...]]) -> str | None:
    """What is wrong with `item`'s fields, given their types (a missing field is null)."""
    for name, allowed in types.items():
        value = item.get(name)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return f"{name} is {value!r:.80}" if name in item else f"no {name}"
    return None


def _escalation_problem(item: dict[str, Any], statuses: tuple[str, ...]) -> str | None:
    """What is wrong with a listed escalation: its fields, status (one of `statuses`, the
    filter's), decision (the one it names) and resolution (there once resolved)."""
    why = _fields(item, _ESCALATION)
    if why is not None:
        return why
    if item["status"] not in statuses:
        return f"status {item['status']!r:.80}, not one of {', '.join(statuses)}"
    if item["decision"].get("id") != item["decision_id"]:
        return f"decision {item['decision'].get('id')!r:.80} listed as {item['decision_id']!r:.80}"
    if (item["resolution"] is None) != (item["status"] == "pending"):
        return f"{item['status']} with resolution {item['resolution']!r:.80}"
    return None


_STORED = {"index": (int,), "id": (str,), "leaf_hash": (str,), "record": (dict,)}
_HEAD = {
    "size": (int,),
    "root": (str,),
    "timestamp": (str,),
    "signature": (str, _NONE),
    "key_id": (str, _NONE),
    "algorithm": (str,),
    "public_key": (str,),
}
_PROOF = {
    "record": (dict,),
    "leaf_index": (int,),
    "tree_size": (int,),
    "leaf_hash": (str,),
    "audit_path": (list,),
    "root": (str,),
    "head": (dict,),
}
_CONSISTENCY = {
    "first": (int,),
    "second": (int,),
    "first_root": (str,),
    "second_root": (str,),
    "proof": (list,),
}
# A SHA-256 hash or raw Ed25519 public key (32 bytes), a signature (64), as the sidecar writes them.
_HASH = re.compile(r"[0-9a-f]{64}")
_SIGNATURE = re.compile(r"[0-9a-f]{128}")


def _hashes(item: dict[str, Any], *names: str) -> str | None:
    """The first of `names` in `item` that is not a hash in lowercase hex, if any."""
    for name in names:
        if not _HASH.fullmatch(item[name]):
            return f"{name} {item[name]!r:.80} is not a SHA-256 hash in hex"
    return None


def _hex_list(values: list[Any], what: str) -> str | None:
    """What is wrong with a proof's list of hashes, if anything."""
    for i, value in enumerate(values):
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            return f"{what}[{i}] {value!r:.80} is not a SHA-256 hash in hex"
    return None


def _first_error(exc: ValidationError, whole: str) -> str:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"]) or whole
    return f"{exc.error_count()} errors; {loc}: {first['msg']}"


def _record_problem(record: dict[str, Any]) -> str | None:
    """What makes `record` no decision record (DecisionEventV1), if anything."""
    try:
        DecisionEventV1.model_validate(record)
    except ValidationError as exc:
        return f"record not a decision record ({_first_error(exc, 'the record')})"
    return None


def _stored_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with a stored decision (index, id, leaf hash, record), if anything."""
    why = _fields(item, _STORED) or _hashes(item, "leaf_hash") or _record_problem(item["record"])
    if why is None and item["index"] < 0:
        why = f"index {item['index']!r}"
    if why is None and item["record"]["id"] != item["id"]:
        why = f"record {item['record']['id']!r:.80} listed as {item['id']!r:.80}"
    return why


def _head_problem(head: dict[str, Any]) -> str | None:
    """What is wrong with a tree head's fields, if anything (its signature is not checked)."""
    why = _fields(head, _HEAD) or _hashes(head, "root", "public_key")
    if why is None and head["size"] < 0:
        why = f"size {head['size']!r}"
    if why is None and head["algorithm"] != "ed25519":
        why = f"algorithm {head['algorithm']!r:.80}, not 'ed25519'"
    signature = head.get("signature")
    if why is None and signature is not None and not _SIGNATURE.fullmatch(signature):
        why = f"signature {signature!r:.80} is not an Ed25519 signature in hex"
    return why


def _recorded(
    answer: dict[str, Any],
    where: str,
    decision_id: str,
    what: str,
    field: str,
    sent: dict[str, Any],
) -> dict[str, Any]:
    """A resolution or review record, checked to be the one just sent for `decision_id`."""
    schema = f"guard.{what}/v1"
    types = {
        "schema_version": (str,),
        "id": (str,),
        "decision_id": (str,),
        "time": (str,),
        "tenant": (str, _NONE),
        "policy": (str, _NONE),
        field: (str,),
        "note": (str,),
        "reviewer": (str,),
        "key": (str, _NONE),
    }
    why = _fields(answer, types)
    if why is None and answer["schema_version"] != schema:
        why = f"schema_version {answer['schema_version']!r:.80}, not {schema!r}"
    for name in (field, "reviewer"):
        if why is None and name in sent and answer[name] != sent[name]:
            why = f"{name} {answer[name]!r:.80}, not the {sent[name]!r:.80} sent"
    if why is not None:
        raise _bad(200, where, f"not a {what} record ({why})")
    _same_decision(answer["decision_id"], decision_id, where, f"the {what} of decision")
    return answer


def _same_decision(got: str, asked: str, where: str, what: str = "decision") -> None:
    """Refuse an answer about another decision than the one asked for."""
    if got != asked:
        raise RemoteError(
            200,
            "decision_mismatch",
            f"the sidecar answered {where} with {what} {got!r:.80}, not {asked!r}; "
            "it is not applied",
            {"decision_id": asked},
        )


def _leaf_of(record: dict[str, Any], given: str, where: str) -> bytes:
    """The leaf hash of `record` (SHA-256(0x00 || RFC 8785 bytes)), which must be `given`."""
    try:
        computed = leaf_hash(canonical_json(record))
    except AuditError as exc:  # no canonical bytes (an integer beyond 2**53, say)
        raise _unproven(where, "leaf_hash", f"its record has no canonical form ({exc})") from None
    if computed.hex() != given:
        raise _unproven(
            where,
            "leaf_hash",
            f"leaf_hash {given} is not SHA-256(0x00 || RFC 8785 bytes of record "
            f"{record.get('id')!r:.80}), which is {computed.hex()}",
        )
    return computed


def _verify_inclusion(proof: dict[str, Any], where: str) -> None:
    """Check an inclusion proof: leaf hash, audit path up to the root, root of the head."""
    leaf = _leaf_of(proof["record"], proof["leaf_hash"], where)
    index, size, root, head = proof["leaf_index"], proof["tree_size"], proof["root"], proof["head"]
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    if not verify_inclusion(leaf, index, size, path, bytes.fromhex(root)):
        raise _unproven(
            where,
            "audit_path",
            f"the audit_path of {len(path)} hashes does not lead from leaf {index} of a tree "
            f"of size {size} to root {root}",
        )
    if (size, root) != (head["size"], head["root"]):
        raise _unproven(
            where,
            "head",
            f"it proves leaf {index} in a tree of size {size} with root {root}, but the signed "
            f"head is of size {head['size']} with root {head['root']}",
        )


def _verify_head(head: dict[str, Any], where: str, pinned: str | None) -> None:
    """Check a tree head's Ed25519 signature, with the key pinned if any, else its own."""
    key = head["public_key"]
    if pinned is not None and key != pinned:
        raise _unproven(
            where, "public_key", f"the head carries public key {key}, not the pinned {pinned}"
        )
    if head["signature"] is None:
        raise _unproven(where, "signature", "the tree head is not signed")
    fields = {name: head[name] for name in ("size", "root", "timestamp", "signature", "key_id")}
    if not verify_head(TreeHead(**fields), key):
        raise _unproven(
            where,
            "signature",
            f"the signature of the head of size {head['size']} with root {head['root']} "
            f"does not check with public key {key}",
        )


def _verify_consistency(proof: dict[str, Any], where: str, held: dict[str, str | None]) -> None:
    """Check a consistency proof between its roots, which must be the `held` ones if given."""
    for name, root in held.items():
        if root is not None and proof[name] != root:
            raise _unproven(where, name, f"{name} {proof[name]} is not the {root} given")
    first, second = proof["first"], proof["second"]
    roots = bytes.fromhex(proof["first_root"]), bytes.fromhex(proof["second_root"])
    hashes = [bytes.fromhex(h) for h in proof["proof"]]
    if not verify_consistency(first, second, *roots, hashes):
        raise _unproven(
            where,
            "proof",
            f"the proof of {len(hashes)} hashes does not show the tree of size {first} (root "
            f"{proof['first_root']}) to be a prefix of the tree of size {second} (root "
            f"{proof['second_root']})",
        )


def _unproven(where: str, failed: str, why: str) -> RemoteError:
    return RemoteError(
        200,
        "proof_invalid",
        f"the sidecar's answer to {where} does not verify: {why}; it proves nothing",
        {"failed": failed},
    )


def _hex_arg(value: str | None, what: str) -> str | None:
    """A hash or key given in hex (any case), as the sidecar writes it; refused if not one."""
    if value is None:
        return None
    if not isinstance(value, str) or not _HASH.fullmatch(value.lower()):
        raise InvalidAction(
            f"{what} must be 64 hex digits (32 bytes), as GET /v1/audit/head gives it, "
            f"got {value!r:.80}"
        )
    return value.lower()


def _mismatch(decision: Decision, where: str, expected: list[str]) -> RemoteError:
    return RemoteError(
        200,
        "decision_mismatch",
        f"the sidecar answered {where} with decision {decision.id!r} for another action "
        f"(action_digest {decision.action_digest!r}, expected one of {expected!r}); "
        "it is not applied",
        {"decision_id": decision.id, "action_digest": decision.action_digest, "expected": expected},
    )


def _bad(status: int, where: str, why: str) -> RemoteError:
    return RemoteError(
        status, "bad_response", f"the sidecar's answer to {where} is {why}; nothing is applied", {}
    )


def _transport_error(exc: Exception, where: str, seconds: float, base_url: object) -> RemoteError:
    httpx = _httpx()
    cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    # Nothing was sent: no connection (or none possible: a URL of another protocol).
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
        if isinstance(base_url, httpx.URL):  # a password or token in it is not shown
            base_url = base_url.copy_with(username=None, password=None, query=None, fragment=None)
        code, what = "sidecar_unreachable", f"cannot connect to the sidecar at {str(base_url)!r}"
    elif isinstance(exc, httpx.TimeoutException):
        code = "sidecar_timeout"
        what = f"no answer from the sidecar within {seconds:g} s"
    else:
        code, what = "connection_lost", "the connection to the sidecar failed"
    message = f"{what} for {where} ({cause}); not retried"
    if code != "sidecar_unreachable" and where.startswith("POST"):
        message += ": the sidecar may have decided and recorded it"
    return RemoteError(0, code, message, {})


def _base_url(url: Any) -> str:
    """The sidecar's URL, refused unless it is http(s)://host...: a URL without its scheme
    ('127.0.0.1:8000') failed at the first request, as a connection lost. Not shown: it
    may hold a password."""
    if not isinstance(url, str):
        got = type(url).__name__
    else:
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme.lower(), parts.hostname
        except ValueError:  # an invalid port or IPv6 address
            scheme, host = "", None
        if scheme in ("http", "https") and host:
            return url
        got = "a URL without a host" if scheme in ("http", "https") else "another URL"
    raise InvalidAction(
        f"base_url must be the sidecar's http:// or https:// URL (as http://127.0.0.1:8000), "
        f"got {got}"
    )


def _segment(decision_id: str) -> str:
    """An id as one path segment: '../', '?' or '#' in it cannot reach another endpoint
    (nor can '': GET /v1/decisions/ is the list of every decision)."""
    if not isinstance(decision_id, str) or not decision_id:
        raise InvalidAction(f"decision_id must be a non-empty string, got {decision_id!r}")
    segment = quote(decision_id, safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def _tree_size(value: Any, what: str) -> None:
    """Refuse a tree size the sidecar does not read as one, before asking it: a string or
    float would come back as a proof of another value's size, refused as its bad answer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAction(f"tree sizes are whole numbers >= 0; {what} is {value!r:.80}")


def _one_of(value: Any, what: str, allowed: Collection[str]) -> None:
    """Refuse a `value` the sidecar does not read, before asking it; the same words as its 422."""
    if not isinstance(value, str) or value not in allowed:
        names = [repr(a) for a in allowed]
        raise InvalidAction(f"{what} must be {', '.join(names[:-1])} or {names[-1]}, got {value!r}")


def _pack_name(policy: Any) -> str | None:
    """`policy=`, refused here unless it is a pack's name (the sidecar's 422 names no cause)."""
    if policy is not None and not isinstance(policy, str):
        raise PolicyError(f"policy= names a pack the sidecar loads, got {type(policy).__name__}")
    return policy


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _timeout_too_long(exc: RemoteError) -> bool:
    """A 422 saying the long-poll's `timeout` exceeds the server's maximum."""
    if exc.status != 422:
        return False
    errors = exc.details.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, dict)
        and e.get("loc") == ["query", "timeout"]
        and e.get("type") == "less_than_equal"
        for e in errors
    )


def _why_invalid(errors: Any) -> str:
    """What a 422's first errors say is wrong: ' (Input should be ...)', each after its
    place when there are several; nothing when it lists none."""
    if not isinstance(errors, list):
        return ""
    shown = [e for e in errors[:3] if isinstance(e, dict) and isinstance(e.get("msg"), str)]
    if len(shown) == 1:
        return f" ({shown[0]['msg']:.200})"
    whys = []
    for error in shown:
        loc = error.get("loc")
        where = ".".join(map(str, loc)) if isinstance(loc, list) else "request"
        whys.append(f"{where}: {error['msg']:.200}")
    return f" ({'; '.join(whys)})" if whys else ""


def _no_route_hint(base_url: Any) -> str:
    """Why a path of the API is not found: a base URL given with the API's own prefix
    (`guard serve` prints 'guard sidecar API: http://127.0.0.1:8000/v1'), which the client
    adds again."""
    try:
        parts = urlsplit(str(base_url))
    except ValueError:
        return ""
    if not parts.path.rstrip("/").endswith("/v1"):
        return ""
    host = parts.netloc.rpartition("@")[2]  # a user and password in it are not shown
    root = f"{parts.scheme}://{host}{parts.path.rstrip('/')[:-3]}"
    return (
        f"; the client adds /v1/... to the base URL, which ends in /v1 already: give the "
        f"sidecar's root, {root!r}, without /v1"
    )


def _error(response: Any, base_url: Any = None) -> GuardError:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        text = response.text
        code = "http_error"
        message = f"{response.reason_phrase or 'error'}, body not an error object: {text[:200]!r}"
        details = {}
    if not isinstance(details, dict):
        details = {"details": details}
    if code == "validation_error":  # the message names where; say what is wrong there
        message += _why_invalid(details.get("errors"))
    if response.status_code == 404 and code == "not_found":  # no route, not an unknown id
        message += _no_route_hint(base_url)
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        details = {**details, "retry_after": details.get("retry_after", retry_after)}
        if "retry after" not in message:  # the sidecar's own 429 messages say it already
            message += f" (retry after {retry_after} s)"
    if code == "policy_not_found":
        return PolicyNotFound(message)
    if code == "policy_required":
        return _PolicyRequired(response.status_code, code, message, details)
    if code == "action_too_large":
        return ActionTooLarge(message)
    if code == "invalid_action":
        return InvalidAction(message)
    return RemoteError(response.status_code, code, message, details)
