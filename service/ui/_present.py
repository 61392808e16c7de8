"""Turn audit records into what the templates show: rows, masked JSON, evidence, proofs.

Records come from the log as written by any version of the engine, so every reader here
tolerates missing keys and wrong types. Nothing here unmasks: PII placeholders are only
marked so that the template can highlight them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guard._exceptions import AuditError
from guard.audit import AuditLog, verify_head
from guard.detect._redact import PLACEHOLDER
from service.ui._charts import (
    AttributionChart,
    TreeChart,
    attribution_chart,
    fmt,
    number,
    tree_chart,
)
from service.ui._query import parse_time

__all__ = [
    "Explanation",
    "Piece",
    "Proof",
    "Row",
    "age",
    "evidence",
    "explanations",
    "hits",
    "masked_json",
    "pii_findings",
    "proof",
    "row",
    "shown_record",
    "when",
]

# Placeholders the masker writes (<EMAIL_ADDRESS>, <PERSON#abcd...>, ***), plus the
# generic "<masked>" of packs without a scanner.
_MASKED = re.compile(rf"{PLACEHOLDER.pattern}|<masked>")


def when(text: object) -> str:
    """A record time as 'YYYY-MM-DD HH:MM:SS UTC' (the raw text when it does not parse)."""
    moment = parse_time(str(text)) if text else None
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else str(text or "—")


def age(text: object, now: datetime) -> str:
    """How long ago a record time was: '42 s', '5 min', '3 h', '2 d'."""
    moment = parse_time(str(text)) if text else None
    if moment is None:
        return "—"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class Row:
    """One decision in the list."""

    id: str
    time: str
    age: str
    verdict: str
    mode: str
    policy: str
    version: str
    kind: str
    actor: str
    tenant: str
    rules: list[str]
    message: str
    pii: int
    shadow_verdict: str | None
    shadow_agrees: bool | None
    label: str | None


# Top-level copies of the action's keys that a pack may list as PII fields: records written
# before the engine masked the top-level actor too keep it as sent; the action holds it masked.
_COPIED = ("actor", "tenant")


def shown_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` as the console shows it: a top-level actor (or tenant) that the pack listed
    as a PII field and that the scan masked or erased is shown as its masked action holds
    it ('<EMAIL_ADDRESS>'), not as sent."""
    action = record.get("action")
    hidden = {
        str(f)
        for key in ("masked", "erased")
        if isinstance(record.get(key), list)
        for f in record[key]
    }
    shown = dict(record)
    for key in _COPIED:
        if key not in hidden or not isinstance(shown.get(key), str):
            continue
        value = action.get(key) if isinstance(action, dict) else None
        shown[key] = value if isinstance(value, str) else "<masked>"
    return shown


def row(record: Mapping[str, Any], now: datetime, label: str | None) -> Row:
    """The list row of a decision record."""
    record = shown_record(record)
    found = _dicts(record.get("hits"))
    rules = list(dict.fromkeys(str(h.get("rule_id", "?")) for h in found))
    shadow = record.get("shadow") if isinstance(record.get("shadow"), dict) else None
    return Row(
        id=str(record.get("id", "")),
        time=when(record.get("time")),
        age=age(record.get("time"), now),
        verdict=str(record.get("verdict", "?")),
        mode=str(record.get("mode") or "enforce"),
        policy=str(record.get("policy", "")),
        version=str(record.get("policy_version", "")),
        kind=str(record.get("kind") or ("ranking" if record.get("items") is not None else "")),
        actor=str(record.get("actor") or ""),
        tenant=str(record.get("tenant") or ""),
        rules=rules,
        message=_message(found, str(record.get("verdict", ""))),
        pii=len(_dicts(record.get("pii"))),
        shadow_verdict=str(shadow.get("verdict")) if shadow else None,
        shadow_agrees=bool(shadow.get("agrees")) if shadow else None,
        label=label,
    )


def _message(found: list[dict[str, Any]], verdict: str) -> str:
    """The message of the hit that set the verdict (else the first message)."""
    deciding = [h for h in found if h.get("effect") == verdict and h.get("message")]
    chosen = deciding or [h for h in found if h.get("message")]
    return str(chosen[0]["message"]) if chosen else ""


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text; `masked` marks a PII placeholder the template highlights."""

    text: str
    masked: bool = False


def pieces(text: str) -> list[Piece]:
    """Split text into plain runs and PII placeholders."""
    out: list[Piece] = []
    last = 0
    for m in _MASKED.finditer(text):
        if m.start() > last:
            out.append(Piece(text[last : m.start()]))
        out.append(Piece(m.group(0), True))
        last = m.end()
    if last < len(text):
        out.append(Piece(text[last:]))
    return out


def masked_json(value: object) -> list[Piece]:
    """Pretty JSON of a (masked) value, split so placeholders can be highlighted."""
    return pieces(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def compact(value: object) -> list[Piece]:
    """One-line JSON of an evidence value, split at placeholders."""
    if isinstance(value, str):
        return pieces(value)
    return pieces(json.dumps(value, ensure_ascii=False, default=str))


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule hit with its clause-level evidence."""

    rule_id: str
    effect: str
    severity: str
    message: list[Piece]
    evidence: list[tuple[str, list[Piece]]]
    error: str | None
    item_id: str | None


def hits(value: object) -> list[Hit]:
    """The hits of a record (or of its shadow result)."""
    return [
        Hit(
            rule_id=str(h.get("rule_id", "?")),
            effect=str(h.get("effect", "?")),
            severity=str(h.get("severity") or ""),
            message=pieces(str(h.get("message") or "")),
            evidence=evidence(h.get("evidence")),
            error=str(h["error"]) if h.get("error") else None,
            item_id=None if h.get("item_id") is None else str(h.get("item_id")),
        )
        for h in _dicts(value)
    ]


def evidence(value: object) -> list[tuple[str, list[Piece]]]:
    """Clause -> value pairs, in the record's order."""
    if not isinstance(value, dict):
        return []
    return [(str(k), compact(v)) for k, v in value.items()]


@dataclass(frozen=True, slots=True)
class Finding:
    """A PII finding: never the value, only what, where and who found it."""

    entity_type: str
    field: str
    span: str
    score: str
    recognizer: str


def pii_findings(value: object) -> list[Finding]:
    """The PII findings of a record."""
    out = []
    for f in _dicts(value):
        start, end = f.get("start"), f.get("end")
        span = f"{start}–{end}" if start is not None or end is not None else "—"
        out.append(
            Finding(
                str(f.get("entity_type", "?")),
                str(f.get("field", "?")),
                span,
                fmt(number(f.get("score")), 2),
                str(f.get("recognizer") or "—"),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Explanation:
    """One explanation: a chart for attributions and rationales, raw JSON for anything else."""

    kind: str
    attribution: AttributionChart | None = None
    tree: TreeChart | None = None
    reason: str = ""
    raw: list[Piece] = field(default_factory=list)


def explanations(value: object) -> list[Explanation]:
    """Charts for a record's explanations; an unreadable one becomes its JSON, not an error."""
    return list(_explanations(value))


def _explanations(value: object) -> Iterator[Explanation]:
    for data in _dicts(value):
        kind = str(data.get("kind", "unknown"))
        try:
            if kind == "attribution":
                yield Explanation(kind, attribution=attribution_chart(data))
                continue
            if kind == "rationale":
                yield Explanation(kind, tree=tree_chart(data))
                continue
        except (TypeError, ValueError, AttributeError) as exc:  # a malformed record
            yield Explanation(kind, reason=f"cannot draw this {kind}: {exc}", raw=masked_json(data))
            continue
        reason = str(data.get("reason") or "") if kind == "unavailable" else ""
        yield Explanation(kind, reason=reason, raw=masked_json(data))


@dataclass(frozen=True, slots=True)
class Proof:
    """Whether a record is in the log under the current signed tree head."""

    ok: bool
    included: bool
    head_signed: bool
    size: int | None = None
    root: str = ""
    leaf_index: int | None = None
    leaf_hash: str = ""
    path_len: int = 0
    timestamp: str = ""
    key_id: str = ""
    error: str = ""


def proof(audit: AuditLog, record_id: str) -> Proof:
    """Verify a record's inclusion proof against a freshly signed head of the same size."""
    try:
        head = audit.head()
        inclusion = audit.inclusion(record_id, tree_size=head.size)
        included = inclusion.verify() and inclusion.root == head.root
        signed = verify_head(head, audit.public_key_hex)
    except (AuditError, ValueError) as exc:
        return Proof(False, False, False, error=str(exc))
    return Proof(
        ok=included and signed,
        included=included,
        head_signed=signed,
        size=head.size,
        root=head.root,
        leaf_index=inclusion.leaf_index,
        leaf_hash=inclusion.leaf_hash,
        path_len=len(inclusion.audit_path),
        timestamp=head.timestamp,
        key_id=head.key_id or "",
    )
