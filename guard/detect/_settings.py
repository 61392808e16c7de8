"""The `pii` section of a policy pack, validated before anything is built."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RecognizerSpec(BaseModel):
    """A custom recognizer declared in YAML, in Presidio's ad-hoc recognizer format."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    supported_entity: str
    patterns: list[dict[str, Any]] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    supported_language: str = "en"


class PiiSettings(BaseModel):
    """Which entities to look for, in which fields, and how to mask what is found."""

    model_config = ConfigDict(extra="forbid")

    entities: list[str] = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    allow_list: list[str] = Field(default_factory=list)
    recognizers: list[RecognizerSpec] = Field(default_factory=list)
    operators: dict[str, Literal["mask", "replace", "hash"]] = Field(default_factory=dict)
    default_operator: Literal["mask", "replace", "hash"] = "replace"
    nlp_model: str | None = None
    max_text_chars: int = Field(default=100_000, gt=0)
