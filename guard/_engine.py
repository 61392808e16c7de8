"""The Guard: check actions and rankings against compiled packs, enforce, and record."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, cast, overload

import orjson
from pydantic import BaseModel

from guard._evaluate import DecisionRates, Scrubber, run_rules, verdict_of
from guard._exceptions import (
    AuditError,
    DependencyMissing,
    GuardError,
    InvalidAction,
    PolicyError,
)
from guard._models import (
    RANK,
    Decision,
    DecisionEventV1,
    ItemOutcome,
    Mode,
    PiiFinding,
    PiiReport,
    RuleHit,
    ShadowResult,
    Verdict,
    fast_model,
)
from guard._paths import format_path, parse_path, set_in, walk
from guard._validate import check_action, check_data, check_ids, digest
from guard.policy._expr import PiiView
from guard.policy._loader import CompiledPack, load
from guard.policy._rate import MemoryRateStore, RateStore
from guard.policy._template import MISSING, Masker, fill_parts, lookup

if TYPE_CHECKING:
    from guard.audit import AuditLog
    from guard.detect import PiiScan, PiiScanner

log = logging.getLogger("guard")
P = ParamSpec("P")
REDACTED = "[REDACTED]"
MIN_PII_DIGITS = 7  # a number computed from a PII field with this many digits is masked
DEFER_IDLE_GAP = 0.002  # seconds without a decision before deferred explanations run
DEFER_MAX_WAIT = 0.5  # ...but none waits longer than this after it was deferred
_DONE = (Verdict.ALLOW, Verdict.REDACT)
_CONTEXT_NAMES = ("score", "attribution", "rationale")  # context keys also in scope by name


_PROCESS = os.urandom(5).hex()
_COUNTER = itertools.count()
_ID_LOCK = threading.Lock()
_last_ns = 0  # the time of the latest id: the next one is later, even if the clock went back
_forks = 0  # how many forks made this process (0 in the process that imported the guard)


def new_id() -> str:
    """A unique id, later than every id made before it in this process: nanosecond time
    (never going back when the wall clock is set back), a per-process random tag (drawn
    again in a forked child) and a counter."""
    global _last_ns
    with _ID_LOCK:
        now = time.time_ns()
        _last_ns = now if now > _last_ns else _last_ns + 1
        return f"{_last_ns:016x}{_PROCESS}{next(_COUNTER) & 0xFFFFFF:06x}"


def _after_fork() -> None:
    """A forked child gets its own tag (the parent's ids would collide with its own) and
    a fresh lock (another thread of the parent may have held it at the fork)."""
    global _PROCESS, _ID_LOCK, _forks
    _PROCESS, _ID_LOCK = os.urandom(5).hex(), threading.Lock()
    _forks += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork)


class _Scan:
    """One scope's PII outcome: findings for rules, a masker for evidence and records."""

    __slots__ = ("scan", "view", "report", "error")

    def __init__(
        self, scan: PiiScan | None, view: PiiView | None, report: PiiReport | None, error: str
    ) -> None:
        self.scan, self.view, self.report, self.error = scan, view, report, error

    @property
    def findings(self) -> list[PiiFinding]:
        return list(self.scan.findings) if self.scan is not None else []


class Guard:
    """Checks proposed actions and rankings against policy packs and records every decision.

    `audit` is an `AuditLog`, or an audit URL (memory://, sqlite:///path, postgresql://...)
    opened here as `from_policy` opens it; `close()` closes it. `rate_store` counts for
    `rate()` and `total()`: a `RateStore`, or a Redis URL (redis://host:6379/0) to share
    the counts between processes; this process's memory by default.
    """

    def __init__(
        self,
        packs: Sequence[CompiledPack],
        *,
        audit: str | AuditLog | None = None,
        shadow: Sequence[CompiledPack] | None = (),
        mode: Mode = "enforce",
        rate_store: str | RateStore | None = None,
        pii_detector: Any = None,
        hash_key: bytes | None = None,
    ) -> None:
        packs = _compiled(packs, "packs")
        shadow = _compiled(() if shadow is None else shadow, "shadow")
        if not packs:
            raise PolicyError("a Guard needs at least one policy pack")
        if mode not in ("enforce", "shadow"):
            raise PolicyError(f"unknown mode {mode!r}; expected one of enforce, shadow")
        self.packs: dict[str, CompiledPack] = {p.name: p for p in packs}
        self.audit: AuditLog | None = None
        self.mode: Mode = mode
        self.rates: RateStore = _rate_store(rate_store)
        self._shadow = _pair_shadow(self.packs, shadow)
        self._detector = pii_detector
        self._hash_key = hash_key
        # keyed by pack digest: a shadow pack shares its live pack's name, not its settings
        self._scanners: dict[str, PiiScanner | None] = {}
        self._scanner_errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._explainer_pool: ThreadPoolExecutor | None = None
        self._deferred: set[Future[None]] = set()
        self._last_decision = 0  # perf_counter_ns of the latest decision
        self._bases: dict[str, dict[str, Any]] = {}  # pack digest -> shared decision fields
        self._closed = False
        self._pid, self._forks = os.getpid(), _forks
        for pack in [*packs, *shadow]:
            self._build_scanner(pack)
        self.audit = _open_audit(audit)  # last: nothing after it can fail and leave it open

    @classmethod
    def from_policy(
        cls,
        policy: str | os.PathLike[str],
        *,
        audit: str | AuditLog | None = None,
        shadow: str | os.PathLike[str] | None = None,
        mode: Mode = "enforce",
        **options: Any,
    ) -> Guard:
        """Load a pack file, a folder of packs or a shipped pack's name, and open the audit log."""
        packs = load(policy)
        shadow_packs = load(shadow) if shadow is not None else []
        return cls(packs, audit=audit, shadow=shadow_packs, mode=mode, **options)

    # -- public API -------------------------------------------------------------------------

    def pack(self, name: str | None = None) -> CompiledPack:
        """The pack `name` names, or the only one loaded."""
        if name is not None and not isinstance(name, str):
            raise PolicyError(
                f"policy= names a loaded pack ({', '.join(sorted(self.packs))}), "
                f"got {type(name).__name__}"
            )
        if name is None:
            if len(self.packs) == 1:
                for only in self.packs.values():
                    return only
            raise PolicyError(
                f"several packs are loaded ({', '.join(sorted(self.packs))}); name one with policy="
            )
        try:
            return self.packs[name]
        except KeyError:
            raise PolicyError(
                f"no loaded pack named {name!r}; loaded: {', '.join(sorted(self.packs))}"
            ) from None

    def check(
        self,
        action: Mapping[str, Any] | Any,
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> Decision:
        """Decide one action; the decision is returned only after its audit record is committed."""
        self._usable()
        entry = self._decide(self.pack(policy), action, context)
        self._record([entry])
        return entry[0]

    def check_batch(
        self,
        actions: Sequence[Mapping[str, Any] | Any],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[Decision]:
        """Decide many actions with one batched PII scan and one audit transaction."""
        self._usable()
        pack = self.pack(policy)
        _check_list(actions)
        checked = []
        for index, action in enumerate(actions):
            try:
                checked.append(check_action(action))
            except InvalidAction as exc:  # which one, in a batch of many
                raise type(exc)(f"action #{index}: {exc}") from None
        ctx = check_data(context, "context") if context is not None else {}  # once, not per action
        scans = self._scan_many(pack, [c[0] for c in checked])
        entries = [
            self._decide(pack, a, ctx, checked=c, scan=s, context_checked=True)
            for a, c, s in zip(actions, checked, scans, strict=True)
        ]
        self._record(entries)
        return [e[0] for e in entries]

    def decides_inline(self, policy: str | None = None) -> bool:
        """True when deciding with `policy` is pure CPU work of microseconds: no PII scan
        (live or shadow) and no remote rate counters, so an event loop may do it itself."""
        pack = self.pack(policy)
        shadow = self._shadow.get(pack.name)
        return (
            pack.pii is None
            and (shadow is None or shadow.pii is None)
            and isinstance(self.rates, MemoryRateStore)
        )

    async def acheck_batch(
        self,
        actions: Sequence[Mapping[str, Any] | Any],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        checked: Sequence[tuple[dict[str, Any], str, bytes] | None] | None = None,
    ) -> list[Decision | GuardError]:
        """`check_batch` for an event loop: decides here, then awaits the audit commit
        without holding a thread. An action that is invalid gets its error in its place.
        `checked` holds `check_action`'s result for actions the caller has validated.

        Meant for packs where `decides_inline()` holds; a PII scan would block the loop.
        """
        self._usable()
        pack = self.pack(policy)
        _check_list(actions)
        entries: list[tuple[Decision, dict[str, Any], _Scan]] = []
        out: list[Decision | GuardError] = []
        try:  # once, not per action; a bad context is every action's error
            ctx = check_data(context, "context") if context is not None else {}
        except GuardError as exc:
            return [exc] * len(actions)
        for i, action in enumerate(actions):
            try:
                done = checked[i] if checked is not None else None
                entry = self._decide(pack, action, ctx, checked=done, context_checked=True)
            except GuardError as exc:
                out.append(exc)
                continue
            entries.append(entry)
            out.append(entry[0])
        await self._arecord(entries)
        return out

    def evaluate(
        self,
        action: Mapping[str, Any] | Any,
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> Decision:
        """Decide one action without writing an audit record (for shields and dry runs).

        A dry run: `rate()` counts as if this action happened, but records nothing.
        """
        return self._trial(action, context, policy)[0]

    def _trial(
        self, action: Any, context: Mapping[str, Any] | None, policy: str | None
    ) -> tuple[Decision, DecisionRates]:
        """A dry-run decision and its rate counts, to `commit()` if the action goes ahead."""
        self._usable()
        pack = self.pack(policy)
        rates = DecisionRates(self.rates, dry=True)
        decision = self._decide(pack, action, context, rates=rates)[0]
        if pack.uses_rate:
            rates.redo = lambda again: self._decide(pack, action, context, rates=again)[0]
        return decision, rates

    def allowed(
        self,
        actions: Iterable[Mapping[str, Any]],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
    ) -> list[Mapping[str, Any]]:
        """The candidate actions the policy would let run now (a planner's pre-shield), in
        order: an allowed action as given, a redacted one as it would run (the decision's
        `final_action`, its redacted fields replaced); denied and escalated ones are left
        out. `actions` is a list (tuple, generator) of actions, not one action. Nothing is
        recorded."""
        self._usable()
        self.pack(policy)  # refused even with no action to decide
        if context is not None:  # its error is no action's
            check_data(context, "context")
        out: list[Mapping[str, Any]] = []
        for index, action in enumerate(_action_list(actions, "allowed")):
            try:
                decision = self.evaluate(action, context, policy=policy)
            except InvalidAction as exc:  # which one, of many
                raise type(exc)(f"action #{index}: {exc}") from None
            if decision.verdict is Verdict.ALLOW:
                out.append(action)
            elif decision.verdict is Verdict.REDACT:
                out.append(cast(dict[str, Any], decision.final_action))
        return out

    def record(
        self,
        decision: Decision,
        action: Mapping[str, Any] | None = None,
        *,
        rates: DecisionRates | None = None,
    ) -> Decision:
        """Write an already-made decision to the audit log (used after substitution);
        `rates` are the dry-run counts of `action`, recorded now that it goes ahead."""
        self._record([self._made(decision, action, rates)])
        return decision

    async def arecord(
        self,
        decision: Decision,
        action: Mapping[str, Any] | None = None,
        *,
        rates: DecisionRates | None = None,
    ) -> Decision:
        """`record` for an event loop: awaits the audit commit instead of blocking it."""
        await self._arecord([self._made(decision, action, rates)])
        return decision

    def _made(
        self, decision: Decision, action: Mapping[str, Any] | None, rates: DecisionRates | None
    ) -> tuple[Decision, dict[str, Any] | None, _Scan]:
        """What `record` writes for a decision made earlier: its action, checked and scanned."""
        self._usable()
        if not isinstance(decision, Decision):
            raise InvalidAction(
                f"record() takes a Decision (as evaluate() returns it), got "
                f"{type(decision).__name__}"
            )
        pack = self.pack(decision.policy)  # a decision of a pack not loaded here is refused
        data = None
        if action is not None:
            data, action_digest, _ = check_action(action)
            if action_digest != decision.action_digest:  # the record would pair the two
                raise InvalidAction(
                    f"the action given is not the action this decision was made for: its "
                    f"digest is {action_digest}, the decision's {decision.action_digest}"
                )
        if rates is not None and rates.commit() and rates.redo is not None:
            _stricter(decision, rates.redo(rates))
        scan = self._scan(pack, data) if data is not None else _NO_SCAN
        return decision, data, scan

    def rank(
        self,
        items: Sequence[Mapping[str, Any] | Any],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        actor: str | None = None,
        tenant: str | None = None,
        query: str | None = None,
    ) -> Decision:
        """Filter a ranking: item rules drop or redact items, list caps drop the excess."""
        entry = self._rank(items, context, policy, actor, tenant, query)
        self._record([entry])
        return entry[0]

    async def arank(
        self,
        items: Sequence[Mapping[str, Any] | Any],
        context: Mapping[str, Any] | None = None,
        *,
        policy: str | None = None,
        actor: str | None = None,
        tenant: str | None = None,
        query: str | None = None,
    ) -> Decision:
        """`rank` for an event loop: ranks here, then awaits the audit commit."""
        entry = self._rank(items, context, policy, actor, tenant, query)
        await self._arecord([entry])
        return entry[0]

    def _rank(
        self,
        items: Sequence[Mapping[str, Any] | Any],
        context: Mapping[str, Any] | None,
        policy: str | None,
        actor: str | None,
        tenant: str | None,
        query: str | None,
    ) -> tuple[Decision, dict[str, Any], _Scan]:
        self._usable()
        started = time.perf_counter_ns()
        pack = self.pack(policy)
        ctx = check_data(context, "context") if context is not None else {}
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
            raise InvalidAction(f"items must be a list of mappings, got {type(items).__name__}")
        rows = [check_data(it, f"item {i}") for i, it in enumerate(items)]
        ids = _unique_ids(rows)
        for what, value in (("actor", actor), ("tenant", tenant), ("query", query)):
            if value is not None and not isinstance(value, str):
                raise InvalidAction(f"{what} must be a string, got {type(value).__name__}")
        check_ids("rank", actor, tenant)
        action = {
            "kind": "rank",
            "actor": actor,
            "tenant": tenant,
            "params": {"query": query, "item_ids": ids},
        }
        outcomes, final, hits, findings = self._rank_items(pack, rows, ids, ctx, actor, tenant)
        verdict = _ranking_verdict(outcomes)
        shadow = None
        cand = self._shadow.get(pack.name)
        if cand is not None:  # the candidate ranks the same items; it changes nothing
            c_outcomes, _, c_hits, _ = self._rank_items(
                cand, rows, ids, ctx, actor, tenant, dry=True
            )
            c_verdict = _ranking_verdict(c_outcomes)
            shadow = ShadowResult(
                policy=cand.name,
                version=cand.version,
                digest=cand.digest,
                verdict=c_verdict,
                hits=c_hits,
                agrees=[o.verdict for o in c_outcomes] == [o.verdict for o in outcomes],
            )
        decision = fast_model(
            Decision,
            {
                **self._decision_base(pack),
                "id": new_id(),
                "time": datetime.now(UTC),
                "tenant": tenant,
                "actor": actor,
                "kind": "rank",
                "verdict": verdict,
                "hits": hits,
                "pii": findings,
                "final_action": {  # what runs: the ranking of the items kept
                    **action,
                    "params": {
                        "query": query,
                        "item_ids": [o.id for o in outcomes if o.verdict in _DONE],
                    },
                },
                "action_digest": digest({"items": rows, "query": query}, "ranking"),
                "items": outcomes,
                "final_items": final,
                "shadow": shadow,
                "explanations": [],
                "timings_us": {"total": (time.perf_counter_ns() - started) / 1000},
            },
        )
        return decision, action, _NO_SCAN

    @overload
    def agent(self, fn: Callable[P, Any], /) -> Callable[P, Any]: ...
    @overload
    def agent(
        self, fn: None = None, /, **options: Any
    ) -> Callable[[Callable[P, Any]], Callable[P, Any]]: ...

    def agent(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorate a policy function: its proposed action is checked and enforced.

        Options: `actions=[...]` (for score vectors), `policy=` (pack name), `context=`
        (a dict, or a callable given the call's arguments).
        """
        from guard.enforce import agent

        return agent(self, fn, **options)

    @overload
    def ranker(self, fn: Callable[P, Any], /) -> Callable[P, Any]: ...
    @overload
    def ranker(
        self, fn: None = None, /, **options: Any
    ) -> Callable[[Callable[P, Any]], Callable[P, Any]]: ...

    def ranker(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorate a ranking function: its items are filtered by item and list rules."""
        from guard.enforce import ranker

        return ranker(self, fn, **options)

    def defer_explanation(self, decision: Decision, compute: Callable[[], Any]) -> None:
        """Compute an explanation in the background and append it as a linked audit record."""
        if not isinstance(decision, Decision) or not callable(compute):
            raise InvalidAction(
                "defer_explanation() takes a Decision and a callable computing its "
                f"explanation, got {type(decision).__name__} and {type(compute).__name__}"
            )
        with self._lock:
            self._usable()  # under the lock: close() waits only for what was submitted before it
            if self._explainer_pool is None:
                self._explainer_pool = ThreadPoolExecutor(
                    1,
                    thread_name_prefix="guard-explain",
                    initializer=_same_torch_threads(),
                )
            due = time.perf_counter_ns() + int(DEFER_MAX_WAIT * 1e9)
            future = self._explainer_pool.submit(self._explain_later, decision, compute, due)
            self._deferred.add(future)
        future.add_done_callback(self._forget)

    def _wait_for_idle(self, due: int) -> None:
        """Deferred work runs at idle priority: it waits for a pause in decisions, until `due`.

        Explanations share the interpreter lock with the decisions; starting one while
        checks are streaming in would slow them down, which deferral exists to avoid.
        `due` is counted from the deferral, not from this wait: under sustained load a
        backlog is worked off at once, not at one explanation per DEFER_MAX_WAIT.
        """
        gap = DEFER_IDLE_GAP * 1e9
        while (now := time.perf_counter_ns()) < due:
            if now - self._last_decision >= gap:
                return
            time.sleep(DEFER_IDLE_GAP)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._deferred.discard(future)

    def flush(self) -> None:
        """Wait until every deferred explanation has been computed and recorded."""
        with self._lock:
            pending = list(self._deferred)
        for future in pending:
            future.result()

    def _explain_later(self, decision: Decision, compute: Callable[[], Any], due: int) -> None:
        try:
            self._record_explanation(decision, compute, due)
        except BaseException:  # a background failure (SystemExit too) is logged, never lost
            log.exception("deferred explanation for decision %s was not recorded", decision.id)

    def _record_explanation(self, decision: Decision, compute: Callable[[], Any], due: int) -> None:
        self._wait_for_idle(due)
        result = compute()
        data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
        if self.audit is None:
            decision.explanations.append(data)
            return
        pack = self.packs.get(decision.policy)
        scanner = self._scanners.get(pack.digest) if pack is not None else None
        if scanner is not None:  # as in the decision's own record: no raw PII in the log
            data = _scrub_unlisted(data, _TextScrub(scanner, {}), (), "explanation")
        self.audit.append(
            {
                "schema_version": "guard.explanation/v1",
                "id": new_id(),
                "time": datetime.now(UTC).isoformat(),
                "decision_id": decision.id,
                "tenant": decision.tenant,
                "actor": decision.actor,
                "policy": decision.policy,
                "explanation": data,
            }
        )

    def close(self) -> None:
        """Finish deferred explanations, then close the audit log (flushing pending records).

        From then on the Guard refuses to decide. A check already under way either has its
        record committed or gets an `AuditError`: no decision is returned unrecorded. In a
        forked child it only marks the Guard closed: what it would release is the parent's.
        """
        if self._forks != _forks:  # the audit log and the worker thread are the parent's
            self._closed = True
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.flush()
            if self._explainer_pool is not None:
                self._explainer_pool.shutdown(wait=True)
        finally:  # pending records are committed even if deferred work failed
            if self.audit is not None:
                self.audit.close()

    def __reduce__(self) -> Any:
        """Refuse pickling and copying: a Guard holds an audit log's connections and writer
        thread, locks and rate counters that cannot be sent to another process or duplicated."""
        raise TypeError(
            "a Guard cannot be pickled or copied: it holds its audit log's connections and "
            "writer thread, its locks and its rate counters. Send the policy path and audit URL "
            "instead and make a Guard in each process with Guard.from_policy(...)"
        )

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _usable(self) -> None:
        """Refuse a closed Guard, and one with an audit log used in a forked child."""
        if self._closed:
            raise GuardError(
                "this Guard is closed: it decides and records nothing more; make a new one "
                "(Guard.from_policy) to go on deciding"
            )
        if self._forks != _forks and self.audit is not None:
            raise GuardError(
                f"this Guard was made in process {self._pid} and is used in process "
                f"{os.getpid()}, a fork of it: its audit log's writer thread and database "
                "connections do not survive a fork. Make the Guard in each worker process "
                "(gunicorn: without --preload, or in a post_fork hook; multiprocessing: in "
                "the worker, or with the 'spawn' start method)"
            )

    # -- deciding ---------------------------------------------------------------------------

    def _decide(
        self,
        pack: CompiledPack,
        action: Any,
        context: Mapping[str, Any] | None,
        *,
        checked: tuple[dict[str, Any], str, bytes] | None = None,
        scan: _Scan | None = None,
        rates: DecisionRates | None = None,
        context_checked: bool = False,
    ) -> tuple[Decision, dict[str, Any], _Scan]:
        clock = time.perf_counter_ns
        t0 = self._last_decision = clock()
        data, action_digest, raw = checked or check_action(action)
        if context_checked:  # the batch checked it once
            ctx = cast(dict[str, Any], context)
        else:
            ctx = check_data(context, "context") if context is not None else {}
        t1 = clock()
        if pack.pii is None:
            scan = _NO_SCAN
        elif scan is None:
            scan = self._scan(pack, data)
        t2 = clock()
        kind = data["kind"]
        rules = pack.by_kind.get(kind, pack.any_kind)
        if rates is None and (pack.uses_rate or self._shadow):
            rates = DecisionRates(self.rates)  # live and shadow rules count an event once
        if rules:
            env = self._env(pack, data, ctx, scan, rates)
            if pack.pii is None:
                hits = run_rules(rules, env)
            else:
                hits = run_rules(
                    rules,
                    env,
                    mask=self._masker(pack, data, scan),
                    scrub=self._scrubber(pack, data),
                )
            verdict = verdict_of(hits, pack.defaults_verdict) if hits else pack.defaults_verdict
        else:
            hits, verdict = [], pack.defaults_verdict
        shadow = self._run_shadow(pack, data, ctx, scan, verdict, rates) if self._shadow else None
        t3 = clock()
        final = (
            orjson.loads(raw)
            if verdict is Verdict.ALLOW
            else self._final_action(pack, data, verdict, hits, scan)
        )
        t4 = clock()
        values = self._decision_base(pack).copy()
        values["id"] = new_id()
        values["time"] = datetime.now(UTC)
        values["tenant"] = data.get("tenant")
        values["actor"] = data.get("actor")
        values["kind"] = kind
        values["verdict"] = verdict
        values["hits"] = hits
        values["pii"] = scan.findings
        values["pii_report"] = scan.report
        values["final_action"] = final
        values["action_digest"] = action_digest
        values["shadow"] = shadow
        values["explanations"] = []
        values["timings_us"] = {
            "validate": (t1 - t0) / 1000,
            "pii": (t2 - t1) / 1000,
            "rules": (t3 - t2) / 1000,
            "enforce": (t4 - t3) / 1000,
        }
        return fast_model(Decision, values), data, scan

    def _decision_base(self, pack: CompiledPack) -> dict[str, Any]:
        """A decision's fields that one pack's decisions share, with the rest set empty."""
        base = self._bases.get(pack.digest)
        if base is None:
            base = self._bases[pack.digest] = {
                **dict.fromkeys(Decision.model_fields),
                "policy": pack.name,
                "policy_version": pack.version,
                "policy_digest": pack.digest,
                "mode": self.mode,
                "audited": False,
            }
        return base

    def _env(
        self,
        pack: CompiledPack,
        data: dict[str, Any],
        ctx: dict[str, Any],
        scan: _Scan,
        rates: DecisionRates | None,
    ) -> dict[str, Any]:
        params = data.get("params")
        env = {
            "action": data,
            "kind": data["kind"],
            "actor": data.get("actor"),
            "tenant": data.get("tenant"),
            "params": {} if params is None else params,
            "context": ctx,
            "pii": scan.view,
        }
        if pack.uses_rate:
            env["__rate__"] = rates if rates is not None else DecisionRates(self.rates)
        if ctx:
            for name in _CONTEXT_NAMES:
                if name in ctx:
                    env[name] = ctx[name]
        return env

    def _run_shadow(
        self,
        pack: CompiledPack,
        data: dict[str, Any],
        ctx: dict[str, Any],
        scan: _Scan,
        live: Verdict,
        rates: DecisionRates | None,
    ) -> ShadowResult | None:
        cand = self._shadow.get(pack.name)
        if cand is None:
            return None
        cscan = scan if cand.pii == pack.pii else self._scan(cand, data)
        mask, scrub = self._masker(cand, data, cscan), self._scrubber(cand, data)
        if pack.pii is not None and cand.pii != pack.pii:  # the live pack's PII fields too
            mask = _mask_both(mask, self._masker(pack, data, scan))
            scrub = _scrub_both(scrub, self._scrubber(pack, data))
        hits = run_rules(
            cand.action_rules(data["kind"]),
            self._env(cand, data, ctx, cscan, rates),
            mask=mask,
            scrub=scrub,
        )
        verdict = verdict_of(hits, cand.defaults_verdict)
        return ShadowResult(
            policy=cand.name,
            version=cand.version,
            digest=cand.digest,
            verdict=verdict,
            hits=hits,
            agrees=verdict is live,
        )

    def _final_action(
        self,
        pack: CompiledPack,
        data: dict[str, Any],
        verdict: Verdict,
        hits: list[RuleHit],
        scan: _Scan,
    ) -> dict[str, Any] | None:
        if verdict is Verdict.DENY:
            return None
        # A redaction stands under an escalation too: what a reviewer approves runs redacted.
        if verdict is not Verdict.REDACT and not any(h.effect is Verdict.REDACT for h in hits):
            return dict(_copy(data))
        scanner = self._scanners.get(pack.digest)
        if scanner is not None and scan.scan is not None:
            final = scanner.redact(data, scan.scan)
        elif pack.pii is not None:  # no scan ran: fail safe by removing every PII field
            final = _erase(data, pack.pii.fields)
        else:
            final = _copy(data)
        paths = {p for h in hits if h.effect is Verdict.REDACT for p in _rule(pack, h).redact}
        return _erase(final, sorted(paths)) if paths else final

    def _rank_items(
        self,
        pack: CompiledPack,
        rows: list[dict[str, Any]],
        ids: list[Any],
        ctx: dict[str, Any],
        actor: str | None,
        tenant: str | None,
        *,
        dry: bool = False,
    ) -> tuple[list[ItemOutcome], list[dict[str, Any]], list[RuleHit], list[PiiFinding]]:
        outcomes: list[ItemOutcome] = []
        final: list[dict[str, Any]] = []
        all_hits: list[RuleHit] = []
        findings: list[PiiFinding] = []
        counts: dict[tuple[str, str], int] = {}
        for rank, (row, item_id) in enumerate(zip(rows, ids, strict=True)):
            scope = {"item": row}
            scan = self._scan(pack, scope) if pack.item_rules else _NO_SCAN
            findings.extend(scan.findings)
            env = {
                "item": row,
                "items": rows,
                "score": row.get("score"),
                "context": ctx,
                "actor": actor,
                "tenant": tenant,
                "pii": scan.view,
                "__rate__": DecisionRates(self.rates, dry=dry),
            }
            mask = self._masker(pack, scope, scan)
            hits = run_rules(
                pack.item_rules,
                env,
                item_id=item_id,
                mask=mask,
                scrub=self._scrubber(pack, scope),
            )
            verdict = verdict_of(hits, Verdict.ALLOW)
            if verdict in _DONE:
                cap_hit = _cap(pack, row, counts, item_id, env, mask)
                if cap_hit is not None:
                    hits.append(cap_hit)
                    verdict = cap_hit.effect
            all_hits.extend(hits)
            reason = "; ".join(h.message or h.rule_id for h in hits)
            outcomes.append(
                ItemOutcome(
                    id=item_id,
                    rank=rank,
                    verdict=verdict,
                    rule_ids=[h.rule_id for h in hits],
                    reason=reason,
                )
            )
            if verdict is Verdict.ALLOW:
                final.append(_copy(row))
            elif verdict is Verdict.REDACT:
                final.append(self._final_action(pack, scope, verdict, hits, scan)["item"])  # type: ignore[index]
        return outcomes, final, all_hits, findings

    # -- PII --------------------------------------------------------------------------------

    def _build_scanner(self, pack: CompiledPack) -> None:
        if pack.pii is None or pack.digest in self._scanners:
            return
        try:
            from guard.detect import PiiScanner

            self._scanners[pack.digest] = PiiScanner(
                pack.pii, detector=self._detector, hash_key=self._hash_key
            )
        except (ImportError, DependencyMissing) as exc:
            self._scanners[pack.digest] = None
            self._scanner_errors[pack.digest] = f"PII detection not available: {exc}"
            log.warning("pack %s: PII detection not available: %s", pack.name, exc)

    def _scan(self, pack: CompiledPack, data: Mapping[str, Any]) -> _Scan:
        if pack.pii is None:
            return _NO_SCAN
        scanner = self._scanners.get(pack.digest)
        if scanner is None:
            return _Scan(None, None, None, self._scanner_errors.get(pack.digest, ""))
        return _wrap(scanner.scan(data))

    def _scan_many(self, pack: CompiledPack, rows: list[dict[str, Any]]) -> list[_Scan]:
        scanner = self._scanners.get(pack.digest)
        if pack.pii is None or scanner is None:
            return [self._scan(pack, r) for r in rows]
        return [_wrap(s) for s in scanner.scan_batch(rows)]

    def _masker(self, pack: CompiledPack, data: Mapping[str, Any], scan: _Scan) -> Masker | None:
        """Evidence and messages from PII fields come back masked; computed only when asked."""
        if pack.pii is None:
            return None
        # `params.attachments[*].text` and `params.args$.body` are read as `params.args...`
        from guard.detect._scrub import MIN_BARE, field_values  # no third-party imports

        fields = pack.pii.fields
        roots = tuple(f.split("[", 1)[0].split("$", 1)[0] for f in fields)
        scanner = self._scanners.get(pack.digest)
        cache: list[dict[str, Any]] = []
        texts: list[list[str]] = []

        def masked(key: str, value: Any) -> Any:
            if scanner is not None and scan.scan is not None:
                if not cache:
                    cache.append(scanner.mask_for_audit(data, scan.scan)[0])
                if key == "action":
                    return cache[0]
                safe = lookup(cache[0], key.removeprefix("action."))
                if safe is not MISSING:
                    return safe
            if isinstance(value, int | float) and _few_digits(value):
                return value  # `len(params.message)`: a count, not a phone or card number
            return "<masked>"

        def quotes_pii(value: Any) -> bool:
            """True when a text in `value` holds (or is a long piece of) a PII field's text:
            `params`, `action` or `get(params, "message")` read what the fields hold.
            Texts shorter than MIN_BARE hold no e-mail, phone or card: they are not read."""
            strings, stack = [], [value]
            while stack:
                item = stack.pop()
                if isinstance(item, str):
                    if len(item) >= MIN_BARE:
                        strings.append(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
                    stack.extend(item)
                elif isinstance(item, list):
                    stack.extend(item)
            if not strings:
                return False
            if not texts:  # the fields' texts, read once per decision
                texts.append([t for t in field_values(data, fields) if len(t) >= MIN_BARE])
            return any(t in item or item in t for item in strings for t in texts[0])

        def mask(key: str, value: Any) -> Any:
            if isinstance(value, bool):
                return value
            if not any(r in key for r in roots):
                if isinstance(value, str | list | dict) and quotes_pii(value):
                    return masked(key, value)
                return value
            if not isinstance(value, str | list | dict | int | float):
                return value
            return masked(key, value)

        return mask

    def _scrubber(self, pack: CompiledPack, data: Mapping[str, Any]) -> Scrubber | None:
        """Error texts quote the values they failed on: mask those of PII fields in them."""
        if pack.pii is None:
            return None
        scanner = self._scanners.get(pack.digest)
        if scanner is not None:
            return lambda text: scanner.scrub(text, data)
        from guard.detect._scrub import field_values, mask_values  # no third-party imports

        fields = pack.pii.fields
        return lambda text: mask_values(text, field_values(data, fields))

    # -- audit ------------------------------------------------------------------------------

    def _record(self, entries: Sequence[tuple[Decision, dict[str, Any] | None, _Scan]]) -> None:
        if self.audit is None:
            return
        t0 = time.perf_counter_ns()
        records = [self._event(d, data, scan) for d, data, scan in entries]
        if len(records) == 1:
            self.audit.append(records[0])
        else:
            self.audit.append_many(records)
        self._mark_audited(entries, t0)

    async def _arecord(
        self, entries: Sequence[tuple[Decision, dict[str, Any] | None, _Scan]]
    ) -> None:
        if not entries or self.audit is None:
            return
        t0 = time.perf_counter_ns()
        records = [self._event(d, data, scan) for d, data, scan in entries]
        await self.audit.append_many_async(records)
        self._mark_audited(entries, t0)

    @staticmethod
    def _mark_audited(entries: Sequence[tuple[Decision, Any, _Scan]], t0: int) -> None:
        spent = (time.perf_counter_ns() - t0) / 1000 / max(len(entries), 1)
        for d, _, _ in entries:
            d.audited = True
            d.timings_us["audit"] = spent

    def _event(
        self, decision: Decision, data: dict[str, Any] | None, scan: _Scan
    ) -> dict[str, Any]:
        pack = self.packs[decision.policy]
        stored, final = data, decision.final_action
        masked_paths: list[str] = []
        erased: list[str] = []
        scrub: _TextScrub | None = None
        if pack.pii is not None and data is not None:
            stored, masked_paths, erased = self._mask(pack, data, scan)
            if final is not None:
                final = self._mask(pack, final, None)[0]
            scanner = self._scanners.get(pack.digest)
            if scanner is not None:  # PII outside the listed fields: patterns, masked too
                report = scan.report
                done = (*masked_paths, *erased)
                if report is not None:
                    done += (*report.fields_scanned, *report.field_errors)
                scrub = _TextScrub(scanner, data)
                stored = _scrub_unlisted(stored, scrub, done)
                if final is not None:
                    final = _scrub_unlisted(final, scrub, done)
        # Every field the record shares with the decision is copied as is.
        shared = {name: getattr(decision, name) for name in _EVENT_FROM_DECISION}
        if stored is not data and stored is not None and stored.get("actor") != decision.actor:
            # `actor` listed as a PII field: the record's own copy is masked as the action's
            actor = stored.get("actor")
            shared["actor"] = actor if actor is None or isinstance(actor, str) else "<erased>"
        shared.update(
            schema_version="guard.decision/v1",
            time=decision.time.isoformat(),
            action=stored,
            final_action=final,
            masked=masked_paths,
            erased=erased,
        )
        record = fast_model(DecisionEventV1, shared).model_dump(mode="json")
        if scrub is not None:  # hits quote unlisted fields too
            shadow = record.get("shadow") or {}
            for hit in [*record["hits"], *shadow.get("hits", [])]:
                hit["message"] = _scrub_unlisted(hit["message"], scrub, (), "message")
                if hit["error"] is not None:  # errors quote the values they failed on
                    hit["error"] = _scrub_unlisted(hit["error"], scrub, (), "error")
                hit["evidence"] = {  # the keys are the policy's own expressions
                    key: _scrub_unlisted(value, scrub, (), f"evidence.{key}")
                    for key, value in hit["evidence"].items()
                }
            for item in record.get("items") or ():  # a reason joins its hits' messages
                item["reason"] = _scrub_unlisted(item["reason"], scrub, (), "reason")
            if record.get("explanations"):  # feature names and inputs come from the caller
                record["explanations"] = _scrub_unlisted(
                    record["explanations"], scrub, (), "explanations"
                )
            _scrub_paths(record, scrub)
        return record

    def _mask(
        self, pack: CompiledPack, data: dict[str, Any], scan: _Scan | None
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """A copy fit for the audit log: PII spans masked, unscannable PII fields erased."""
        fields = pack.pii.fields if pack.pii is not None else []
        scanner = self._scanners.get(pack.digest)
        if scanner is not None:
            result = scan.scan if scan is not None and scan.scan is not None else None
            return scanner.mask_for_audit(data, result or scanner.scan(data))
        erased = [format_path(p) for f in fields for p, _ in walk(data, f)]
        return _erase(data, fields), [], erased


_EVENT_FROM_DECISION = tuple(
    name
    for name in DecisionEventV1.model_fields
    if name in Decision.model_fields and name not in ("time", "final_action")
)

_NO_SCAN = _Scan(None, None, None, "")


def _wrap(scan: PiiScan) -> _Scan:
    # Places that could not be scanned make `pii.*` raise (they are incomplete, not clean).
    report = scan.report
    view = PiiView(
        scan.findings,
        frozenset(report.entities_scanned),
        fields=[*report.fields_scanned, *report.fields_missing],
        incomplete=report.field_errors,
    )
    return _Scan(scan, view, scan.report, "")


def _stricter(decision: Decision, again: Decision) -> None:
    """Take the verdict of `again` (the action decided with its committed rate counts) when
    it is stricter: between a dry run and its commit others may have reached a limit."""
    if RANK[again.verdict] > RANK[decision.verdict]:
        for name in ("verdict", "hits", "final_action", "shadow"):
            setattr(decision, name, getattr(again, name))


def _mask_both(first: Masker | None, then: Masker | None) -> Masker | None:
    """A masker masking what `first` masks, then what `then` masks in what `first` left."""
    if first is None or then is None:
        return then if first is None else first
    return lambda key, value: then(key, first(key, value))


def _scrub_both(first: Scrubber | None, then: Scrubber | None) -> Scrubber | None:
    """A scrubber masking what `first` masks, then what `then` masks in what `first` left."""
    if first is None or then is None:
        return then if first is None else first
    return lambda text: then(first(text))


def _few_digits(value: float) -> bool:
    """True for a number too short to be a phone, card or account number."""
    return sum(c.isdigit() for c in repr(value)) < MIN_PII_DIGITS


def _rule(pack: CompiledPack, hit: RuleHit) -> Any:
    return next(r for r in pack.rules if r.id == hit.rule_id)


_IDENTIFIERS = frozenset({"kind", "actor", "tenant", "id"})  # stored as sent: records' keys


class _TextScrub:
    """Masks PII in texts about one action: the values of its PII fields are read once,
    then each text goes through `PiiScanner.scrub` (a text that cannot be checked is not
    stored)."""

    __slots__ = ("scanner", "action", "values")

    def __init__(self, scanner: PiiScanner, action: Mapping[str, Any]) -> None:
        self.scanner, self.action = scanner, action
        self.values: list[str] | None = None

    def __call__(self, text: str) -> str:
        try:
            if self.values is None:
                from guard.detect._scrub import field_values

                self.values = field_values(self.action, self.scanner.settings.fields)
            return self.scanner.scrub(text, self.action, values=self.values)
        except Exception:
            return REDACTED


def _scrub_unlisted(value: Any, scrub: _TextScrub, done: Sequence[str], path: str = "") -> Any:
    """A copy of an action for the audit log in which every text outside the pack's PII
    fields (already masked: `done`) has what the pattern recognizers find masked too:
    strings, long integers (a card or phone number sent as a number) and keys."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            child = f"{path}.{k}" if path else k
            out[_scrub_key(k, scrub, out)] = _scrub_unlisted(v, scrub, done, child)
        return out
    if isinstance(value, list):
        return [_scrub_unlisted(v, scrub, done, f"{path}[{i}]") for i, v in enumerate(value)]
    if not path or path in _IDENTIFIERS or any(_within(path, d) for d in done):
        return value
    if isinstance(value, str):
        return scrub(value)
    if type(value) is int and not _few_digits(value):
        text = str(value)
        scrubbed = scrub(text)
        return value if scrubbed == text else scrubbed
    return value


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")  # no digit run, @, dot or space


def _scrub_key(key: str, scrub: _TextScrub, taken: Mapping[str, Any]) -> str:
    """A key as the record stores it: masked like a text when it is not a plain name."""
    if _PLAIN_KEY.fullmatch(key) and sum(c.isdigit() for c in key) < MIN_PII_DIGITS:
        return key  # keys inside listed fields too: the field scan reads values only
    masked = scrub(key)
    unique, n = masked, 1
    while unique in taken and masked != key:  # two keys masked alike are both kept
        n += 1
        unique = f"{masked} #{n}"
    return unique


_PLAIN_PATH = re.compile(r"[\w.\[\]$*-]*", re.ASCII)  # no quoted key: nothing to mask


def _scrub_paths(record: dict[str, Any], scrub: _TextScrub) -> None:
    """Paths in a record name the keys they pass through (`params.notes["jo@example.com"]`):
    a path with a quoted key is masked like a text."""

    def clean(path: str) -> str:
        return path if _PLAIN_PATH.fullmatch(path) else scrub(path)

    record["masked"] = [clean(p) for p in record["masked"]]
    record["erased"] = [clean(p) for p in record["erased"]]
    for finding in record["pii"]:
        finding["field"] = clean(finding["field"])
    report = record.get("pii_report")
    if report:
        for name in ("fields_scanned", "fields_missing"):
            report[name] = [clean(p) for p in report[name]]
        report["field_errors"] = {clean(p): e for p, e in report["field_errors"].items()}


def _within(path: str, field: str) -> bool:
    """`path` is the field, or sits inside it (a field's container is not within it: only
    the field's part of a JSON text is masked by the scan, the rest is scrubbed here)."""
    return path == field or (path.startswith(field) and path[len(field)] in ".[$")


def _ranking_verdict(outcomes: Sequence[ItemOutcome]) -> Verdict:
    """deny when no item survived, redact when any was dropped or redacted, else allow."""
    dropped = sum(1 for o in outcomes if o.verdict not in _DONE)
    if outcomes and dropped == len(outcomes):
        return Verdict.DENY
    return (
        Verdict.REDACT if any(o.verdict is not Verdict.ALLOW for o in outcomes) else Verdict.ALLOW
    )


def _unique_ids(rows: Sequence[Mapping[str, Any]]) -> list[str | int]:
    """The items' ids, refused when two items share one: outcomes are reported by id."""
    first: dict[str | int, int] = {}
    for index, row in enumerate(rows):
        item_id = _item_id(row, index)
        if item_id in first:
            raise InvalidAction(
                f"items {first[item_id]} and {index} share the id {item_id!r}; ids must be "
                "unique (an item without 'id' is known by its position)"
            )
        first[item_id] = index
    return list(first)


def _item_id(row: Mapping[str, Any], index: int) -> str | int:
    """An item's id: a string or an integer (not a boolean); its position when absent."""
    if "id" not in row:
        return index
    value = row["id"]
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InvalidAction(f"item {index}: 'id' must be a string or an integer, got {value!r}")


def _cap(
    pack: CompiledPack,
    row: dict[str, Any],
    counts: dict[tuple[str, str], int],
    item_id: Any,
    env: Mapping[str, Any],
    mask: Masker | None,
) -> RuleHit | None:
    """The hit of the first cap `row` is over, else None; `counts` counts survivors only
    (an item one cap drops does not use up its place under another cap)."""
    keys = []
    for rule in pack.list_rules:
        cap = rule.cap
        if cap is None:
            continue
        value = lookup({"item": row}, cap.by)
        if value is MISSING or value is None:  # no agency (missing or null): not in a group
            continue
        key = (rule.id, _group_key(value))
        keys.append(key)
        if counts.get(key, 0) >= cap.max:
            shown = mask(cap.by, value) if mask is not None else value
            if rule.message_parts is not None:
                msg = fill_parts(rule.message_parts, env, mask)
            else:
                kept = f"{cap.max} item{'' if cap.max == 1 else 's'}" if cap.max else "no items"
                msg = rule.message or (
                    f"{cap.by} = {json.dumps(shown, ensure_ascii=False)} may have {kept}; "
                    "this one is over the cap"
                )
            return RuleHit(
                rule_id=rule.id,
                effect=rule.effect,
                message=msg,
                severity=rule.severity,
                evidence={cap.by: shown, "max": cap.max},
                item_id=item_id,
            )
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return None


def _group_key(value: Any) -> str:
    """A cap's group, by JSON value: 1 and 1.0 are one group (as 1 == 1.0 in conditions),
    at any depth ([1] and [1.0], {"x": 1} and {"x": 1.0}); true and 1 are two."""
    return json.dumps(_integral(value), sort_keys=True)


def _integral(value: Any) -> Any:
    """`value` with every integral float read as its integer, at any depth."""
    if type(value) is float:
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_integral(v) for v in value]
    return value


def _copy(data: Any) -> Any:
    return orjson.loads(orjson.dumps(data))


def _erase(data: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = _copy(data)
    for path in paths:
        try:
            parse_path(path)
        except ValueError:
            continue
        for steps, _ in list(walk(out, path)):
            set_in(out, steps, REDACTED)
    return out


def _same_torch_threads() -> Callable[[], None] | None:
    """Torch's thread setting is per thread: give the explanation worker the caller's."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    threads = torch.get_num_threads()
    return lambda: torch.set_num_threads(threads)


def _action_list(actions: Any, what: str) -> list[Any]:
    """`actions` read once as a list; one action (a mapping or model), a string, bytes or
    None is refused, not read as a list of its keys or characters."""
    if isinstance(actions, str | bytes | Mapping | BaseModel) or not isinstance(actions, Iterable):
        raise InvalidAction(f"{what}() takes a list of actions, got {type(actions).__name__}")
    return list(actions)


def _check_list(actions: Any) -> None:
    if isinstance(actions, (str, bytes, Mapping)) or not isinstance(actions, Sequence):
        raise InvalidAction(f"actions must be a list of mappings, got {type(actions).__name__}")


def _compiled(packs: Iterable[Any], what: str) -> list[CompiledPack]:
    """The packs as a list (a generator is read once), each a compiled pack, names unique."""
    if isinstance(packs, str | os.PathLike | CompiledPack) or packs is None:
        packs = [packs]
    out = list(packs)
    names: set[str] = set()
    for pack in out:
        if not isinstance(pack, CompiledPack):
            raise PolicyError(
                f"Guard({what}=...) takes compiled packs, got {type(pack).__name__} {pack!r}; "
                "load a pack file, folder or shipped pack's name with Guard.from_policy(...)"
            )
        if pack.name in names:
            label = "shadow pack" if what == "shadow" else "pack"
            raise PolicyError(f"{label} name {pack.name!r} is given twice; names must be unique")
        names.add(pack.name)
    return out


def _pair_shadow(
    live: Mapping[str, CompiledPack], shadow: Sequence[CompiledPack]
) -> dict[str, CompiledPack]:
    if not shadow:
        return {}
    if len(live) == 1 and len(shadow) == 1:
        return {next(iter(live)): shadow[0]}
    paired = {s.name: s for s in shadow if s.name in live}
    unpaired = [s.name for s in shadow if s.name not in live]
    if unpaired:
        raise PolicyError(f"shadow packs {unpaired!r} have no live pack of the same name")
    return paired


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _rate_store(store: Any) -> RateStore:
    """The rate store `store` gives: itself, the Redis store its URL names, or memory."""
    if store is None:
        return MemoryRateStore()
    if isinstance(store, str) and store.startswith(_REDIS_SCHEMES):
        from guard.policy._rate_redis import RedisRateStore  # DependencyMissing without redis

        return RedisRateStore(store)
    if not isinstance(store, RateStore):
        got = "a str that is no Redis URL" if isinstance(store, str) else type(store).__name__
        raise PolicyError(
            "rate_store= takes a rate store (MemoryRateStore, or an object with "
            f"hit(key, window)) or a Redis URL (redis://host:6379/0), got {got}"
        )
    return store


def _open_audit(audit: Any) -> AuditLog | None:
    """The audit log `audit` gives: itself, or the log its URL names (opened here)."""
    if audit is None:
        return None
    from guard.audit import AuditLog, open_audit

    if isinstance(audit, str):
        return open_audit(audit)
    if not isinstance(audit, AuditLog):
        raise AuditError(
            f"audit= takes an AuditLog or an audit URL (memory://, sqlite:///path/audit.db, "
            f"postgresql://...), got {type(audit).__name__}"
        )
    return audit
