"""Filters of the decision list and the scans behind it: pages, counts, labels and exports.

Store filters (verdict, rule, policy, version, actor, kind, tenant, time) go to
`AuditLog.query`; the free-text search and the review-label filter run here, on the
records the store returns. The tenant is always the viewer's when the key is bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from guard.audit import AuditLog

__all__ = [
    "DECISION",
    "LABELS",
    "LAST",
    "NEWER_MAX",
    "RESOLUTION",
    "REVIEW",
    "VERDICTS",
    "Filters",
    "LabelIndex",
    "ListPage",
    "Stats",
    "iter_matching",
    "label_index",
    "labels_on_demand",
    "list_page",
    "newer_of",
    "pager",
    "parse_time",
    "stats",
]

DECISION = "guard.decision/v1"
REVIEW = "guard.review/v1"
RESOLUTION = "guard.resolution/v1"
VERDICTS = ("allow", "redact", "escalate", "deny")
LABELS = ("correct", "false_positive", "false_negative")
LABEL_FILTERS = ("any", "none", *LABELS)
LAST: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PAGE_SIZE = 50
STATS_CAP = 5000  # newest matching decisions counted for the charts
SCAN_BUDGET = 20_000  # records one list page may read while post-filtering
LABEL_CAP = 20_000  # review records read to know which decisions are labelled
NEWER_MAX = 100  # pages "← Newer" can step back through (each is a cursor in the URL)
_CHUNK = 1000
_TEXT_MAX = 200  # a cursor's length in a page's URL
_TYPED = " \t\r\n"  # the spaces trimmed from a filter
_FILTER_MAX = 1000  # a filter's: longer is refused, not cut (a cut actor matches nothing)


def parse_time(text: str) -> datetime | None:
    """Parse an ISO date-time (from a datetime-local input or a record); naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: no such moment in UTC (year 0 or 10000)
        return None


@dataclass(frozen=True, slots=True)
class Filters:
    """What the reviewer asked for; every field is the text of one query parameter."""

    verdict: str = ""
    rule: str = ""
    policy: str = ""
    version: str = ""
    actor: str = ""
    kind: str = ""
    tenant: str = ""
    last: str = ""
    since: str = ""
    until: str = ""
    disagree: str = ""
    label: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[Filters, list[str]]:
        """Read the filters from query parameters; bad values are dropped and reported."""
        # Only the spaces a reviewer types by mistake: an actor "agent-1" followed by a
        # no-break or ideographic space (an impostor of agent-1) is found as written.
        values = {name: str(params.get(name, "")).strip(_TYPED) for name in cls.names()}
        errors: list[str] = []
        for name, value in values.items():
            if len(value) > _FILTER_MAX:
                errors.append(
                    f"{name} is {len(value):,} characters long; the limit is {_FILTER_MAX:,}"
                )
                values[name] = ""
        allowed = {"verdict": VERDICTS, "label": LABEL_FILTERS, "last": tuple(LAST)}
        for name, choices in allowed.items():
            if values[name] and values[name] not in choices:
                errors.append(
                    f"unknown {name} {values[name]!r}; expected one of {', '.join(choices)}"
                )
                values[name] = ""
        if " " in values["rule"]:  # the store keeps a record's rule ids space-separated
            errors.append(
                f"rule {values['rule']!r}: rule ids have no spaces; "
                "to find words in rule messages use Search rule messages"
            )
            values["rule"] = ""
        for name in ("since", "until"):
            if values[name] and parse_time(values[name]) is None:
                errors.append(
                    f"{name} {values[name]!r} is not a date and time "
                    "(expected YYYY-MM-DDTHH:MM, UTC)"
                )
                values[name] = ""
        since, until = parse_time(values["since"]), parse_time(values["until"])
        if since is not None and until is not None and since > until:
            errors.append(
                f"from {values['since']!r} is later than to {values['until']!r}, "
                "so no decision can match; swap them"
            )
        if values["disagree"] not in ("", "1", "on", "true", "0", "off", "false"):
            errors.append(f"disagree {values['disagree']!r} is not a switch (expected on or off)")
        values["disagree"] = "1" if values["disagree"] in ("1", "on", "true") else ""
        return cls(**values), errors

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The query parameter names, in form order."""
        return tuple(cls.__dataclass_fields__)

    def params(self) -> dict[str, str]:
        """The filters that are set, as query parameters."""
        return {k: v for k, v in asdict(self).items() if v}

    def query_string(self, **extra: str) -> str:
        """The filters (and `extra` parameters) as a URL query string, without the '?'."""
        return urlencode({**self.params(), **{k: v for k, v in extra.items() if v}})

    def with_(self, **changes: str) -> str:
        """The query string of these filters with some changed (a link that narrows the list)."""
        return replace(self, **changes).query_string()

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return bool(self.params())

    def input_time(self, name: str) -> str:
        """`since` or `until` as a datetime-local field takes it: UTC, no offset ('' if unset).

        A link may write 2026-11-26T10:00:00Z, an offset or a date alone; the field shows
        none of those, and the next Apply would drop the filter.
        """
        moment = parse_time(str(getattr(self, name)))
        if moment is None:
            return ""
        spec = "milliseconds" if moment.microsecond else "seconds" if moment.second else "minutes"
        return moment.replace(tzinfo=None).isoformat(timespec=spec)

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The time range asked for: `since` (or now minus `last`, the later one) to `until`."""
        since = parse_time(self.since) if self.since else None
        if self.last:
            recent = now - LAST[self.last]
            since = recent if since is None else max(since, recent)
        return since, parse_time(self.until) if self.until else None

    def empty_window(self, now: datetime) -> str:
        """Why the time range asked for holds no moment at all ('' when it holds some).

        `to` is exclusive (as in the API), so a range from 10:00 to 10:00 is empty; and
        "Last 15 min" ends the range too late for a `to` of yesterday. A `from` later than
        `to` is reported by `from_params` already.
        """
        since, until = self.window(now)
        if since is None or until is None or since < until:
            return ""
        if self.last and (self.since == "" or since > (parse_time(self.since) or since)):
            return (
                f"last {self.last} starts at {_utc(since)}, not before to {_utc(until)}, "
                "so no decision can match; clear one of them"
            )
        if since == until:
            return (
                f"from and to are the same moment ({_utc(since)}) and to is exclusive, "
                "so no decision can match; set to later"
            )
        return ""

    def store_kwargs(self, tenant: str | None, now: datetime) -> dict[str, Any]:
        """Keyword arguments for `AuditLog.query`; `tenant` is the scope the viewer may read."""
        since, until = self.window(now)
        return {
            "record_type": DECISION,
            "tenant": tenant,
            "verdict": self.verdict or None,
            "rule_id": self.rule or None,
            "policy": self.policy or None,
            "policy_version": self.version or None,
            "actor": self.actor or None,
            "kind": self.kind or None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "shadow_disagrees": True if self.disagree else None,
        }

    def post_filter(self, labels: LabelIndex) -> Callable[[dict[str, Any]], bool] | None:
        """The test the store cannot run (free text, review labels), or None when not needed."""
        needle = self.q.casefold()
        label = self.label
        if not needle and not label:
            return None

        def keep(record: dict[str, Any]) -> bool:
            if needle and needle not in _searchable(record):
                return False
            if label:
                latest = labels.latest(str(record.get("id", "")))
                if label == "any":
                    return latest is not None
                if label == "none":
                    return latest is None
                return latest is not None and latest.get("label") == label
            return True

        return keep


def _utc(moment: datetime) -> str:
    """A moment as the console shows times: '2026-11-26 10:00:00 UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _searchable(record: dict[str, Any]) -> str:
    """The text the free-text search reads: rule ids and rule messages (live and shadow)."""
    hits = list(_dicts(record.get("hits")))
    shadow = record.get("shadow")
    if isinstance(shadow, dict):
        hits += list(_dicts(shadow.get("hits")))
    parts = [f"{h.get('rule_id', '')} {h.get('message', '')}" for h in hits]
    return " ".join(parts).casefold()


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


@dataclass(slots=True)
class LabelIndex:
    """Review records by decision id, newest first; `truncated` when the cap was reached.

    With `audit`, a decision not in `by_decision` is looked up in the log (by its id, one
    indexed query, remembered): a label older than the cap is still found, and an index
    with nothing read ahead costs one query per decision asked about.
    """

    by_decision: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    truncated: bool = False
    audit: AuditLog | None = None
    tenant: str | None = None
    _looked_up: dict[str, dict[str, Any] | None] = field(
        default_factory=dict, init=False, repr=False
    )

    def latest(self, decision_id: str) -> dict[str, Any] | None:
        """The newest review of a decision, or None."""
        found = self.by_decision.get(decision_id)
        if found:
            return found[0]
        if self.audit is None:
            return None
        if decision_id not in self._looked_up:
            page = self.audit.query(
                record_type=REVIEW, ref_id=decision_id, tenant=self.tenant, limit=1
            )
            self._looked_up[decision_id] = page.items[0].record if page.items else None
        return self._looked_up[decision_id]


def label_index(audit: AuditLog, tenant: str | None, cap: int = LABEL_CAP) -> LabelIndex:
    """Read the newest `cap` review records visible to `tenant` into an index.

    When the log holds more, decisions missing from the index are looked up one by one.
    """
    index = LabelIndex()
    seen = 0
    for record in _records(audit, {"record_type": REVIEW, "tenant": tenant}, None, cap):
        seen += 1
        decision_id = record.get("decision_id")
        if isinstance(decision_id, str):
            index.by_decision.setdefault(decision_id, []).append(record)
    index.truncated = seen >= cap
    if index.truncated:
        index.audit, index.tenant = audit, tenant
    return index


def labels_on_demand(audit: AuditLog, tenant: str | None) -> LabelIndex:
    """An index that reads nothing ahead: each decision asked about is one query by its id."""
    return LabelIndex(audit=audit, tenant=tenant)


def _records(
    audit: AuditLog, kwargs: dict[str, Any], cursor: str | None, budget: int
) -> Iterator[dict[str, Any]]:
    """Every record matching `kwargs`, newest first, at most `budget` of them."""
    while budget > 0:
        page = audit.query(**kwargs, cursor=cursor, limit=min(_CHUNK, budget))
        for item in page.items:
            yield item.record
        budget -= len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return


def iter_matching(
    audit: AuditLog,
    filters: Filters,
    tenant: str | None,
    labels: LabelIndex,
    now: datetime,
    budget: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every decision record matching all the filters, newest first (an export's rows)."""
    keep = filters.post_filter(labels)
    kwargs = filters.store_kwargs(tenant, now)
    for record in _records(audit, kwargs, None, budget if budget is not None else 1 << 62):
        if keep is None or keep(record):
            yield record


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of the list: its records, the cursor of the next, and whether the scan gave up."""

    records: list[dict[str, Any]]
    next_cursor: str | None
    scanned: int
    budget_spent: bool


def list_page(
    audit: AuditLog,
    filters: Filters,
    tenant: str | None,
    labels: LabelIndex,
    now: datetime,
    cursor: str | None,
    size: int = PAGE_SIZE,
    budget: int = SCAN_BUDGET,
) -> ListPage:
    """The page after `cursor`: at least `size` matches unless the set or the budget ends.

    Each store page is consumed whole so its `next_cursor` stays exact; with a post-filter
    the last store page may bring a few more rows than `size`.
    """
    keep = filters.post_filter(labels)
    kwargs = filters.store_kwargs(tenant, now)
    found: list[dict[str, Any]] = []
    scanned = 0
    while len(found) < size and scanned < budget:
        need = size - len(found)
        chunk = need if keep is None else min(max(need, PAGE_SIZE), _CHUNK)
        page = audit.query(**kwargs, cursor=cursor, limit=chunk)
        scanned += len(page.items)
        found += [i.record for i in page.items if keep is None or keep(i.record)]
        cursor = page.next_cursor
        if cursor is None:
            break
    return ListPage(found, cursor, scanned, cursor is not None and scanned >= budget)


def newer_of(values: Sequence[str]) -> list[str]:
    """The `newer` cursors a page's URL gives (see `pager`), at most `NEWER_MAX` of them."""
    newer = [c[:_TEXT_MAX] for c in values]
    return ["", *newer[-(NEWER_MAX - 1) :]] if len(newer) > NEWER_MAX else newer


def pager(
    params: Mapping[str, str], cursor: str | None, newer: Sequence[str], next_cursor: str | None
) -> tuple[str | None, str | None]:
    """The query strings of the page before this one ("← Newer") and after it ("Older →").

    The store pages only toward older records, so a page's URL keeps the cursors of the
    pages between the newest and it (`newer`, repeated, newest page's first). Past
    `NEWER_MAX` pages the oldest are forgotten, marked by an empty first cursor: the page
    whose page before was forgotten has no Newer link (Newest is still there).
    """
    back = None
    if cursor is not None and (not newer or newer[-1]):
        before = [("cursor", newer[-1]), *(("newer", c) for c in newer[:-1])] if newer else []
        back = urlencode([*params.items(), *before])
    older = None
    if next_cursor is not None:
        stack = newer_of([*newer, cursor]) if cursor is not None else []
        after = [("cursor", next_cursor), *(("newer", c) for c in stack)]
        older = urlencode([*params.items(), *after])
    return back, older


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts over the newest matching decisions (at most `STATS_CAP`)."""

    total: int
    truncated: bool
    by_verdict: dict[str, int]
    by_rule: list[tuple[str, int]]
    times: list[tuple[datetime, str]]
    searched: int | None = None  # the records read, when the scan budget ended the count


def stats(
    audit: AuditLog,
    filters: Filters,
    tenant: str | None,
    labels: LabelIndex,
    now: datetime,
    cap: int = STATS_CAP,
) -> Stats:
    """Count the matching decisions per verdict and per rule, and keep their times.

    A search or label filter runs here, on at most `SCAN_BUDGET` records: when they run
    out first, the counts are of the matches among them (`searched`), not of the log.
    """
    keep = filters.post_filter(labels)
    budget = SCAN_BUDGET
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    times: list[tuple[datetime, str]] = []
    total = scanned = 0
    for record in _records(audit, filters.store_kwargs(tenant, now), None, budget):
        scanned += 1
        if keep is not None and not keep(record):
            continue
        if total == cap:
            return _stats(total, True, verdicts, rules, times)
        total += 1
        verdict = str(record.get("verdict", ""))
        verdicts[verdict] += 1
        rules.update({str(h.get("rule_id")) for h in _dicts(record.get("hits"))})
        moment = parse_time(str(record.get("time", "")))
        if moment is not None:
            times.append((moment, verdict))
    if keep is not None and scanned >= budget:
        return _stats(total, True, verdicts, rules, times, scanned)
    return _stats(total, False, verdicts, rules, times)


def _stats(
    total: int,
    truncated: bool,
    verdicts: Counter[str],
    rules: Counter[str],
    times: list[tuple[datetime, str]],
    searched: int | None = None,
) -> Stats:
    by_verdict = {v: verdicts.get(v, 0) for v in VERDICTS}
    by_verdict.update({v: n for v, n in verdicts.items() if v not in by_verdict})
    return Stats(total, truncated, by_verdict, rules.most_common(), times, searched)
