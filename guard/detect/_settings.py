"""The `pii` section of a policy pack, validated before anything is built."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.detect._paths import parse_field

Operator = Literal["mask", "replace", "hash"]

ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}\Z")
REGION = re.compile(r"^[A-Z]{2}\Z")
# Presidio's PhoneRecognizer default regions.
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")
# Codes people write for a country that ISO 3166 (and phonenumbers) spell otherwise.
REGION_SPELLINGS = {"UK": "GB", "EL": "GR"}


def _unknown_regions(regions: list[str]) -> list[str]:
    """The codes phonenumbers has no numbering plan for (nothing, without phonenumbers:
    the scanner that needs it says how to install it)."""
    try:
        import phonenumbers
    except ImportError:
        return []
    known = phonenumbers.SUPPORTED_REGIONS
    return [r for r in regions if r not in known]


def _check_entity(value: str, what: str) -> str:
    if not ENTITY_NAME.match(value):
        raise ValueError(
            f"{what} must be an upper-case entity name like 'EMAIL_ADDRESS', got {value!r}"
        )
    return value


class RecognizerSpec(BaseModel):
    """A custom recognizer declared in YAML, in Presidio's ad-hoc recognizer format.

    `patterns` items are `{name, regex, score}` mappings (Presidio's `Pattern.from_dict`);
    `deny_list` values are matched as whole words, case-insensitively.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    supported_entity: str
    patterns: list[dict[str, Any]] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    supported_language: str = "en"

    @field_validator("supported_entity")
    @classmethod
    def _entity(cls, value: str) -> str:
        return _check_entity(value, "supported_entity")

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [_check_pattern(i, p) for i, p in enumerate(value)]

    @field_validator("deny_list")
    @classmethod
    def _deny(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("deny_list values must be non-empty strings")
        return value

    @model_validator(mode="after")
    def _something_to_match(self) -> RecognizerSpec:
        if not self.patterns and not self.deny_list:
            raise ValueError(f"recognizer {self.name!r} needs patterns or a deny_list")
        return self


def _check_pattern(index: int, pattern: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(pattern) - {"name", "regex", "score"})
    if unknown:
        raise ValueError(
            f"patterns[{index}] has unknown keys {unknown}; expected name, regex, score"
        )
    regex = pattern.get("regex")
    if not isinstance(regex, str) or not regex:
        raise ValueError(f"patterns[{index}].regex must be a non-empty string, got {regex!r}")
    score = pattern.get("score", 0.5)
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 < score <= 1:
        raise ValueError(f"patterns[{index}].score must be a number in (0, 1], got {score!r}")
    name = pattern.get("name", f"pattern_{index}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"patterns[{index}].name must be a non-empty string, got {name!r}")
    return {"name": name, "regex": regex, "score": float(score)}


class PiiSettings(BaseModel):
    """Which entities to look for, in which fields, and how to mask what is found.

    `fields` are paths into the action: `params.message`, `params.attachments[*].text`,
    and `params.args$.body` to reach into a string that holds JSON (a string field whose
    text is a JSON object or array is expanded to its string leaves automatically).
    """

    model_config = ConfigDict(extra="forbid")

    entities: list[str] = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    allow_list: list[str] = Field(default_factory=list)
    recognizers: list[RecognizerSpec] = Field(default_factory=list)
    operators: dict[str, Operator] = Field(default_factory=dict)
    default_operator: Operator = "replace"
    nlp_model: str | None = None
    max_text_chars: int = Field(default=100_000, gt=0)
    regex_timeout_ms: int = Field(default=1_000, gt=0, le=60_000)
    phone_regions: list[str] = Field(default_factory=lambda: list(DEFAULT_PHONE_REGIONS))
    parse_json_strings: bool = True
    cache_size: int = Field(default=4_096, ge=0)

    @field_validator("entities")
    @classmethod
    def _entities(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for entity in value:
            if _check_entity(entity, "pii.entities item") not in out:
                out.append(entity)
        return out

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for field in value:
            parse_field(field)
        return list(dict.fromkeys(value))

    @field_validator("allow_list")
    @classmethod
    def _allow(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("allow_list values must be non-empty strings")
        return value

    @field_validator("phone_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not REGION.match(r)]
        if bad or not value:
            raise ValueError(f"phone_regions must be ISO 3166 codes like 'US', got {value!r}")
        unknown = _unknown_regions(value)
        if unknown:
            # A code no numbering plan has ("UK") made the scan find no national number
            # written as that country writes them, silently.
            hints = [
                f"{r!r} (write {REGION_SPELLINGS[r]!r})" if r in REGION_SPELLINGS else repr(r)
                for r in unknown
            ]
            raise ValueError(
                f"phone_regions names {', '.join(hints)}, which is no region with phone "
                f"numbers; use ISO 3166 codes like 'GB', 'US', 'DE'"
            )
        return value

    @field_validator("nlp_model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("nlp_model must be a spaCy package name or path, got ''")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> PiiSettings:
        listed = set(self.entities)
        for entity in self.operators:
            if entity not in listed:
                raise ValueError(
                    f"operators names {entity!r}, which is not in entities; "
                    f"expected one of {', '.join(self.entities)}"
                )
        for spec in self.recognizers:
            if spec.supported_entity not in listed:
                raise ValueError(
                    f"recognizer {spec.name!r} finds {spec.supported_entity!r}, "
                    f"which is not in entities; add it to pii.entities"
                )
        return self

    def operator_for(self, entity: str) -> Operator:
        """The redaction operator for one entity type."""
        return self.operators.get(entity, self.default_operator)
