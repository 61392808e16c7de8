"""Request and response models of the /v1 API (they are the OpenAPI document's schemas)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from guard._models import Decision, DecisionEventV1, Verdict

__all__ = [
    "ActionIn",
    "BatchRequest",
    "CheckRequest",
    "ConsistencyOut",
    "DecisionPage",
    "DecisionPageItem",
    "ErrorBody",
    "ErrorResponse",
    "EscalationOut",
    "EscalationPage",
    "HeadOut",
    "ApiIndex",
    "Health",
    "PolicyDetail",
    "PolicyPage",
    "PolicySummary",
    "ProofOut",
    "RankItemIn",
    "RankRequest",
    "ReloadOut",
    "ResolutionOut",
    "ResolveRequest",
    "ReviewOut",
    "ReviewPage",
    "ReviewRequest",
    "ShieldRequest",
    "ShieldHit",
    "ShieldResult",
    "ShieldOut",
    "TOOL_CALLS",
    "ToolCall",
    "ToolUse",
    "FunctionCall",
    "DecisionList",
]

_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_TEXT = 2000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Any JSON object; the engine checks the rest (64-bit integers, depth, size: 422 or 413).
JsonObject = dict[str, Any]


# -- errors -----------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """A machine-readable `code` (stable), a sentence for people, and structured details."""

    code: str = Field(examples=["policy_not_found"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer has this shape."""

    error: ErrorBody


# -- checking ---------------------------------------------------------------------------------


class ActionIn(BaseModel):
    """A proposed action in the native form; extra top-level fields are kept and checked."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    kind: str = Field(min_length=1, max_length=200, examples=["release_payment"])
    actor: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(
        default=None,
        max_length=200,
        description="Must be absent or equal to the key's tenant; the key's tenant is applied.",
    )
    params: JsonObject = Field(default_factory=dict)


# A tool call's arguments: a JSON object, or a string holding one (as OpenAI sends them).
Arguments = (
    JsonObject
    | Annotated[
        str,
        Field(
            json_schema_extra={
                "contentMediaType": "application/json",
                "contentSchema": {"type": "object"},
            }
        ),
    ]
)


class ToolFunction(_In):
    """The function of an OpenAI-style tool call; `arguments` is a JSON object or its text."""

    name: str = Field(min_length=1, max_length=200)
    arguments: Arguments = Field(
        default_factory=dict,
        description='A JSON object, or a string holding one (as OpenAI sends it: "{\\"q\\": 1}").',
    )


class ToolCall(BaseModel):
    """An OpenAI-style tool call; the function name becomes the action's kind."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    type: Literal["function"]
    function: ToolFunction
    id: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(default=None, max_length=200)


class FunctionCall(BaseModel):
    """A tool call as OpenAI's Responses API gives it; `name` becomes the action's kind."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    type: Literal["function_call"]
    name: str = Field(min_length=1, max_length=200)
    arguments: Arguments = Field(
        default_factory=dict, description="A JSON object, or a string holding one."
    )
    id: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(default=None, max_length=200)


class ToolUse(BaseModel):
    """A tool call as Anthropic's Messages API gives it (a `tool_use` block); `name`
    becomes the action's kind and `input` its params."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    type: Literal["tool_use"]
    name: str = Field(min_length=1, max_length=200)
    input: JsonObject = Field(default_factory=dict)
    id: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(default=None, max_length=200)


#: The tool-call forms an action may take besides the native one.
TOOL_CALLS = (ToolCall, FunctionCall, ToolUse)
AnyAction = ActionIn | ToolCall | FunctionCall | ToolUse

# A candidate's position in the caller's own list of actions (e.g. a score vector whose
# masked actions it left out); the sidecar pads up to it, so it is bounded.
MAX_POSITION = 9_999
Position = Annotated[StrictInt, Field(ge=0, le=MAX_POSITION)]
Candidate = tuple[AnyAction, StrictFloat] | tuple[AnyAction, StrictFloat, Position]


class CheckRequest(BaseModel):
    """One action to decide; with `candidates`, the best one that is not denied is chosen."""

    # Exactly what the handler needs: an action, or candidates, never both.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["action"]}, {"required": ["candidates"]}]},
    )

    policy: str | None = Field(
        default=None,
        pattern=_NAME,
        description="The pack's name; optional when the sidecar loads exactly one pack.",
    )
    action: AnyAction = Field(  # type: ignore[assignment]
        default=None, description="The action; omit it when `candidates` are given."
    )
    context: JsonObject | None = None
    candidates: list[Candidate] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=1,
        max_length=100,
        description="[[action, probability], ...]: alternatives, tried best first; a denied "
        "first choice is replaced by the best one not denied (see decision.substitution). "
        "[[action, probability, index], ...] gives each alternative's index in the caller's "
        f"own list of actions (0 to {MAX_POSITION:,}; e.g. scores over declared actions, the "
        "masked ones left out): decision.substitution then reports those indices.",
    )
    explanations: list[JsonObject] | None = Field(
        default=None,
        max_length=10,
        description="Explanations computed by the caller (e.g. a planner's search-tree "
        "rationale or an attribution), recorded with the decision as they are. Rules do "
        "not read them from here: to let rules read `rationale` / `attribution`, put those "
        "figures in `context` too (as `Rationale.as_dict()` / `Attribution.as_dict()` give them).",
    )

    @model_validator(mode="after")
    def _one_of(self) -> CheckRequest:
        if self.action is not None and self.candidates is not None:
            raise ValueError("give either 'action' or 'candidates', not both")
        positions = [c[2] for c in self.candidates or () if len(c) == 3]
        if positions and len(positions) != len(self.candidates):
            raise ValueError("give every candidate an index ([action, probability, index]) or none")
        if len(set(positions)) != len(positions):
            twice = sorted({i for i in positions if positions.count(i) > 1})
            raise ValueError(f"candidate indices must be unique; {twice} given more than once")
        return self


class BatchRequest(_In):
    """Several actions decided with one PII pass and one audit transaction."""

    policy: str | None = Field(default=None, pattern=_NAME)
    # No cap here: the sidecar's `max_batch` (default 1,000) refuses more, 413 batch_too_large.
    actions: list[AnyAction] = Field(
        min_length=1, description="At most the sidecar's max_batch actions (default 1,000)."
    )
    context: JsonObject | None = None


class DecisionList(BaseModel):
    """The decisions of a batch, in the order of the actions (never more than one page)."""

    items: list[Decision]
    next_cursor: str | None = None


class RankItemIn(BaseModel):
    """One ranked item: an id, a score and any other fields the pack's item rules read."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Any] = Field(init=False)

    # Omitted, not null: an item without one is known by its position, as in process.
    id: StrictStr | StrictInt = Field(  # type: ignore[assignment]
        default=None,
        description="A string or an integer (not a boolean); when omitted, the item's "
        "position in the list (0 first). Ids must be unique.",
    )
    # A number, kept as given (3 stays 3, as in process); a JSON true is not 1.
    score: StrictInt | StrictFloat | None = None


class RankRequest(_In):
    """A ranking, best first; item rules and list caps filter it."""

    policy: str | None = Field(default=None, pattern=_NAME)
    items: list[RankItemIn] = Field(max_length=10_000)
    context: JsonObject | None = None
    actor: str | None = Field(default=None, max_length=200)
    query: str | None = Field(default=None, max_length=_TEXT)


class ShieldRequest(_In):
    """Candidate actions for a planner: which of them may run now (nothing is recorded)."""

    policy: str | None = Field(default=None, pattern=_NAME)
    # No cap here: the sidecar's `max_batch` (default 1,000) refuses more, 413 batch_too_large.
    actions: list[AnyAction] = Field(
        min_length=1, description="At most the sidecar's max_batch actions (default 1,000)."
    )
    context: JsonObject | None = None


class ShieldHit(BaseModel):
    """A rule that fired on a candidate, and what it asked for."""

    rule_id: str
    effect: Verdict


class ShieldResult(BaseModel):
    """The verdict for one candidate, by its index in the request: `rule_ids` names every
    rule that fired (allow rules too), `hits` says each one's effect. A redacted candidate
    comes back as it may run, in `final_action` (its redacted fields replaced)."""

    index: int
    verdict: Verdict
    allowed: bool
    rule_ids: list[str]
    hits: list[ShieldHit]
    final_action: dict[str, Any] | None = Field(
        default=None, description="For a redact verdict, the action as it may run; else null."
    )


class ShieldOut(BaseModel):
    """The indexes of the candidates allowed now, and every candidate's verdict."""

    allowed: list[int]
    items: list[ShieldResult]
    next_cursor: str | None = None


# -- policies ---------------------------------------------------------------------------------


class PolicySummary(BaseModel):
    """A loaded pack: name, version and the digest recorded in every decision."""

    name: str
    version: int | str
    digest: str
    description: str
    rules: int
    pii: bool
    shadow: str | None = Field(default=None, description="The candidate pack's digest, if any.")


class PolicyPage(BaseModel):
    """The loaded packs (all of them: never more than one page)."""

    items: list[PolicySummary]
    next_cursor: str | None = None


class RuleOut(BaseModel):
    """One rule, as loaded."""

    id: str
    scope: str
    effect: Verdict
    severity: str
    description: str


class PolicyDetail(PolicySummary):
    """A loaded pack with its YAML source and rules."""

    source: str
    file: str | None = Field(
        description="The file the pack was loaded from: its path on the server for an "
        "admin key bound to no tenant (an operator), its file name only for any other key; "
        "null for a pack not loaded from a file"
    )
    rule_list: list[RuleOut]


class ReloadOut(BaseModel):
    """The packs serving after a successful reload."""

    reloaded: bool
    items: list[PolicySummary]


# -- decisions and the audit log ------------------------------------------------------------


class DecisionPageItem(BaseModel):
    """One decision as recorded: its audit record (PII masked), position and leaf hash."""

    index: int
    id: str
    leaf_hash: str
    record: DecisionEventV1


class DecisionPage(BaseModel):
    """A page of decisions, newest first."""

    items: list[DecisionPageItem]
    next_cursor: str | None


class HeadOut(BaseModel):
    """The signed tree head: Ed25519 over RFC 8785 JSON of {size, root, timestamp}."""

    size: int
    root: str
    timestamp: str
    signature: str | None
    key_id: str | None
    algorithm: Literal["ed25519"]
    public_key: str = Field(description="Raw Ed25519 public key, hex.")


class ProofOut(BaseModel):
    """An RFC 6962 inclusion proof: leaf_hash = SHA-256(0x00 || RFC 8785 bytes of record)."""

    record: DecisionEventV1
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root: str
    head: HeadOut = Field(description="The signed head of size tree_size whose root this is.")


class ConsistencyOut(BaseModel):
    """An RFC 6962 consistency proof between two tree sizes."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


# -- review ---------------------------------------------------------------------------------


# What shows nothing on its own: control characters (Cc), format characters (Cf: zero-width
# spaces and joiners, bidi controls, the BOM) and separators (Z*), besides whitespace.
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _visible(c: str) -> bool:
    return not c.isspace() and unicodedata.category(c) not in _INVISIBLE


def _names_someone(name: str) -> str:
    """A reviewer's name is recorded and shown as given: blank or invisible (spaces, a
    zero-width space, a bidi control alone), or with control characters (a NUL, a line
    break), it names no one a reader can tell apart."""
    if not any(_visible(c) for c in name) or any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("a reviewer's name needs a visible character and no control characters")
    return name


def _ranges(keep: Any) -> str:
    """The characters of the Basic Multilingual Plane for which `keep` holds, as a regex
    character-class body of \\uXXXX ranges (what a JSON Schema pattern reads everywhere)."""
    out: list[str] = []
    start = None
    for code in range(0x10001):
        inside = code <= 0xFFFF and not 0xD800 <= code <= 0xDFFF and keep(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            end = code - 1
            out.append(f"\\u{start:04x}" + (f"-\\u{end:04x}" if end > start else ""))
            start = None
    return "".join(out)


_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"  # Unicode's category Cc, as a regex range
_HIDDEN = _ranges(lambda c: not _visible(c))
Reviewer = Annotated[
    str,
    AfterValidator(_names_someone),
    # The same rule in the OpenAPI document (a pattern here would replace the message).
    Field(json_schema_extra={"pattern": f"^[^{_CONTROL}]*[^{_HIDDEN}][^{_CONTROL}]*$"}),
]


class ResolveRequest(_In):
    """A reviewer's outcome for a held action."""

    outcome: Literal["approve", "deny"]
    note: str = Field(default="", max_length=_TEXT)
    reviewer: Reviewer | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who decided; defaults to the key's name.",
    )


class ResolutionOut(BaseModel):
    """A resolution audit record (schema_version guard.resolution/v1)."""

    model_config = ConfigDict(extra="allow")

    schema_version: Literal["guard.resolution/v1"]
    id: str
    decision_id: str
    time: str
    tenant: str | None
    policy: str | None
    outcome: Literal["approve", "deny"]
    note: str = Field(description="PII in the note is masked before it is recorded.")
    reviewer: str = Field(description="The reviewer's name as given (default: the key's name).")
    key: str | None = Field(default=None, description="The API key that sent the outcome.")


class EscalationOut(BaseModel):
    """A held decision and its state: pending, approved or denied."""

    decision_id: str
    status: Literal["pending", "approved", "denied"]
    decision: DecisionEventV1
    resolution: ResolutionOut | None


class EscalationPage(BaseModel):
    """A page of escalations, newest first."""

    items: list[EscalationOut]
    next_cursor: str | None


class ReviewRequest(_In):
    """A reviewer's label on any decision."""

    label: Literal["correct", "false_positive", "false_negative"]
    note: str = Field(default="", max_length=_TEXT)
    reviewer: Reviewer | None = Field(default=None, min_length=1, max_length=200)


class ReviewOut(BaseModel):
    """A review audit record (schema_version guard.review/v1)."""

    model_config = ConfigDict(extra="allow")

    schema_version: Literal["guard.review/v1"]
    id: str
    decision_id: str
    time: str
    tenant: str | None
    policy: str | None
    label: Literal["correct", "false_positive", "false_negative"]
    note: str = Field(description="PII in the note is masked before it is recorded.")
    reviewer: str = Field(description="The reviewer's name as given (default: the key's name).")
    key: str | None = Field(default=None, description="The API key that sent the label.")


class ReviewPage(BaseModel):
    """A page of a decision's labels, newest first."""

    items: list[ReviewOut]
    next_cursor: str | None


# -- operations -----------------------------------------------------------------------------


class ApiIndex(BaseModel):
    """Where things are: the API's version and the paths of its docs, schema and console."""

    name: str
    version: str
    api: str
    docs: str | None
    openapi: str | None
    console: str | None


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "ready"]
    policies: int | None = None
    audit_size: int | None = None
