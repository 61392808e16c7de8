"""Pydantic models of the guard's public contract: actions, hits, findings, decisions, records."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

M = TypeVar("M", bound=BaseModel)


# pydantic's own slots, set through their descriptors: the cheapest way in from Python.
_DICT, _FIELDS_SET, _EXTRA, _PRIVATE = (
    vars(BaseModel)[name].__set__
    for name in (
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    )
)


_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


def fast_model(cls: type[M], values: dict[str, Any]) -> M:
    """Build a model from values the engine made itself, skipping validation (hot path).

    `values` becomes the model's `__dict__` (not copied): it must name every field, with
    values of the declared types, and the caller must not keep using it.
    """
    obj = cls.__new__(cls)
    _DICT(obj, values)
    # Every field is set, so models of one class can share one set: pydantic only ever adds
    # a field's name to it (on assignment), and copies it for model_copy().
    names = _ALL_FIELDS.get(cls)
    if names is None or len(values) != len(names):
        names = set(values)
        if cls.model_config.get("extra") != "allow" and names == set(cls.model_fields):
            _ALL_FIELDS[cls] = names
    _FIELDS_SET(obj, names)
    _EXTRA(obj, None)
    _PRIVATE(obj, None)
    return obj


class Verdict(str, Enum):
    """The outcome of a decision, ordered by precedence (deny is strongest)."""

    ALLOW = "allow"
    REDACT = "redact"
    ESCALATE = "escalate"
    DENY = "deny"

    def __str__(self) -> str:
        return self.value


# Precedence: deny > escalate > redact > allow.
RANK: dict[Verdict, int] = {
    Verdict.ALLOW: 1,
    Verdict.REDACT: 2,
    Verdict.ESCALATE: 3,
    Verdict.DENY: 4,
}

Scope = Literal["action", "item", "list"]
Mode = Literal["enforce", "shadow"]


class Action(BaseModel):
    """A proposed agent action: a kind, who proposes it, and its parameters."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(min_length=1, max_length=200)
    actor: str | None = None
    tenant: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class RankedItem(BaseModel):
    """One item of a ranking: an id, a score and any other fields rules may read."""

    model_config = ConfigDict(extra="allow")

    id: str | int
    score: float | None = None


class RuleHit(BaseModel):
    """A rule whose condition held (or failed to evaluate) for this input."""

    rule_id: str
    effect: Verdict
    message: str = ""
    severity: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    item_id: str | int | None = None


class PiiFinding(BaseModel):
    """A span of personal data found in one field: never the raw value, only where and what."""

    entity_type: str
    field: str
    start: int
    end: int
    score: float
    recognizer: str = ""
    value_hash: str | None = None


class PiiReport(BaseModel):
    """What the PII scan did: which fields and entities it covered, and what it could not."""

    detectors: list[str] = Field(default_factory=list)
    entities_scanned: list[str] = Field(default_factory=list)
    entities_not_scanned: list[str] = Field(default_factory=list)
    fields_scanned: list[str] = Field(default_factory=list)
    fields_missing: list[str] = Field(default_factory=list)
    field_errors: dict[str, str] = Field(default_factory=dict)


class Substitution(BaseModel):
    """The policy's first choice was not allowed; a lower-ranked alternative ran instead."""

    original_index: int
    chosen_index: int
    reason: str
    rejected: list[dict[str, Any]] = Field(default_factory=list)


class ItemOutcome(BaseModel):
    """What happened to one ranked item: kept, redacted or dropped, and why."""

    id: str | int
    rank: int
    verdict: Verdict
    rule_ids: list[str] = Field(default_factory=list)
    reason: str = ""


class ShadowResult(BaseModel):
    """The candidate policy's verdict, computed beside the live one but never enforced."""

    policy: str
    version: int | str
    digest: str
    verdict: Verdict
    hits: list[RuleHit] = Field(default_factory=list)
    agrees: bool


_ACTION_DIGEST = (
    "'sha256:' and the SHA-256 hex of the action as sent (before any masking): its JSON with "
    "keys sorted and no spaces, numbers as written (1.0 stays 1.0, unlike RFC 8785). It "
    "identifies the action a decision is about; the recorded action may be masked."
)


class Decision(BaseModel):
    """The guard's answer for one action or ranking, with its evidence."""

    id: str
    time: datetime
    tenant: str | None = None
    actor: str | None = None
    kind: str | None = None
    policy: str
    policy_version: int | str
    policy_digest: str
    mode: Mode = "enforce"
    verdict: Verdict
    hits: list[RuleHit] = Field(default_factory=list)
    pii: list[PiiFinding] = Field(default_factory=list)
    pii_report: PiiReport | None = None
    final_action: dict[str, Any] | None = None
    action_digest: str = Field(description=_ACTION_DIGEST)
    substitution: Substitution | None = None
    items: list[ItemOutcome] | None = None
    final_items: list[dict[str, Any]] | None = None
    shadow: ShadowResult | None = None
    explanations: list[dict[str, Any]] = Field(default_factory=list)
    timings_us: dict[str, float] = Field(default_factory=dict)
    audited: bool = False

    @property
    def allowed(self) -> bool:
        """True when the (possibly redacted) action may run now."""
        return self.verdict in (Verdict.ALLOW, Verdict.REDACT)


class DecisionEventV1(BaseModel):
    """The versioned audit record of one decision; PII is masked, erased fields are listed."""

    schema_version: Literal["guard.decision/v1"] = "guard.decision/v1"
    id: str
    time: str
    policy: str
    policy_version: int | str
    policy_digest: str
    mode: Mode
    tenant: str | None
    actor: str | None
    kind: str | None
    action_digest: str = Field(description=_ACTION_DIGEST)
    action: dict[str, Any] | None
    final_action: dict[str, Any] | None
    masked: list[str] = Field(default_factory=list)
    erased: list[str] = Field(default_factory=list)
    verdict: Verdict
    hits: list[RuleHit]
    pii: list[PiiFinding]
    pii_report: PiiReport | None
    substitution: Substitution | None = None
    items: list[ItemOutcome] | None = None
    shadow: ShadowResult | None = None
    explanations: list[dict[str, Any]] = Field(default_factory=list)
    timings_us: dict[str, float] = Field(default_factory=dict)
