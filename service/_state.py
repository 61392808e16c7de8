"""The sidecar's shared state: the guard, the audit log, the keys and the review queue.

Contract (used by the routes and by the review console in `service/ui/`; `create_app`
stores the state as `app.state.guard_state`):

    ServiceState.guard        -> guard.Guard          (swapped atomically by reload())
    await ServiceState.serving() -> guard.Guard       # the same, for coroutines: never
        loads packs on the event loop (the previous guard serves while they load)
    ServiceState.audit        -> guard.audit.AuditLog
    ServiceState.keys         -> service._auth.KeyStore
    ServiceState.settings     -> service._settings.Settings
    ServiceState.escalations  -> Escalations
    ServiceState.label(decision_id, label, note, reviewer, tenant) -> dict
        label: "correct" | "false_positive" | "false_negative"; writes and returns a
        "guard.review/v1" audit record; raises NotFound.
    ServiceState.decision(decision_id, tenant) -> dict       # the decision's audit record
    ServiceState.reload() -> list[CompiledPack]             # atomic; a bad pack raises
        and, with `settings.reload_file`, every process sharing that file follows.

    Escalations.pending(tenant: str | None, limit: int = 100) -> list[dict]
        audit records of escalated decisions with no resolution yet, newest first.
    Escalations.resolution(decision_id) -> dict | None      # the resolution record, if any
    Escalations.resolve(decision_id, outcome: "approve" | "deny", note: str, reviewer: str,
                        tenant: str | None) -> dict
        writes the "guard.resolution/v1" record, wakes waiters; raises NotFound,
        NotEscalated, AlreadyResolved (a replay, also across processes).
    async Escalations.wait(decision_id, timeout: float) -> dict | None
        the resolution record, or None when the timeout expires first.

`tenant` is the caller's tenant: None (an operator key) sees every tenant; a bound key
sees only its own tenant's records, and other tenants' ids are reported as not found.
The blocking methods (everything but `wait`) do database I/O: call them from a thread
(a plain `def` route) or through `anyio.to_thread.run_sync`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import anyio
import orjson

from guard._engine import Guard, _pair_shadow
from guard._exceptions import AuditError, RecordNotFound
from guard.audit import AuditLog, open_audit
from guard.audit._log import _encode_cursor
from guard.policy import load
from service._auth import KeyStore
from service._errors import (
    AlreadyResolved,
    NotEscalated,
    NotFound,
    UnsharedCounters,
    readable_time,
)
from service._notes import mask_note
from service._settings import Settings

if TYPE_CHECKING:
    from guard.policy import CompiledPack, RateStore

__all__ = [
    "DECISION_SCHEMA",
    "Escalations",
    "LABELS",
    "RESOLUTION_SCHEMA",
    "REVIEW_SCHEMA",
    "ServiceState",
    "visible",
]

log = logging.getLogger("guard.service")

DECISION_SCHEMA = "guard.decision/v1"
RESOLUTION_SCHEMA = "guard.resolution/v1"
REVIEW_SCHEMA = "guard.review/v1"
LABELS = ("correct", "false_positive", "false_negative")
Outcome = Literal["approve", "deny"]
_SCAN_FACTOR = 20  # pending(): escalations examined per requested item, at most


def visible(record: dict[str, Any], tenant: str | None) -> bool:
    """Whether a caller bound to `tenant` may read `record` (None: an operator, sees all)."""
    return tenant is None or record.get("tenant") == tenant


def resolution_id(decision_id: str) -> str:
    """The id of a decision's resolution record: fixed, so a second one is refused by the log."""
    return f"{decision_id}.resolution"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ServiceState:
    """What every request shares; built once per process by `ServiceState.build`."""

    def __init__(
        self,
        settings: Settings,
        guard: Guard,
        audit: AuditLog,
        keys: KeyStore,
        shadow: Sequence[CompiledPack] = (),
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.keys = keys
        self._guard = guard
        self.shadow: dict[str, CompiledPack] = _pair_shadow(guard.packs, shadow)
        self._reload_lock = threading.Lock()
        self._seen = _stamp(settings.reload_file)  # the reload file as this process last saw it
        self.escalations = Escalations(audit, poll_interval=settings.poll_interval)
        self.started = time.time()

    @classmethod
    def build(cls, settings: Settings, *, keys: KeyStore | None = None) -> ServiceState:
        """Load and validate every pack, open the audit log and warm the PII engine once."""
        packs = load(settings.policy)
        shadow = load(settings.shadow) if settings.shadow else []
        refuse_unshared_rates(settings, [*packs, *shadow])
        if keys is None:
            keys = KeyStore.from_file(settings.keys) if settings.keys else KeyStore.open_access()
        audit = open_audit(settings.audit, signing_key_path=settings.signing_key)
        try:
            _ = audit.public_key_hex  # a bad signing key refuses to start, not at first head
            guard = Guard(packs, audit=audit, shadow=shadow, rate_store=rate_store(settings))
            warm_up(guard)
        except BaseException:
            audit.close()
            raise
        return cls(settings, guard, audit, keys, shadow)

    @property
    def guard(self) -> Guard:
        """The guard serving now; a reload swaps it in one assignment.

        With a reload file, a change to it (another worker reloaded) reloads here first,
        so no worker keeps deciding with the packs a reload replaced.
        """
        path = self.settings.reload_file
        if path is not None and _stamp(path) not in (self._seen, None):
            self._follow(path)
        return self._guard

    async def serving(self) -> Guard:
        """`guard` for a coroutine: following another worker's reload loads the packs in a
        thread, so the event loop keeps serving, with the previous guard, until the swap.

        The request that finds the reload waits for it, so it decides with the new packs.
        """
        path = self.settings.reload_file
        if path is not None and _stamp(path) not in (self._seen, None):
            if not self._reload_lock.locked():  # else a load is under way: serve meanwhile
                # A request cancelled meanwhile (timeout, disconnect) leaves the load to finish.
                await anyio.to_thread.run_sync(self._follow, path, abandon_on_cancel=True)
        return self._guard

    def reload(self) -> list[CompiledPack]:
        """Reload every pack from the policy source; on any error the old guard keeps serving.

        With a reload file, rewrite it so every process sharing it reloads too.
        """
        with self._reload_lock:
            guard, shadow = self._load()
            path = self.settings.reload_file
            if path is not None:
                _rewrite(path, _digests(guard, shadow))
                self._seen = _stamp(path)
            self._guard, self.shadow = guard, shadow
            return list(guard.packs.values())

    def _load(self) -> tuple[Guard, dict[str, CompiledPack]]:
        packs = load(self.settings.policy)
        shadow = load(self.settings.shadow) if self.settings.shadow else []
        refuse_unshared_rates(self.settings, [*packs, *shadow])
        guard = Guard(packs, audit=self.audit, shadow=shadow, rate_store=self._guard.rates)
        warm_up(guard)
        return guard, _pair_shadow(guard.packs, shadow)

    def _follow(self, path: str) -> None:
        """Reload because another process rewrote the reload file (once per rewrite)."""
        if not self._reload_lock.acquire(blocking=False):
            return  # a reload is under way in this process: serve the current guard meanwhile
        try:
            stamp = _stamp(path)
            if stamp in (self._seen, None):
                return
            self._seen = stamp
            try:
                wanted = _read_digests(path)
                guard, shadow = self._load()
                found = _digests(guard, shadow)
                if wanted is not None and found != wanted:
                    raise ValueError(f"the packs changed again since: {found} != {wanted}")
                self._guard, self.shadow = guard, shadow
            except Exception as exc:  # the packs changed again since that reload
                log.error(
                    "another worker reloaded the packs but this one could not load the same "
                    "ones, so it still serves the previous ones (reload again): %s: %s",
                    type(exc).__name__,
                    exc,
                )
        finally:
            self._reload_lock.release()

    def decision(self, decision_id: str, tenant: str | None) -> dict[str, Any]:
        """The audit record of a decision visible to `tenant`; raise NotFound otherwise."""
        return self.escalations.decision(decision_id, tenant)

    def label(
        self,
        decision_id: str,
        label: str,
        note: str,
        reviewer: str,
        tenant: str | None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Label a decision (correct, false_positive, false_negative) with a review record.

        `reviewer` is the name the reviewer gives; `key` the API key that sent the label.
        """
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
        decision = self.decision(decision_id, tenant)
        record = {
            "schema_version": REVIEW_SCHEMA,
            "id": f"review-{uuid.uuid4().hex}",
            "decision_id": decision_id,
            "time": _now(),
            "tenant": decision.get("tenant"),
            "policy": decision.get("policy"),
            "label": label,
            "note": mask_note(note),
            "reviewer": reviewer,
            "key": key,
            "decision_verdict": decision.get("verdict"),
        }
        self.audit.append(record)
        return record

    def close(self) -> None:
        """Flush and close the audit log."""
        self.audit.close()


def refuse_unshared_rates(settings: Settings, packs: Sequence[CompiledPack]) -> None:
    """Raise UnsharedCounters when several workers would each count rate() or total() on
    their own."""
    using = sorted({p.name for p in packs if p.uses_rate})
    if settings.workers == 1 or settings.redis or not using:
        return
    raise UnsharedCounters(
        f"packs {using!r} use rate() or total(), and without a Redis URL each of the "
        f"{settings.workers} workers would count on its own, letting up to "
        f"{settings.workers} times the limit through; pass --redis URL (GUARD_REDIS) to "
        "share the counters, or serve one worker",
        details={"policies": using, "workers": settings.workers},
    )


def rate_store(settings: Settings) -> RateStore | None:
    """The counters behind `rate()`: Redis when configured (shared by workers), else memory."""
    if not settings.redis:
        return None
    try:
        from guard.policy._rate_redis import (  # type: ignore[import-not-found,unused-ignore]
            RedisRateStore,
        )
    except ImportError as exc:
        raise RuntimeError(
            f"a Redis URL is set but the Redis rate store is not available: {exc}"
        ) from exc
    store: RateStore = RedisRateStore(settings.redis)
    return store


def _stamp(path: str | None) -> tuple[int, int] | None:
    """What identifies one version of the reload file: its inode and modification time."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _rewrite(path: str, digests: dict[str, str]) -> None:
    """Replace the reload file with a new one (a new inode, so every reader sees a change)
    naming the digests of the packs this reload loaded."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # a temp cleaner may remove it
    temporary = f"{path}.{os.getpid()}.{uuid.uuid4().hex}"
    with open(temporary, "wb") as f:
        f.write(orjson.dumps(digests, option=orjson.OPT_SORT_KEYS))
    os.replace(temporary, path)


def _read_digests(path: str) -> dict[str, str] | None:
    """The digests a reload wrote, or None when the file names none (made empty, or by hand)."""
    try:
        with open(path, "rb") as f:
            found = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _digests(guard: Guard, shadow: dict[str, CompiledPack]) -> dict[str, str]:
    """Each serving pack's digest, shadow packs under "shadow:<name>"."""
    serving = {name: pack.digest for name, pack in guard.packs.items()}
    return serving | {f"shadow:{name}": pack.digest for name, pack in shadow.items()}


def warm_up(guard: Guard) -> None:
    """Run one evaluation per pack with PII settings, so the NER model loads before traffic."""
    for pack in guard.packs.values():
        if pack.pii is None or not pack.pii.fields:
            continue
        action: dict[str, Any] = {"kind": "warm_up", "params": {}}
        field = pack.pii.fields[0].split("[", 1)[0]
        if field.startswith("params.") and field.count(".") == 1:
            action["params"][field.split(".", 1)[1]] = "Warm up for Jo Smith, jo@example.com"
        try:
            guard.evaluate(action, {}, policy=pack.name)
        except Exception as exc:  # a warm-up never stops the server: traffic will show it
            log.warning("warming up pack %s failed: %s", pack.name, exc)


class Escalations:
    """The review queue, derived from the audit log so several processes share it."""

    def __init__(self, audit: AuditLog, *, poll_interval: float = 0.5) -> None:
        self._audit = audit
        self._poll = poll_interval
        self._lock = threading.Lock()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def decision(self, decision_id: str, tenant: str | None) -> dict[str, Any]:
        """The decision record `decision_id` if `tenant` may see it; raise NotFound."""
        try:
            record = self._audit.get(decision_id).record
        except RecordNotFound:
            record = {}
        if record.get("schema_version") != DECISION_SCHEMA or not visible(record, tenant):
            raise NotFound(
                f"no decision with id {decision_id!r}",
                code="decision_not_found",
                details={"id": decision_id},
            )
        return record

    def escalated(self, decision_id: str, tenant: str | None) -> dict[str, Any]:
        """The record of an escalated decision; raise NotFound or NotEscalated."""
        record = self.decision(decision_id, tenant)
        if not is_held(record):
            raise NotEscalated(
                f"decision {decision_id!r} has verdict {record.get('verdict')!r} "
                f"in mode {record.get('mode')!r}; only enforced escalations are held for review",
                details={"id": decision_id, "verdict": record.get("verdict")},
            )
        return record

    def resolution(self, decision_id: str) -> dict[str, Any] | None:
        """The resolution record of a decision, or None while it is pending."""
        try:
            return self._audit.get(resolution_id(decision_id)).record
        except RecordNotFound:
            return None

    def pending(self, tenant: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """Escalated decisions visible to `tenant` with no resolution yet, newest first."""
        return self.pending_page(tenant, limit=limit)[0]

    def pending_page(
        self, tenant: str | None, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of pending escalations and the cursor of the next (None at the end)."""
        found: list[dict[str, Any]] = []
        budget = limit * _SCAN_FACTOR
        while budget > 0:
            page = self._audit.query(
                tenant=tenant,
                verdict="escalate",
                cursor=cursor,
                record_type=DECISION_SCHEMA,
                limit=min(limit, 1000),
            )
            budget -= len(page.items)
            for n, item in enumerate(page.items):
                if is_held(item.record) and self.resolution(item.id) is None:
                    found.append(item.record)
                    if len(found) == limit:  # a full page: the next one starts below this item
                        last = n == len(page.items) - 1
                        return found, page.next_cursor if last else _encode_cursor(item.index)
            cursor = page.next_cursor
            if cursor is None:
                break
        return found, cursor

    def resolve(
        self,
        decision_id: str,
        outcome: Outcome,
        note: str,
        reviewer: str,
        tenant: str | None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Resolve an escalation once: write the resolution record and wake every waiter.

        `reviewer` is the name the reviewer gives; `key` the API key that sent the outcome.
        """
        if outcome not in ("approve", "deny"):
            raise ValueError(f"unknown outcome {outcome!r}; expected one of approve, deny")
        decision = self.escalated(decision_id, tenant)
        self._refuse_replay(decision_id)
        record = {
            "schema_version": RESOLUTION_SCHEMA,
            "id": resolution_id(decision_id),
            "decision_id": decision_id,
            "time": _now(),
            "tenant": decision.get("tenant"),
            "policy": decision.get("policy"),
            "outcome": outcome,
            "note": mask_note(note),
            "reviewer": reviewer,
            "key": key,
        }
        try:
            self._audit.append(record)
        except AuditError:
            self._refuse_replay(decision_id)  # another process won the race
            raise
        self.notify(decision_id)
        return record

    async def wait(self, decision_id: str, timeout: float) -> dict[str, Any] | None:
        """Wait up to `timeout` seconds for the resolution; None if it is still pending."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        deadline = loop.time() + max(timeout, 0.0)
        self._register(decision_id, loop, event)
        try:
            while True:
                found = await anyio.to_thread.run_sync(self.resolution, decision_id)
                remaining = deadline - loop.time()
                if found is not None or remaining <= 0:
                    return found
                # Another process may resolve it: poll the log, but wake at once on our own.
                try:
                    await asyncio.wait_for(event.wait(), min(self._poll, remaining))
                except TimeoutError:
                    pass
                event.clear()
        finally:
            self._unregister(decision_id, event)

    def notify(self, decision_id: str) -> None:
        """Wake this process's waiters on `decision_id` (thread-safe)."""
        with self._lock:
            waiters = list(self._waiters.get(decision_id, ()))
        for loop, event in waiters:
            _call_soon(loop, event.set)

    def _refuse_replay(self, decision_id: str) -> None:
        existing = self.resolution(decision_id)
        if existing is not None:
            raise AlreadyResolved(
                f"escalation {decision_id!r} was already resolved ({existing.get('outcome')}) "
                f"by {existing.get('reviewer')!r} at {readable_time(existing.get('time'))}",
                details={
                    "id": decision_id,
                    "outcome": existing.get("outcome"),
                    "resolution_id": existing.get("id"),
                },
            )

    def _register(
        self, decision_id: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event
    ) -> None:
        with self._lock:
            self._waiters.setdefault(decision_id, []).append((loop, event))

    def _unregister(self, decision_id: str, event: asyncio.Event) -> None:
        with self._lock:
            rest = [w for w in self._waiters.get(decision_id, []) if w[1] is not event]
            if rest:
                self._waiters[decision_id] = rest
            else:
                self._waiters.pop(decision_id, None)


def is_held(record: dict[str, Any]) -> bool:
    """An enforced escalation is held for a human; a shadow-mode one is only recorded."""
    return record.get("verdict") == "escalate" and record.get("mode", "enforce") == "enforce"


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[], object]) -> None:
    try:
        loop.call_soon_threadsafe(fn)
    except RuntimeError:  # that loop has closed: its waiter is gone too
        pass
