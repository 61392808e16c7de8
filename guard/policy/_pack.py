"""Policy pack models: the YAML is parsed into these and rejected before anything runs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guard._models import Verdict
from guard.detect._settings import PiiSettings, _check_entity

PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}\Z")
RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+|\[\*\]|\[\d+\])*\Z")
Severity = Literal["info", "low", "medium", "high", "critical"]


class Defaults(BaseModel):
    """What happens when no rule hits, and when a rule cannot be evaluated."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict = Verdict.ALLOW
    on_error: Verdict = Verdict.DENY


class MatchSpec(BaseModel):
    """A cheap pre-filter on the action's kind, checked before the condition."""

    model_config = ConfigDict(extra="forbid")

    kind: list[str] = Field(min_length=1)

    @field_validator("kind", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class CapSpec(BaseModel):
    """A list-scope limit: at most `max` surviving items share one value of `by`."""

    model_config = ConfigDict(extra="forbid")

    by: str
    max: StrictInt = Field(ge=0)  # a YAML `true` is not 1

    @field_validator("by")
    @classmethod
    def _path(cls, value: str) -> str:
        if not PATH.match(value) or not value.startswith("item."):
            raise ValueError(f"cap.by must be a dotted path under item, got {value!r}")
        return value


class RuleSpec(BaseModel):
    """One rule of a pack, as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    id: str
    description: str = ""
    match: MatchSpec | None = None
    scope: Literal["action", "item", "list"] = "action"
    when: str | None = None
    cap: CapSpec | None = None
    effect: Verdict = Verdict.DENY
    message: str = ""
    severity: Severity = "medium"
    on_error: Verdict | None = None
    redact: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _rule_id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(
                f"rule id {value!r} must be 1 to 128 ASCII letters, digits and _ . : -, "
                "starting with a letter or digit"
            )
        return value

    @field_validator("redact")
    @classmethod
    def _redact_paths(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bad = [p for p in value if not PATH.match(p)]
        if bad:
            raise ValueError(f"redact paths must be dotted paths, got {bad!r}")
        scope = info.data.get("scope", "action")
        for path in value:
            if path in ("kind", "item.id"):  # what the action is, which item it is
                raise ValueError(
                    f"{path!r} cannot be redacted: it says what the action is or which item; "
                    "deny the rule instead"
                )
            root = path.split(".", 1)[0].split("[", 1)[0]
            if scope == "item" and root != "item":
                raise ValueError(f"redact paths of an item rule start with item., got {path!r}")
            if scope != "item" and root in ("action", "context", "item", "items"):
                raise ValueError(
                    f"redact paths are relative to the action, as in params.card; got {path!r}"
                )
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _literal_condition(cls, value: Any) -> Any:
        # YAML reads `when: true` as a boolean; the condition language spells it true.
        return str(value).lower() if isinstance(value, bool) else value

    @field_validator("when")
    @classmethod
    def _no_list_condition(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("scope") == "list":
            raise ValueError("a scope: list rule needs `cap` and takes no `when`")
        return value

    @field_validator("cap")
    @classmethod
    def _cap_on_list(cls, value: CapSpec | None, info: ValidationInfo) -> CapSpec | None:
        if value is not None and info.data.get("scope", "list") != "list":
            raise ValueError("`cap` is only allowed on scope: list rules")
        return value

    @model_validator(mode="after")
    def _scope_shape(self) -> RuleSpec:
        # What is missing has no place of its own: these name the rule.
        if self.scope == "list" and self.cap is None:
            raise ValueError("a scope: list rule needs `cap` (and takes no `when`)")
        if self.scope != "list" and not self.when:
            raise ValueError(f"rule {self.id!r} needs a `when` condition")
        return self


class PackPiiSettings(PiiSettings):
    """A pack's `pii` section: the scanner's settings, and the entity types that a custom
    detector (`Guard(..., pii_detector=...)`) finds beyond the built-in engine's, which the
    loader would otherwise refuse as typos. The scanner never reads them, so they are left
    out of the pack's digest."""

    custom_entities: list[str] = Field(default_factory=list, exclude=True)

    @field_validator("custom_entities")
    @classmethod
    def _custom(cls, value: list[str]) -> list[str]:
        return [_check_entity(e, "pii.custom_entities item") for e in dict.fromkeys(value)]


class PolicyPackSpec(BaseModel):
    """A whole pack: name, version, defaults, PII settings and rules."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    version: StrictInt | StrictStr  # a YAML `true` is neither
    description: str = ""
    defaults: Defaults = Field(default_factory=Defaults)
    pii: PackPiiSettings | None = None
    rules: list[RuleSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PACK_NAME.match(value):
            raise ValueError(
                f"pack name {value!r} must be 1 to 64 lower-case ASCII letters, digits "
                "and . _ -, starting with a letter or digit: the pattern "
                "'^[a-z0-9][a-z0-9_.-]{0,63}$'"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("must be an integer or a string")
        if isinstance(value, str) and not value.strip():  # recorded in every decision
            raise ValueError("must not be blank: it tells reviewers which pack decided")
        return value
