"""Keep the values of PII fields out of error texts (rule errors quote the values they fail on).

A rule error such as `cannot compare string 'mail jane.doe@exa...d 4111111111111111' >
number 5` quotes the value it failed on, shortened by `reprlib` to a head and a tail
around `...`, so a detector run over the error text sees neither the whole e-mail nor
anything it could match. Instead every quoted literal of the text is compared with the
values of the pack's PII fields: a literal whose pieces all occur in one of them (or in
its repr) is replaced by `'<masked>'`. Values quoted in full, and long values written
without quotes, are replaced too. `PiiScanner.scrub` then runs the pattern recognizers
over what is left, for PII that came from anywhere else.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guard.detect._paths import Target, parse_field, resolve

MASK = "<masked>"
MIN_LITERAL = 3  # shorter quoted literals are masked only when they equal a whole value
MIN_BARE = 6  # values at least this long are masked where they appear without quotes
TRUNCATION = "..."  # what reprlib writes where it shortened a value

# A Python string literal as repr() writes it (a bytes prefix allowed), not inside a word.
_LITERAL = re.compile(r"""(?<!\w)b?(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")


def field_values(
    data: Mapping[str, Any], fields: Iterable[str], *, max_chars: int | None = None
) -> list[str]:
    """Every text at the pack's PII fields: whole strings and their JSON leaves."""
    values: dict[str, None] = {}
    for field in fields:
        try:
            steps = parse_field(field)
        except ValueError:
            continue
        for expand in (False, True):
            for outcome in resolve(data, steps, expand_json=expand, max_chars=max_chars):
                if isinstance(outcome, Target) and outcome.text.strip():
                    values[outcome.text] = None
    return list(values)


def mask_values(text: str, values: Sequence[str], *, shortened_only: bool = False) -> str:
    """`text` with every quoted literal that shows (part of) one of `values` masked,
    and every long value that appears unquoted masked; with `shortened_only`, only the
    literals `reprlib` shortened (the recognizers read the others whole)."""
    if not values or not text:
        return text
    forms = [(v, repr(v)[1:-1]) for v in values]

    def literal(m: re.Match[str]) -> str:
        quoted = m.group(0)
        quote = quoted[-1]
        prefix = quoted[: quoted.index(quote)]
        inner = quoted[len(prefix) + 1 : -1]
        if shortened_only and TRUNCATION not in inner:
            return quoted
        return f"{prefix}{quote}{MASK}{quote}" if _shows(inner, quote, forms) else quoted

    out = _LITERAL.sub(literal, text)
    if shortened_only:
        return out
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_BARE and value in out:
            out = out.replace(value, MASK)
    return out


def mask_literals(text: str) -> str:
    """`text` with every quoted literal masked (when the PII values are not known)."""

    def literal(m: re.Match[str]) -> str:
        quoted = m.group(0)
        quote = quoted[-1]
        return f"{quoted[: quoted.index(quote)]}{quote}{MASK}{quote}"

    return _LITERAL.sub(literal, text)


def _shows(inner: str, quote: str, forms: Sequence[tuple[str, str]]) -> bool:
    decoded = _decode(quote + inner + quote)
    for value, escaped in forms:
        if inner in (value, escaped) or decoded == value:
            return True
    pieces = [p for p in inner.split(TRUNCATION) if p]
    if not pieces or sum(map(len, pieces)) < MIN_LITERAL:
        return False
    return any(
        all(p in value for p in pieces) or all(p in escaped for p in pieces)
        for value, escaped in forms
    )


def _decode(literal: str) -> str | None:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def has_shortened_literal(text: str) -> bool:
    """True when `text` quotes a literal that `reprlib` shortened (see `TRUNCATION`)."""
    return any(TRUNCATION in m.group(0) for m in _LITERAL.finditer(text))


MAX_LEAVES = 1_000
MAX_DEPTH = 32


def text_leaves(data: Any) -> list[str]:
    """The strings of `data` (and the numbers, as the text they print as), depth first;
    at most `MAX_LEAVES`, at most `MAX_DEPTH` levels down."""
    out: list[str] = []
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack and len(out) < MAX_LEAVES:
        value, depth = stack.pop()
        if isinstance(value, str):
            if value.strip():
                out.append(value)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int | float):
            out.append(str(value))
        elif depth < MAX_DEPTH and isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in reversed(list(value.values())))
        elif depth < MAX_DEPTH and isinstance(value, list | tuple):
            stack.extend((v, depth + 1) for v in reversed(value))
    return out
