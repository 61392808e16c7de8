"""Errors raised while explaining a decision; all derive from `guard`'s GuardError."""

from __future__ import annotations

from typing import Any

from guard._exceptions import DependencyMissing, GuardError

INSTALL_HINT = "pip install 'agent-guard[explain]'"


class ExplanationError(GuardError):
    """An explanation could not be computed; the decision itself is unaffected."""

    code = "explanation_error"


class ExplanationInputError(ExplanationError, ValueError):
    """The input to explain has the wrong shape, size or non-finite values."""

    code = "explanation_invalid_input"


class ExplanationTypeError(ExplanationError, TypeError):
    """The input, model or tree is of a type the explainer cannot read."""

    code = "explanation_invalid_type"


class ModelCallError(ExplanationError):
    """The model raised (or returned something unusable) while being explained."""

    code = "explanation_model_failed"


class SearchTreeError(ExplanationError):
    """The search tree cannot be explained: no children, no visits or malformed statistics."""

    code = "explanation_search_tree"


class NoAllowedAction(SearchTreeError):
    """Every root action of the search tree was removed by the shield."""

    code = "explanation_no_allowed_action"


def kind_of(value: Any) -> str:
    """What a value is, for error texts that must not quote a caller's value (they are
    recorded with the decision): 'None', 'a str (text)', 'bytes', 'a dict', 'an int'."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return "a str (text)"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def missing_dependency(package: str, feature: str) -> DependencyMissing:
    """Build the ImportError raised when an optional explain dependency is absent."""
    return DependencyMissing(
        f"{package} is required for {feature} but is not installed; install it with: {INSTALL_HINT}"
    )
