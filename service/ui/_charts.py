"""Geometry of the console's server-side SVG charts; templates only place what is computed here.

Every input comes from an audit record written by another process, so each reader
accepts missing keys and wrong types and degrades to a note instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AttributionChart",
    "Bar",
    "Check",
    "Timeline",
    "TreeChart",
    "attribution_chart",
    "number",
    "timeline",
    "tree_chart",
]

VERDICT_ORDER = ("allow", "redact", "escalate", "deny")
_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
_MAX_BUCKETS = 48
_TOP_FEATURES = 20
_LABEL_CHARS = 34  # longest feature label drawn beside an attribution bar


def number(value: object) -> float | None:
    """A finite float from a record value, or None (bools, strings, NaN are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def fmt(value: float | None, digits: int = 3) -> str:
    """A short human form of a number: 0.123, -4.5, 1.2e-05; an em dash for None."""
    if value is None:
        return "—"
    if value != 0 and (abs(value) < 10**-digits or abs(value) >= 10**6):
        return f"{value:.2e}"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- verdicts over time -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rect:
    """One stacked segment of a time bucket."""

    x: float
    y: float
    w: float
    h: float
    verdict: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis label at a position."""

    pos: float
    text: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """A stacked bar chart of verdicts per time bucket."""

    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    rects: list[Rect]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    step_text: str


def timeline(
    times: Sequence[tuple[datetime, str]],
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> Timeline | None:
    """Bucket (time, verdict) pairs over the window (or the data's span); None when empty."""
    if not times:
        return None
    latest = max(t for t, _ in times)
    lo = since or min(t for t, _ in times)
    # A window open at the end runs to now, or to a decision timed after it (written while
    # the page was read, or by a host whose clock is ahead): it is counted, so it is drawn.
    hi = until or (max(now, latest) if since else latest)
    hi = max(hi, lo)
    span = (hi - lo).total_seconds()
    step = next((s for s in _STEPS if span / s < _MAX_BUCKETS), None)
    if step is None:
        step = math.ceil(span / (_MAX_BUCKETS - 1))
    start = math.floor(lo.timestamp() / step) * step
    n = int((hi.timestamp() - start) // step) + 1
    counts = [dict.fromkeys(VERDICT_ORDER, 0) for _ in range(n)]
    for moment, verdict in times:
        i = int((moment.timestamp() - start) // step)
        if 0 <= i < n:
            counts[i][verdict] = counts[i].get(verdict, 0) + 1
    return _timeline_geometry(counts, start, step)


def _timeline_geometry(counts: list[dict[str, int]], start: float, step: int) -> Timeline:
    width, height, left, top, bottom = 720, 170, 40, 10, 24
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max(1, max(sum(c.values()) for c in counts))
    slot = plot_w / len(counts)
    gap = min(2.0, slot * 0.2)
    rects: list[Rect] = []
    for i, bucket in enumerate(counts):
        begin = _moment(start + i * step)
        label = f"{_clock(begin, step)}–{_clock(_moment(start + (i + 1) * step), step)} UTC"
        y = float(top + plot_h)
        for verdict, count in bucket.items():
            if count:
                h = count / peak * plot_h
                y -= h
                rects.append(
                    Rect(
                        left + i * slot + gap / 2,
                        y,
                        max(slot - gap, 1.0),
                        h,
                        verdict,
                        f"{label}: {count} {verdict}",
                    )
                )
    picks = sorted({0, len(counts) // 2, len(counts) - 1})
    x_ticks = [
        Tick(left + (i + 0.5) * slot, _clock(_moment(start + i * step), step)) for i in picks
    ]
    y_ticks = [Tick(top + plot_h - v / peak * plot_h, str(v)) for v in sorted({0, peak // 2, peak})]
    return Timeline(
        width, height, left, top, plot_w, plot_h, rects, x_ticks, y_ticks, _duration(step)
    )


_FIRST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LAST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _moment(timestamp: float) -> datetime:
    """The UTC time of a bucket edge; a window reaching year 1 or 9999 is clamped, not a 500."""
    return datetime.fromtimestamp(min(max(timestamp, _FIRST), _LAST), UTC)


def _clock(moment: datetime, step: int) -> str:
    if step > 7 * 86400:  # a window of a year or more: buckets need the year
        return f"{moment.year:04d}-{moment:%m-%d}"
    if step >= 86400:
        return moment.strftime("%m-%d")
    if step >= 3600:
        return moment.strftime("%m-%d %H:00")
    return moment.strftime("%H:%M")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# -- attributions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One feature's attribution bar; `x`/`w` span from the zero line to the value."""

    name: str
    label: str
    value: float
    text: str
    x: float
    w: float
    y: float
    positive: bool
    text_x: float
    anchor: str


@dataclass(frozen=True, slots=True)
class Check:
    """The attribution's own correctness check (SHAP additivity gap, IG convergence delta)."""

    name: str
    value: str
    ok: bool | None
    tolerance: str | None


@dataclass(frozen=True, slots=True)
class AttributionChart:
    """A sorted, signed bar chart of one attribution, with its base value and check."""

    method: str
    target: str | None
    versus: str | None
    base_value: str
    output: str
    total: str
    check: Check | None
    bars: list[Bar]
    omitted: int
    omitted_sum: str
    width: int
    height: int
    zero_x: float
    label_w: int
    row_h: int
    compute_ms: str | None
    problems: list[str] = field(default_factory=list)


def attribution_chart(data: Mapping[str, Any]) -> AttributionChart:
    """Lay out an attribution dict's bars sorted by magnitude (the top 20, the rest summed)."""
    names, raw = _list(data.get("feature_names")), _list(data.get("values"))
    inputs = _list(data.get("inputs"))
    problems: list[str] = []
    if len(names) != len(raw):
        problems.append(f"{len(names)} feature names but {len(raw)} values")
    pairs: list[tuple[str, str, float]] = []
    for i, value in enumerate(raw):
        v = number(value)
        name = str(names[i]) if i < len(names) else f"feature {i}"
        if v is None:
            problems.append(f"value of {name!r} is not a finite number: {value!r}")
            continue
        shown = number(inputs[i]) if i < len(inputs) else None
        suffix = f" = {fmt(shown)}" if shown is not None else ""
        label = _short(name, max(_LABEL_CHARS - len(suffix), 12)) + suffix  # the input stays
        pairs.append((name, label, v))
    pairs.sort(key=lambda p: -abs(p[2]))
    top, rest = pairs[:_TOP_FEATURES], pairs[_TOP_FEATURES:]
    base = number(data.get("base_value"))
    total = sum(p[2] for p in pairs)
    output = number(data.get("output"))
    if output is None and base is not None:
        output = base + total
    chart = _bars(top)
    return AttributionChart(
        method=str(data.get("method") or "unknown method"),
        target=None if data.get("target") is None else str(data.get("target")),
        versus=None if data.get("versus") is None else str(data.get("versus")),
        base_value=fmt(base),
        output=fmt(output),
        total=fmt(total),
        check=_check(data),
        bars=chart[0],
        omitted=len(rest),
        omitted_sum=fmt(sum(p[2] for p in rest)),
        width=chart[1],
        height=chart[2],
        zero_x=chart[3],
        label_w=chart[4],
        row_h=chart[5],
        compute_ms=fmt(number(data.get("compute_ms")), 2) if "compute_ms" in data else None,
        problems=problems,
    )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _bars(pairs: list[tuple[str, str, float]]) -> tuple[list[Bar], int, int, float, int, int]:
    # label_w holds _LABEL_CHARS of 12px text, capitals included, right-aligned at its edge
    width, label_w, pad, row_h, top = 720, 300, 64, 24, 6
    lo = min([0.0, *(p[2] for p in pairs)])
    hi = max([0.0, *(p[2] for p in pairs)])
    span = (hi - lo) or 1.0
    plot_left, plot_w = label_w + pad, width - label_w - 2 * pad
    zero = plot_left + (0 - lo) / span * plot_w
    bars = []
    for i, (name, label, value) in enumerate(pairs):
        end = plot_left + (value - lo) / span * plot_w
        positive = value >= 0
        bars.append(
            Bar(
                name=name,
                label=_short(label, _LABEL_CHARS),
                value=value,
                text=f"{value:+.4g}",
                x=min(zero, end),
                w=max(abs(end - zero), 1.0),
                y=top + i * row_h,
                positive=positive,
                text_x=end + 4 if positive else end - 4,
                anchor="start" if positive else "end",
            )
        )
    height = top * 2 + max(1, len(pairs)) * row_h
    return bars, width, height, zero, label_w, row_h


def _check(data: Mapping[str, Any]) -> Check | None:
    nested = data.get("check")
    if isinstance(nested, Mapping):
        name, value, ok = nested.get("name"), nested.get("value"), nested.get("ok")
        tolerance = nested.get("tolerance", data.get("tolerance"))
    elif "check_name" in data or "check_value" in data:
        name, value, ok = data.get("check_name"), data.get("check_value"), data.get("check_ok")
        tolerance = data.get("tolerance")
    else:
        return None
    return Check(
        name=str(name or "check"),
        value=fmt(number(value), 6),
        ok=ok if isinstance(ok, bool) else None,
        tolerance=fmt(number(tolerance), 6) if number(tolerance) is not None else None,
    )


# -- search trees -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """One root action of the search, as a box with its statistics."""

    label: str
    full_label: str
    stats: str
    visits: int
    share: float
    q: str
    prior: str
    outcome: str
    chosen: bool
    shielded: bool
    shield_rule: str
    x: int
    y: int
    w: int
    h: int
    bar_w: float
    edge_w: float


@dataclass(frozen=True, slots=True)
class PvStep:
    """One move of the principal variation after the chosen action."""

    text: str
    full: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True, slots=True)
class TreeChart:
    """A one-level search tree: the root, its actions, and the principal variation."""

    chosen: str
    rule: str
    simulations: str
    text: str
    nodes: list[Node]
    pv: list[PvStep]
    pv_more: int
    pv_all: list[str]
    root_x: int
    root_y: int
    root_w: int
    root_h: int
    width: int
    height: int
    shielded_only: list[tuple[str, str]]
    substituted_for: str | None
    problems: list[str] = field(default_factory=list)


def tree_chart(data: Mapping[str, Any]) -> TreeChart:
    """Lay out a rationale dict: root actions by visits, shielded ones greyed, then the PV."""
    actions = (
        [a for a in data.get("actions", []) if isinstance(a, Mapping)]
        if isinstance(data.get("actions"), list)
        else []
    )
    problems = [] if actions else ["the rationale lists no root actions"]
    shields = _shield_rules(data)
    chosen = data.get("chosen")
    ordered = sorted(actions, key=lambda a: (_is_shielded(a, shields), -(_int(a.get("visits")))))
    box_w, box_h, gap, node_x, top = 300, 58, 10, 200, 10
    nodes = []
    for i, a in enumerate(ordered):
        nodes.append(_node(a, shields, chosen, node_x, top + i * (box_h + gap), box_w, box_h))
    height = max(top * 2 + len(nodes) * (box_h + gap), 120)
    pv_all = (
        [str(step) for step in data.get("principal_variation", [])]
        if isinstance(data.get("principal_variation"), list)
        else []
    )
    named = data.get("principal_variation_labels")
    if isinstance(named, list) and len(named) == len(pv_all):  # the moves' names, when given
        pv_all = [str(step) for step in named]
    chosen_node = next((n for n in nodes if n.chosen), None)
    tail = (
        pv_all[1:]
        if pv_all and chosen_node and pv_all[0] in (str(chosen), chosen_node.full_label)
        else pv_all
    )
    pv, more = _pv(tail[:4], chosen_node, node_x + box_w), max(0, len(tail) - 4)
    width = max(720, node_x + box_w + 30 + len(pv) * 130 + (60 if more else 0))
    listed = {str(a.get("action")) for a in actions} | {str(a.get("label")) for a in actions}
    return TreeChart(
        chosen=_chosen_text(data.get("chosen_label"), chosen),
        rule=str(data.get("rule") or "—"),
        simulations=str(data.get("simulations", "—")),
        text=str(data.get("text") or ""),
        nodes=nodes,
        pv=pv,
        pv_more=more,
        pv_all=pv_all,
        root_x=10,
        root_y=height // 2 - 30,
        root_w=150,
        root_h=60,
        width=width,
        height=height,
        shielded_only=[(k, v) for k, v in shields.items() if k not in listed],
        substituted_for=_action_text(actions, data.get("substituted_for")),
        problems=problems,
    )


def _action_text(actions: Sequence[Mapping[str, Any]], action: object) -> str | None:
    """A root action by its label when the rationale lists one (the id alone says little)."""
    if action is None:
        return None
    found = next((a for a in actions if a.get("action") == action), None)
    label = found.get("label") if found is not None else None
    return str(action) if label is None else str(label)


def _chosen_text(label: object, chosen: object) -> str:
    if label is not None:
        return str(label)
    return "—" if chosen is None else str(chosen)


def _int(value: object) -> int:
    v = number(value)
    return int(v) if v is not None else 0


def _shield_rules(data: Mapping[str, Any]) -> dict[str, str]:
    rules: dict[str, str] = {}
    shielded = data.get("shielded")
    for s in shielded if isinstance(shielded, list) else []:
        if isinstance(s, Mapping):
            rules[str(s.get("action"))] = str(s.get("rule") or "shield")
        elif isinstance(s, str | int):
            rules[str(s)] = "shield"
    return rules


def _is_shielded(a: Mapping[str, Any], shields: Mapping[str, str]) -> bool:
    return bool(a.get("shielded")) or str(a.get("action")) in shields


def _node(
    a: Mapping[str, Any],
    shields: Mapping[str, str],
    chosen: object,
    x: int,
    y: int,
    w: int,
    h: int,
) -> Node:
    visits = _int(a.get("visits"))
    share = number(a.get("visit_share")) or 0.0
    share = min(max(share, 0.0), 1.0)
    shielded = _is_shielded(a, shields)
    rule = str(a.get("shield_rule") or shields.get(str(a.get("action")), "")) if shielded else ""
    label = str(a.get("label") if a.get("label") is not None else a.get("action"))
    q, prior = fmt(number(a.get("q"))), fmt(number(a.get("prior")))
    is_chosen = chosen is not None and (a.get("action") == chosen or a.get("label") == chosen)
    stats = f"{visits} visits ({share:.0%}) · Q {q} · prior {prior}"
    return Node(
        label=_short(label, 34),
        full_label=label,
        stats=stats,
        visits=visits,
        share=share,
        q=q,
        prior=prior,
        outcome=fmt(number(a.get("outcome"))),
        chosen=is_chosen,
        shielded=shielded,
        shield_rule=rule,
        x=x,
        y=y,
        w=w,
        h=h,
        bar_w=(w - 20) * share,
        edge_w=1.0 + 5.0 * share,
    )


def _pv(steps: list[str], chosen: Node | None, start_x: int) -> list[PvStep]:
    if chosen is None:
        return []
    y = chosen.y + chosen.h // 2 - 15
    return [
        PvStep(_short(s, 14), s, start_x + 30 + i * 130, y, 100, 30) for i, s in enumerate(steps)
    ]
