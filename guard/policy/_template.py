"""Rule message templates: `{params.amount}` placeholders filled by dotted lookup."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-\[\]]*)\}")
MISSING = object()

# (evidence key, value) -> the value safe to store: PII fields come back masked.
Masker = Callable[[str, Any], Any]


def fill_template(template: str, env: Mapping[str, Any], mask: Masker | None = None) -> str:
    """Fill `{params.amount}`-style placeholders by dotted lookup (never str.format)."""
    return fill_parts(split_template(template), env, mask)


def split_template(template: str) -> tuple[str | tuple[str], ...]:
    """Split a message once at load: literal text, and 1-tuples naming the paths to fill."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for match in TEMPLATE.finditer(template):
        parts += [template[pos : match.start()], (match.group(1),)]
        pos = match.end()
    parts.append(template[pos:])
    return tuple(p for p in parts if p != "")


def fill_parts(
    parts: tuple[str | tuple[str], ...], env: Mapping[str, Any], mask: Masker | None = None
) -> str:
    """Join a split template, looking each path up in `env` (masked where PII)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = lookup(env, part[0])
        if value is MISSING:
            out.append("<missing>")
        else:
            out.append(str(mask(part[0], value) if mask is not None else value)[:200])
    return "".join(out)


def lookup(env: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through dicts; `MISSING` when any step is absent."""
    value: Any = env
    for part in path.replace("[", ".").replace("]", "").split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and abs(int(part)) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value
