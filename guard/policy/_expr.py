"""The policy condition language: a whitelisted Python-expression subset compiled to closures.

A condition is parsed with `ast`, every node is checked against a whitelist, and the tree
is compiled once into nested Python closures. Policy text is never passed to eval, exec
or compile (`_inline` renders a fast path from fixed templates and generated names
only), attributes of Python objects are never read (`params.amount` is
`params["amount"]`), and only registered functions can be called.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import re
import time
import tokenize
import unicodedata
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from guard._exceptions import (
    EvaluationError,
    ExpressionError,
    GuardError,
    MissingField,
)
from guard._validate import MAX_EXACT_INT
from guard.policy._functions import (
    DEFAULT_FUNCTIONS,
    MAX_SEQUENCE,
    PII_KEY,
    SPECIAL_FORMS,
    FunctionRegistry,
    FunctionSpec,
    PiiView,
    describe,
    pii_view,
)
from guard.policy._rate import MemoryRateStore, RateStore

if TYPE_CHECKING:
    from guard.policy._inline import Inline

__all__ = [
    "DEFAULT_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_ITERATIONS",
    "MAX_SOURCE_CHARS",
    "SCOPE_NAMES",
    "CompiledExpr",
    "FunctionRegistry",
    "MemoryRateStore",
    "PiiView",
    "RateStore",
    "compile_expr",
]

SCOPE_NAMES: Final = frozenset(
    {
        "action",
        "kind",
        "actor",
        "tenant",
        "params",
        "context",
        "pii",
        "item",
        "items",
        "score",
        "attribution",
        "rationale",
    }
)
#: Scope names that are absent unless the caller's context holds them (has() can be false).
_MAYBE_ABSENT: Final = frozenset({"score", "attribution", "rationale"})
#: Longest condition accepted, in characters.
MAX_SOURCE_CHARS: Final = 2_000
#: Deepest nesting of sub-expressions accepted.
MAX_DEPTH: Final = 100
#: Most elements a generator in any()/all() may iterate over.
MAX_ITERATIONS: Final = 10_000
#: Largest integer product, in bits, that `*` may build.
MAX_INT_BITS: Final = 65_536
#: Most CPU time, in seconds, one any()/all() over a generator may spend: its body runs
#: up to MAX_ITERATIONS times, and each run may build and scan 100,000-element lists.
MAX_GENERATOR_SECONDS: Final = 1.0

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_ALIASES: Final[dict[str, Any]] = {"true": True, "false": False, "null": None}
# Where explain() keeps its evidence in the evaluation frame: not an identifier, so no
# condition can name it.
_EVIDENCE: Final = "\x00evidence"
_MISSING: Final = object()
_NO_CONST: Final = object()

_ALLOWED: Final = (
    "allowed: and, or, not, comparisons (== != < <= > >= in, not in, is None, is not None), "
    "arithmetic (+ - * / // %), x if cond else y, literals (strings, numbers, true/false/null, "
    "lists, sets, objects), dotted field access (params.amount), indexing (items[0]), calls to "
    "registered functions, and any()/all() over one generator (any(x > 1 for x in params.xs))"
)
_FORBIDDEN: Final[dict[type[ast.AST], str]] = {
    ast.Lambda: "lambda",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Starred: "star unpacking (*)",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression outside any()/all()",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.Slice: "a slice",
}
_BAD_OPERATORS: Final[dict[type[ast.AST], str]] = {
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
    ast.Invert: "~",
}
_SYMBOLS: Final[dict[type[ast.AST], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}


class CompiledExpr:
    """A condition compiled once: `evaluate()` is the fast path, `explain()` adds evidence.

    Both run the condition, so functions with side effects (`rate()`) count each time:
    call one or the other for a given input, not both.
    """

    __slots__ = (
        "source",
        "names_used",
        "functions_used",
        "paths_used",
        "rule_id",
        "fast",
        "inline",
        "_explain",
    )

    def __init__(
        self,
        source: str,
        *,
        names_used: frozenset[str],
        functions_used: frozenset[str],
        paths_used: frozenset[str],
        rule_id: str,
        fast: Fn,
        explain: Fn,
        inline: Inline | None = None,
    ) -> None:
        self.source = source
        self.names_used = names_used
        self.functions_used = functions_used
        self.paths_used = paths_used
        self.rule_id = rule_id
        #: The bare closure (no error wrapping): callers that run it must turn its
        #: exceptions into EvaluationErrors with `as_evaluation_error`.
        self.fast = fast
        #: The same condition as one Python expression (see `_inline`), where it renders.
        self.inline = inline
        self._explain = explain

    def __repr__(self) -> str:
        return f"CompiledExpr({self.source!r})"

    def evaluate(self, env: Env) -> Any:
        """The condition's value for `env`; any failure is an EvaluationError (or subclass)."""
        try:
            return self.fast(env)
        except GuardError:
            raise
        except Exception as exc:
            raise as_evaluation_error(self.source, exc) from exc

    def explain(self, env: Env) -> tuple[Any, dict[str, Any]]:
        """The value plus evidence: each evaluated field path and call, keyed by its source text.

        On failure the raised EvaluationError carries the evidence gathered so far in its
        `evidence` attribute.
        """
        evidence: dict[str, Any] = {}
        frame = dict(env)
        frame[_EVIDENCE] = evidence
        try:
            return self._explain(frame), evidence
        except GuardError as exc:
            exc.evidence = evidence  # type: ignore[attr-defined]
            raise
        except Exception as exc:
            error = as_evaluation_error(self.source, exc)
            error.evidence = evidence  # type: ignore[attr-defined]
            raise error from exc


def as_evaluation_error(source: str, exc: Exception) -> EvaluationError:
    """An unexpected failure while evaluating `source`, as an EvaluationError."""
    if isinstance(exc, (RecursionError, MemoryError)):
        return EvaluationError(f"{source!r} is too large to evaluate for this input")
    return EvaluationError(f"could not evaluate {source!r}: {type(exc).__name__}: {exc}")


def compile_expr(
    source: str,
    *,
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
    rule_id: str = "",
    functions: FunctionRegistry | None = None,
    condition: bool = False,
) -> CompiledExpr:
    """Check a condition against the language's whitelist and compile it once.

    With `condition=True` (a rule's `when`) a literal other than true or false is refused:
    it could never be a verdict's answer, only an error on every action.

    `line` and `column` (1-based) say where the condition starts in `file`, so that
    errors point into the policy file. Raises ExpressionError for anything outside the
    language, naming file, line and column.
    """
    if not isinstance(source, str):
        raise ExpressionError(
            f"a condition must be a string, got {type(source).__name__}",
            file=file,
            line=line,
            column=column,
        )
    where = _Where(source, file, line, column)
    if len(source) > MAX_SOURCE_CHARS:
        raise where.error(
            f"condition is {len(source)} characters long; the limit is {MAX_SOURCE_CHARS}",
            1,
            0,
        )
    if not source.strip():
        raise where.error("empty condition; write an expression such as params.amount > 500", 1, 0)
    text, shift, tree = _parse(source, where)
    _check_depth(tree, text, shift, where)
    body = tree.body
    literal = isinstance(body, ast.Constant) and not isinstance(body.value, bool)
    if condition and (literal or isinstance(body, (ast.List, ast.Tuple, ast.Dict, ast.Set))):
        raise where.error(
            "a condition must be true or false; a literal such as this one is neither, "
            "so every action would be an error (write true, false or a comparison)",
            body.lineno - shift,
            body.col_offset,
        )
    registry = DEFAULT_FUNCTIONS if functions is None else functions
    prepared: dict[int, Any] = {}
    fast = _Compiler(text, shift, where, registry, rule_id, explain=False, prepared=prepared)
    fast_fn = fast.compile(tree.body).fn
    from guard.policy._inline import render  # imports this module

    inline = render(fast, tree.body)
    fast.nodes = None
    slow = _Compiler(text, shift, where, registry, rule_id, explain=True, prepared=prepared)
    explain_fn = slow.compile(tree.body).fn
    return CompiledExpr(
        source,
        names_used=frozenset(fast.names),
        functions_used=frozenset(fast.functions),
        paths_used=frozenset(fast.paths),
        rule_id=rule_id,
        fast=fast_fn,
        explain=explain_fn,
        inline=inline,
    )


# ---------------------------------------------------------------------------------------
# Parsing and positions.


class _Where:
    """Where a condition sits in its policy file, to turn AST positions into file positions."""

    __slots__ = ("source", "file", "line", "column")

    def __init__(self, source: str, file: str | None, line: int | None, column: int | None):
        self.source, self.file, self.line, self.column = source, file, line, column

    def error(
        self, message: str, src_line: int, src_col: int, text: str | None = None
    ) -> ExpressionError:
        """An ExpressionError at 1-based `src_line`, 0-based character `src_col` of the source."""
        line = (self.line if self.line is not None else 1) + src_line - 1
        if src_line == 1:
            column = (self.column if self.column is not None else 1) + src_col
        else:
            column = src_col + 1
        return ExpressionError(
            message, file=self.file, line=line, column=column, text=text or _short(self.source)
        )


def _short(text: str, limit: int | None = 120) -> str:
    text = re.sub(r"\s*\n\s*", " ", text)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _parse(source: str, where: _Where) -> tuple[str, int, ast.Expression]:
    """Parse `source` as one expression; a multi-line one is read as if parenthesised."""
    text, shift = source, 0
    if "\n" in source.strip():
        # Lines of a YAML block scalar: wrap in parentheses so newlines are allowed, and
        # reject "a) or (b", which would only parse by borrowing the wrapper's parentheses.
        text, shift = "(\n" + source + "\n)", 1
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        src_line = min(max((exc.lineno or 1) - shift, 1), source.count("\n") + 1)
        src_col = max((exc.offset or 1) - 1, 0)
        detail = "" if exc.msg == "invalid syntax" else f": {exc.msg}"
        hint = _syntax_hint(source)
        raise where.error(
            f"invalid syntax{detail}{f'; {hint}' if hint else ''}; a condition is one "
            "expression such as params.amount > 500 and context.role != 'admin'",
            src_line,
            src_col,
        ) from None
    except (RecursionError, MemoryError):
        raise where.error(
            f"condition is nested too deeply; the limit is {MAX_DEPTH} levels", 1, 0
        ) from None
    except ValueError as exc:  # e.g. null bytes on some Python versions
        raise where.error(f"invalid condition text: {exc}", 1, 0) from None
    if shift and tree.body.lineno < 2:
        raise where.error("unbalanced parentheses", 1, 0)
    if not text.isascii():
        _check_identifiers(text, shift, where)
    return text, shift, tree


def source_tokens(text: str) -> list[tokenize.TokenInfo]:
    """The Python tokens of a condition's text; none when it does not tokenize (the
    parser accepted it already, so not expected)."""
    lines = iter(text.splitlines(keepends=True))
    try:
        return list(tokenize.generate_tokens(lambda: next(lines, "")))
    except (tokenize.TokenError, SyntaxError):
        return []


def _check_identifiers(text: str, shift: int, where: _Where) -> None:
    """Refuse an identifier Python would read as another one.

    Python folds identifiers to NFKC before they name anything: `params.ﬁle` (a
    ligature) reads the key "file", `params.Ⅸ` the key "IX" and half-width `ｶﾅ` the
    full-width `カナ`, keys the author never wrote. A subscript keeps a key as written.
    """
    for token in source_tokens(text):
        if token.type != tokenize.NAME or token.string.isascii():
            continue
        read = unicodedata.normalize("NFKC", token.string)
        if read != token.string:
            row, col = token.start
            raise where.error(
                f"the name {token.string!r} is read as {read!r} (Python folds the letters "
                f"of names, NFKC); write {read!r} for that, or a key as written with a "
                f'subscript, as in params["{token.string}"]',
                max(row - shift, 1),
                col,
                token.string,
            )


_STRING = re.compile(r""""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'""")
# Operators of other languages, as written outside string literals, and what to write.
_FOREIGN = (
    (re.compile(r"&&"), "write `and`, not &&"),
    (re.compile(r"\|\|"), "write `or`, not ||"),
    (re.compile(r"[=!]=="), "write == or !=, not === or !=="),
    (re.compile(r"!(?!=)"), "write `not x`, not !x"),
    (re.compile(r"(?<![=!<>])=[<>]"), "write >= or <=, not => or =<"),
    (re.compile(r"(?<![=!<>:])=(?!=)"), "compare with ==; a single = assigns"),
)


def _syntax_hint(source: str) -> str:
    """What a condition written as in another language (&&, ===, !x, =) should say."""
    code = _STRING.sub('""', source)
    return next((hint for pattern, hint in _FOREIGN if pattern.search(code)), "")


def _check_depth(tree: ast.Expression, text: str, shift: int, where: _Where) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            src_line, src_col = _position(text, shift, node)
            raise where.error(
                f"condition is nested too deeply; the limit is {MAX_DEPTH} levels",
                src_line,
                src_col,
            )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1 if isinstance(child, ast.expr) else depth))


def _position(text: str, shift: int, node: ast.AST) -> tuple[int, int]:
    """The 1-based source line and 0-based character column of `node`."""
    lineno: int = getattr(node, "lineno", 1 + shift)
    col_bytes: int = getattr(node, "col_offset", 0)
    lines = text.split("\n")
    line_text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    column = len(line_text.encode("utf-8")[:col_bytes].decode("utf-8", "ignore"))
    return max(lineno - shift, 1), column


# ---------------------------------------------------------------------------------------
# Runtime helpers shared by the compiled closures.


def _lookup(value: Any, key: Any) -> Any:
    """value[key] for an object or list, or _MISSING; never reads a Python attribute."""
    if isinstance(value, Mapping):
        try:
            return value[key]
        except KeyError:
            return _MISSING
        except TypeError:
            raise EvaluationError(f"{describe(key)} cannot be used as a field name") from None
    if isinstance(value, (list, tuple)) and type(key) is int:
        try:
            return value[key]
        except IndexError:
            return _MISSING
    return _MISSING


def _missing(value: Any, key: Any, prefix: str, path: str, dynamic: bool) -> MissingField:
    shown = f"{path!r} (key {key!r})" if dynamic else repr(path)
    if isinstance(value, Mapping):
        return MissingField(f"missing field {shown}")
    if isinstance(value, (list, tuple)):
        if type(key) is int:
            return MissingField(
                f"missing field {shown}: {prefix!r} has {len(value)} "
                f"item{'' if len(value) == 1 else 's'}, no index {key}"
            )
        return MissingField(
            f"missing field {shown}: {prefix!r} is a list, indexed by integers, "
            f"not by {describe(key)}"
        )
    return MissingField(f"missing field {shown}: {prefix!r} is {describe(value)}, not an object")


def _iterable(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        if len(value) > MAX_ITERATIONS:
            raise EvaluationError(
                f"any()/all() would iterate over {len(value)} elements; "
                f"the limit is {MAX_ITERATIONS}"
            )
        return value
    raise EvaluationError(f"any()/all() can iterate over a list or object, not {describe(value)}")


def _is_number(value: Any) -> bool:
    """A JSON number: int or float, but not a boolean (true is not 1 in this language)."""
    return isinstance(value, (int, float)) and type(value) is not bool


def _arith_error(symbol: str, a: Any, b: Any, text: str) -> EvaluationError:
    return EvaluationError(f"cannot compute {describe(a)} {symbol} {describe(b)} in {text!r}")


def _weight(value: Any, budget: int) -> int:
    """How many elements and characters `value` holds, counting shared sub-lists each time.

    Stops counting past `budget`: `[[0] * 99999] * 99999` is ten billion elements to
    anything that serialises it, although it holds only two lists.
    """
    total, stack = 0, [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            stack.extend([x for x in item if isinstance(x, _NESTED)])
        elif isinstance(item, dict):
            total += len(item)
            stack.extend([x for x in item.values() if isinstance(x, _NESTED)])
    return total


_NESTED: Final = (str, list, tuple, set, frozenset, dict)


def _evidence(value: Any) -> Any:
    """`value` as evidence the audit record (RFC 8785 JSON) can hold, at any depth: an
    integer beyond +-(2**53 - 1) as its digits, and an object key that is not a string
    as the key's JSON text.

    Inputs are held to JSON, but a condition computes bigger integers from them
    (`sum(params.amounts)`) and builds objects keyed by their values (`{params.id: 1}`);
    kept as they are, they made the decision's audit record, and so the decision, fail.
    """
    if type(value) is int:
        return value if -MAX_EXACT_INT <= value <= MAX_EXACT_INT else _big_int(value)
    if not isinstance(value, (list, tuple, dict)) or _json_ready(value):
        return value
    if isinstance(value, dict):
        return {_key_text(k): _evidence(v) for k, v in value.items()}
    return [_evidence(v) for v in value]


def _big_int(value: int) -> str:
    if value.bit_length() > 1000:  # str() of it may raise or be slow
        return f"<number with {value.bit_length()} bits>"
    return str(value)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return "null" if key is None else "true" if key else "false"
    if type(key) is int:
        return _big_int(key)
    return repr(key)


def _json_ready(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is int:
            if not -MAX_EXACT_INT <= item <= MAX_EXACT_INT:
                return False
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            if not all(type(k) is str for k in item):
                return False
            stack.extend(item.values())
    return True


def _finite(value: Any, text: str) -> Any:
    """A float result that overflowed (inf, or nan from inf - inf) is an error: compared,
    it would make every comparison false and so skip the rule silently."""
    if type(value) is float and not math.isfinite(value):
        raise EvaluationError(f"{text!r} overflows the range of numbers (gives {value})")
    return value


def _add(a: Any, b: Any, text: str) -> Any:
    if _is_number(a) and _is_number(b):
        return _finite(a + b, text)
    same = isinstance(a, str) and isinstance(b, str) or isinstance(a, list) and isinstance(b, list)
    if same:
        if _weight(a, MAX_SEQUENCE) + _weight(b, MAX_SEQUENCE) > MAX_SEQUENCE:
            raise EvaluationError(f"{text!r} would build more than {MAX_SEQUENCE} elements")
        return a + b
    raise _arith_error("+", a, b, text)


def _mul(a: Any, b: Any, text: str) -> Any:
    if _is_number(a) and _is_number(b):
        if (
            isinstance(a, int)
            and isinstance(b, int)
            and a.bit_length() + b.bit_length() > MAX_INT_BITS
        ):
            raise EvaluationError(f"{text!r} would build a number larger than {MAX_INT_BITS} bits")
        return _finite(a * b, text)
    seq, count = (a, b) if isinstance(a, (str, list)) else (b, a)
    if isinstance(seq, (str, list)) and isinstance(count, int) and not isinstance(count, bool):
        if count > 0 and _weight(seq, MAX_SEQUENCE) * count > MAX_SEQUENCE:
            raise EvaluationError(f"{text!r} would build more than {MAX_SEQUENCE} elements")
        return seq * count
    raise _arith_error("*", a, b, text)


def _numeric(symbol: str, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any, str], Any]:
    def apply(a: Any, b: Any, text: str) -> Any:
        if _is_number(a) and _is_number(b):
            return _finite(op(a, b), text)
        raise _arith_error(symbol, a, b, text)

    return apply


_ARITHMETIC: Final[dict[type[ast.AST], Callable[[Any, Any, str], Any]]] = {
    ast.Add: _add,
    ast.Mult: _mul,
    ast.Sub: _numeric("-", operator.sub),
    ast.Div: _numeric("/", operator.truediv),
    ast.FloorDiv: _numeric("//", operator.floordiv),
    ast.Mod: _numeric("%", operator.mod),
}


# JSON semantics for booleans: true equals only true (not 1), and is not ordered.


def _eq(a: Any, b: Any) -> bool:
    if not a == b:
        return False
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b)
    if isinstance(a, list | tuple | dict):
        return _same_kinds(a, b)  # [1] == [true] is false too
    if isinstance(a, set | frozenset):  # {true} == {1} is false: members are scalars
        return _tagged(a) == _tagged(b)
    return True


def _tagged(members: Any) -> set[tuple[bool, Any]]:
    """A set's members, each with whether it is a boolean, so true and 1 stay apart."""
    return {(type(v) is bool, v) for v in members}


def _same_kinds(a: Any, b: Any) -> bool:
    """For values already equal in Python: no boolean stands where the other has a number."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_same_kinds(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return all(_same_kinds(x, y) for x, y in zip(a, b, strict=True))
    return True


def _has_bool(value: Any) -> bool:
    """True for a boolean, or a list holding one at any depth (lists compare element-wise)."""
    if type(value) is bool:
        return True
    return isinstance(value, list | tuple) and any(_has_bool(v) for v in value)


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _ordered(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(a: Any, b: Any) -> Any:
        if _has_bool(a) or _has_bool(b):
            raise TypeError("booleans are not ordered")
        return op(a, b)

    return compare


def _numeric_members(container: Any) -> bool:
    """True when `in` over this literal container must tell booleans from numbers (at any
    depth: `[true] in [[1]]` is false)."""
    return isinstance(container, (list, tuple, set, frozenset)) and any(
        isinstance(v, (int, float, list, tuple, dict)) for v in container
    )


def _contains(a: Any, b: Any) -> bool:
    found = a in b
    if (
        found
        and isinstance(a, (int, float, list, tuple, dict))
        and isinstance(b, (list, tuple, set, frozenset))
    ):
        return any(_eq(a, x) for x in b)  # 1 in [true] and [true] in [[1]] are false
    return found


def _not_contains(a: Any, b: Any) -> bool:
    return not _contains(a, b)


_COMPARISONS: Final[dict[type[ast.AST], Callable[[Any, Any], Any]]] = {
    ast.Eq: _eq,
    ast.NotEq: _ne,
    ast.Lt: _ordered(operator.lt),
    ast.LtE: _ordered(operator.le),
    ast.Gt: _ordered(operator.gt),
    ast.GtE: _ordered(operator.ge),
    ast.In: _contains,
    ast.NotIn: _not_contains,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _compare_error(symbol: str, a: Any, b: Any, text: str) -> EvaluationError:
    if symbol in ("in", "not in"):
        return EvaluationError(
            f"cannot check whether {describe(a)} is in {describe(b)} in {text!r}"
        )
    return EvaluationError(f"cannot compare {describe(a)} {symbol} {describe(b)} in {text!r}")


def _call_failed(name: str, exc: Exception) -> EvaluationError:
    return EvaluationError(f"{name}() failed: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------
# The compiler.


class _Node:
    """A compiled sub-expression: its closure, its value when it is a literal, and its
    (scope, key) when it is a short field path that a comparison may read inline."""

    __slots__ = ("fn", "const", "path")

    def __init__(
        self, fn: Fn, const: Any = _NO_CONST, path: tuple[str, str | None] | None = None
    ) -> None:
        self.fn = fn
        self.const = const
        self.path = path


class _Compiler:
    """Walks a parsed condition once, rejecting what is not allowed, building closures."""

    def __init__(
        self,
        text: str,
        shift: int,
        where: _Where,
        registry: FunctionRegistry,
        rule_id: str,
        *,
        explain: bool,
        prepared: dict[int, Any],
    ) -> None:
        self.text = text
        self.shift = shift
        self.where = where
        self.registry = registry
        self.rule_id = rule_id
        self.explain = explain
        self.prepared = prepared
        self.names: set[str] = set()
        self.functions: set[str] = set()
        self.paths: set[str] = set()
        self.locals: frozenset[str] = frozenset()
        self.in_generator = False
        #: Every compiled node by id(ast node), kept in fast mode for `_inline.render`.
        self.nodes: dict[int, _Node] | None = None if explain else {}

    # -- helpers -------------------------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> ExpressionError:
        src_line, src_col = _position(self.text, self.shift, node)
        segment = _short(self.segment(node)) if isinstance(node, ast.expr) else None
        return self.where.error(message, src_line, src_col, segment)

    def segment(self, node: ast.AST) -> str:
        """The source text of `node` on one line: evidence keys and error texts."""
        found = ast.get_source_segment(self.text, node)
        return _short(found if found is not None else ast.unparse(node), None)

    def record(self, node: ast.expr, out: _Node) -> _Node:
        """In explain mode, wrap `out` so that its value is kept as evidence."""
        if not self.explain or self._uses_locals(node):
            return out
        key, fn = self.segment(node), out.fn

        def recorded(env: Env) -> Any:
            value = fn(env)
            env[_EVIDENCE][key] = _evidence(value)
            return value

        return _Node(recorded)

    def _uses_locals(self, node: ast.AST) -> bool:
        return bool(self.locals) and any(
            isinstance(n, ast.Name) and n.id in self.locals for n in ast.walk(node)
        )

    def constant(self, value: Any) -> _Node:
        def const(env: Env) -> Any:
            return value

        return _Node(const, value)

    def is_none(self, node: ast.expr) -> bool:
        """True for the literal None (or its alias null)."""
        return isinstance(node, (ast.Constant, ast.Name)) and self.literal_value(node) is None

    def literal_value(self, node: ast.expr) -> Any:
        """The value of a literal made only of constants, or _NO_CONST."""
        if isinstance(node, ast.Constant):
            self.check_finite(node)
            return node.value
        if isinstance(node, ast.Name) and node.id in _ALIASES and node.id not in self.locals:
            return _ALIASES[node.id]
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            self.check_finite(node.operand)
            number: int | float = node.operand.value
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values = [self.literal_value(e) for e in node.elts]
            if any(v is _NO_CONST for v in values):
                return _NO_CONST
            if isinstance(node, ast.Set):
                try:
                    return frozenset(values)
                except TypeError:
                    return _NO_CONST
            return values
        return _NO_CONST

    # -- dispatch ------------------------------------------------------------------------

    def compile(self, node: ast.expr) -> _Node:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            what = _FORBIDDEN.get(type(node), type(node).__name__)
            raise self.error(node, f"{what} is not allowed in a condition; {_ALLOWED}")
        out = handler(self, node)
        if self.nodes is not None:
            self.nodes[id(node)] = out
        return out

    def c_constant(self, node: ast.expr) -> _Node:
        value = node.value if isinstance(node, ast.Constant) else None
        if value is not None and not isinstance(value, (str, int, float)):
            raise self.error(
                node,
                f"{type(value).__name__} literals are not allowed; allowed literals: strings, "
                "numbers, true/false/null, lists, sets and objects",
            )
        self.check_finite(node)
        return self.constant(value)

    def check_finite(self, node: ast.expr) -> None:
        """Refuse a number literal past the range of numbers (`1e999` is infinity, which
        no input holds: a comparison with it would be decided before any input is read)."""
        if isinstance(node, ast.Constant) and type(node.value) is float:
            if not math.isfinite(node.value):
                raise self.error(
                    node,
                    f"the number {self.segment(node)} is beyond the range of numbers "
                    "(about 1.8e308)",
                )

    def c_name(self, node: ast.expr) -> _Node:
        name = node.id if isinstance(node, ast.Name) else ""
        if name in self.locals:
            return self.access(node)
        if name in _ALIASES:
            return self.constant(_ALIASES[name])
        if name in SCOPE_NAMES:
            return self.access(node)
        raise self.name_error(node, name)

    def name_error(self, node: ast.AST, name: str) -> ExpressionError:
        if name.startswith("_"):
            return self.error(node, f"names starting with '_' are not allowed: {name!r}")
        if name in self.registry or name in SPECIAL_FORMS:
            return self.error(node, f"function {name!r} can only be called, as in {name}(...)")
        return self.error(
            node,
            f"unknown name {name!r}; names in scope: {', '.join(sorted(SCOPE_NAMES))} "
            "(and true, false, null, and a loop variable inside any()/all())",
        )

    # -- field access --------------------------------------------------------------------

    def access(self, node: ast.expr, *, soft: bool = False) -> _Node:
        """Compile a chain such as params.lines[0].text into one getter.

        With `soft`, the getter returns _MISSING instead of raising when the path does
        not exist (for has() and get()).
        """
        links: list[ast.Attribute | ast.Subscript] = []
        root = node
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            links.append(root)
            root = root.value
        links.reverse()
        scope_root = isinstance(root, ast.Name) and root.id in SCOPE_NAMES
        local_root = isinstance(root, ast.Name) and root.id in self.locals
        root_name = root.id if isinstance(root, ast.Name) else ""
        if scope_root:
            self.names.add(root_name)
        steps: list[tuple[Any, Fn | None, str, str]] = []
        dotted: str | None = root_name if scope_root else None
        prefix = self.segment(root)
        for link in links:
            path = self.segment(link)
            if isinstance(link, ast.Attribute):
                if link.attr.startswith("_"):
                    raise self.error(
                        link, f"field names starting with '_' are not allowed: {link.attr!r}"
                    )
                if scope_root and root_name == PII_KEY and link is links[0]:
                    raise self.error(
                        link,
                        "pii has no fields; call pii.any(...), pii.count(...), "
                        "pii.in_field(...) or pii.max_score(...), or iterate over pii",
                    )
                key: Any = link.attr
                dynamic: Fn | None = None
            else:
                key, dynamic = self.index(link)
            if dotted is not None:
                if dynamic is None and isinstance(key, str) and key.isidentifier():
                    dotted = f"{dotted}.{key}"
                else:  # the dotted part of the path ends at the first index
                    self.paths.add(dotted)
                    dotted = None
            steps.append((key, dynamic, prefix, path))
            prefix = path
        if dotted is not None:
            self.paths.add(dotted)
        if scope_root:
            root_fn = _scope_root(root_name, soft)
        elif local_root:
            root_fn = _local_root(root_name)
        else:
            root_fn = self.compile(root).fn
        getter = (
            _soft_getter(root_fn, steps)
            if soft
            else _getter(root_fn, root_name if scope_root else None, steps)
        )
        inline: tuple[str, str | None] | None = None
        if scope_root and root_name != PII_KEY and not soft:
            if not steps:
                inline = (root_name, None)
            elif len(steps) == 1 and steps[0][1] is None and isinstance(steps[0][0], str):
                inline = (root_name, steps[0][0])
        out = _Node(getter, path=inline)
        return out if soft or not (scope_root or local_root) else self.record(node, out)

    def index(self, link: ast.Subscript) -> tuple[Any, Fn | None]:
        index = link.slice
        if isinstance(index, ast.Slice):
            raise self.error(index, f"a slice is not allowed in a condition; {_ALLOWED}")
        if isinstance(index, ast.Tuple):
            raise self.error(index, "an index must be one value, as in items[0] or params['key']")
        value = self.literal_value(index)
        if isinstance(value, str) or (type(value) is int):
            self.compile(index)
            return value, None
        return None, self.compile(index).fn

    # -- operators -----------------------------------------------------------------------

    def c_boolop(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.BoolOp):
            raise self.error(node, _ALLOWED)
        fns = tuple(self.compile(v).fn for v in node.values)
        return _Node(_and(fns) if isinstance(node.op, ast.And) else _or(fns))

    def c_unaryop(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.UnaryOp):
            raise self.error(node, _ALLOWED)
        if isinstance(node.op, ast.Invert):
            raise self.error(node, "operator ~ is not allowed; allowed: not, - and +")
        operand_node = self.compile(node.operand)
        operand = operand_node.fn
        if isinstance(node.op, ast.Not):
            if operand_node.path is not None and operand_node.path[1] is not None:
                return _Node(_not_path(*operand_node.path, operand))

            def negate(env: Env) -> bool:
                return not operand(env)

            return _Node(negate)
        literal = self.literal_value(node)
        if literal is not _NO_CONST:
            return self.constant(literal)
        text, minus = self.segment(node), isinstance(node.op, ast.USub)

        def sign(env: Env) -> Any:
            value = operand(env)
            if not _is_number(value):
                raise EvaluationError(
                    f"cannot apply unary {'-' if minus else '+'} to {describe(value)} in {text!r}"
                )
            return -value if minus else +value

        return _Node(sign)

    def c_binop(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.BinOp):
            raise self.error(node, _ALLOWED)
        apply = _ARITHMETIC.get(type(node.op))
        if apply is None:
            symbol = _BAD_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self.error(
                node, f"operator {symbol} is not allowed; allowed arithmetic: + - * / // %"
            )
        left, right, text = (
            self.compile(node.left).fn,
            self.compile(node.right).fn,
            self.segment(node),
        )

        def arithmetic(env: Env) -> Any:
            a, b = left(env), right(env)
            try:
                return apply(a, b, text)
            except ArithmeticError as exc:  # division by zero, float overflow
                raise EvaluationError(f"{exc} in {text!r}") from None

        return _Node(arithmetic)

    def c_ifexp(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.IfExp):
            raise self.error(node, _ALLOWED)
        test, body, orelse = (self.compile(n).fn for n in (node.test, node.body, node.orelse))

        def choose(env: Env) -> Any:
            return body(env) if test(env) else orelse(env)

        return _Node(choose)

    def c_compare(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.Compare):
            raise self.error(node, _ALLOWED)
        left_node = self.compile(node.left)
        left, text = left_node.fn, self.segment(node)
        parts: list[tuple[Callable[[Any, Any], Any], Fn, str]] = []
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)) and not self.is_none(comparator):
                raise self.error(
                    comparator,
                    "'is' and 'is not' are only allowed with None (null): "
                    "write x is None, or x == value",
                )
            right = self.compile(comparator)
            parts.append((_COMPARISONS[type(op)], right.fn, _SYMBOLS[type(op)]))
        if len(parts) == 1:
            kind: type[ast.AST] = type(node.ops[0])
            constant = self.literal_value(node.comparators[0])
            if left_node.path is not None and constant is not _NO_CONST and kind in _INLINE:
                scope, key = left_node.path
                return _Node(_compare_path(scope, key, left, kind, constant, text))
            return _Node(_compare_one(kind, left, parts[0][1], constant, text))
        return _Node(_compare_chain(left, tuple(parts), text))

    # -- literals ------------------------------------------------------------------------

    def c_list(self, node: ast.expr) -> _Node:
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise self.error(node, _ALLOWED)
        fns = tuple(self.compile(e).fn for e in node.elts)

        def build(env: Env) -> list[Any]:
            return [f(env) for f in fns]

        return _Node(build)

    def c_set(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.Set):
            raise self.error(node, _ALLOWED)
        fns, text = tuple(self.compile(e).fn for e in node.elts), self.segment(node)

        def build(env: Env) -> set[Any]:
            values = [f(env) for f in fns]
            try:
                return set(values)
            except TypeError:
                raise EvaluationError(
                    f"lists and objects cannot be set members in {text!r}"
                ) from None

        return _Node(build)

    def c_dict(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.Dict):
            raise self.error(node, _ALLOWED)
        pairs: list[tuple[Fn, Fn]] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise self.error(value, f"** unpacking is not allowed in a condition; {_ALLOWED}")
            pairs.append((self.compile(key).fn, self.compile(value).fn))
        text = self.segment(node)

        def build(env: Env) -> dict[Any, Any]:
            items = [(k(env), v(env)) for k, v in pairs]
            try:
                return dict(items)
            except TypeError:
                raise EvaluationError(f"lists and objects cannot be keys in {text!r}") from None

        return _Node(build)

    # -- calls ---------------------------------------------------------------------------

    def c_call(self, node: ast.expr) -> _Node:
        if not isinstance(node, ast.Call):
            raise self.error(node, _ALLOWED)
        name = self.callee(node.func)
        if node.keywords:
            keyword = node.keywords[0]
            what = "** unpacking" if keyword.arg is None else f"keyword argument {keyword.arg!r}"
            raise self.error(
                keyword, f"{what} is not allowed: {name}() takes its arguments by position"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(arg, f"star unpacking (*) is not allowed in {name}()")
        self.functions.add(name)
        namespace = name.partition(".")[0]
        if "." in name and namespace in SCOPE_NAMES:
            self.names.add(namespace)
        if name in SPECIAL_FORMS:
            return self.record(node, self.special(name, node))
        spec = self.registry.get(name)
        if spec is None:  # callee() already checked; keeps mypy and readers sure
            raise self.error(node.func, f"unknown function {name!r}")
        if node.args and isinstance(node.args[0], ast.GeneratorExp) and name in ("any", "all"):
            return self.record(node, self.generator(name, node))
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise self.error(node, f"{name}() takes {spec.arity()} argument(s), got {count}")
        args = [self.argument(spec, i, arg) for i, arg in enumerate(node.args)]
        if args and not spec.needs_env and 0 not in spec.literal_args:
            scope, key = args[0].path or ("", None)
            if key is not None and count == 1:  # `fn(scope.key)`: one closure
                return self.record(node, _Node(_call_path(spec, scope, key, args[0].fn)))
            if key is not None and count == 2:  # `fn(scope.key, literal)`: one closure
                const = args[1].const
                if const is _NO_CONST and 1 not in spec.literal_args:
                    const = self.literal_value(node.args[1])
                if const is not _NO_CONST and _flat(const):
                    fn = _call_path_const(spec, scope, key, args[0].fn, const)
                    return self.record(node, _Node(fn))
        return self.record(node, _Node(_call(spec, [a.fn for a in args], self.rule_id)))

    def callee(self, func: ast.expr) -> str:
        parts: list[str] = []
        target = func
        while isinstance(target, ast.Attribute):
            if target.attr.startswith("_"):
                raise self.error(func, f"names starting with '_' are not allowed: {target.attr!r}")
            parts.append(target.attr)
            target = target.value
        if not isinstance(target, ast.Name):
            raise self.error(
                func,
                "only registered functions can be called, by name (as in len(x) or "
                "pii.any(...)); calling the result of an expression is not allowed",
            )
        if target.id.startswith("_"):
            raise self.error(func, f"names starting with '_' are not allowed: {target.id!r}")
        parts.append(target.id)
        name = ".".join(reversed(parts))
        if name not in self.registry and name not in SPECIAL_FORMS:
            names = sorted([*SPECIAL_FORMS, *self.registry.names()])
            close = difflib.get_close_matches(name, names, n=1)  # a typo: `lenn`, `pii.anyy`
            known = (f"did you mean {close[0]!r}? " if close else "") + (
                f"registered functions: {', '.join(names)}"
            )
            if len(parts) > 1 and (target.id in SCOPE_NAMES or target.id in self.locals):
                raise self.error(
                    func,
                    f"method calls are not allowed: {name!r} is not a registered function; {known}",
                )
            raise self.error(func, f"unknown function {name!r}; {known}")
        return name

    def argument(self, spec: FunctionSpec, index: int, arg: ast.expr) -> _Node:
        if index not in spec.literal_args:
            return self.compile(arg)
        value = self.literal_value(arg)
        if value is _NO_CONST:
            raise self.error(
                arg,
                f"argument {index + 1} of {spec.name}() must be a literal, such as a quoted string",
            )
        if spec.prepare is not None:
            if id(arg) not in self.prepared:
                try:
                    self.prepared[id(arg)] = spec.prepare(index, value)
                except (ValueError, TypeError) as exc:
                    raise self.error(arg, f"{spec.name}(): {exc}") from None
            value = self.prepared[id(arg)]
        return self.constant(value)

    def special(self, name: str, node: ast.Call) -> _Node:
        expected = 1 if name == "has" else 2
        if len(node.args) != expected:
            raise self.error(
                node,
                f"{name}() takes exactly {expected} argument(s), got {len(node.args)}: "
                + ("has(params.field)" if name == "has" else "get(params.field, default)"),
            )
        path = node.args[0]
        if not _is_path(path, self.locals):
            raise self.error(
                path, f"{name}() needs a field path such as params.amount or item.tags[0]"
            )
        getter = self.access(path, soft=True).fn
        if isinstance(path, ast.Name) and path.id not in _MAYBE_ABSENT:
            getter = self.bare_name(name, path, getter)
        if name == "has":

            def has(env: Env) -> bool:
                return getter(env) is not _MISSING

            return _Node(has)
        default = self.compile(node.args[1]).fn

        def get(env: Env) -> Any:
            value = getter(env)
            return default(env) if value is _MISSING else value

        return _Node(get)

    def bare_name(self, name: str, path: ast.Name, getter: Fn) -> Fn:
        """has(actor) and get(tenant, d) read a null actor or tenant as absent (they are
        strings or null); any other name is always present, so has()/get() of it is a slip."""
        if path.id not in ("actor", "tenant"):
            field = "amount" if path.id in ("params", "action") else "field"
            example = f"has({path.id}.{field})" if name == "has" else f"get({path.id}.{field}, 0)"
            raise self.error(
                path,
                f"{name}({path.id}) "
                + ("is always true" if name == "has" else f"returns {path.id} itself")
                + f": {path.id} is always present"
                + ("" if path.id in ("kind", "items", PII_KEY) else f"; name a field: {example}"),
            )

        def present(env: Env) -> Any:
            value = getter(env)
            return _MISSING if value is None else value

        return present

    def generator(self, name: str, node: ast.Call) -> _Node:
        gen = node.args[0]
        if not isinstance(gen, ast.GeneratorExp):
            raise self.error(node, _ALLOWED)
        if len(node.args) != 1:
            raise self.error(node, f"{name}() over a generator takes exactly one argument")
        if self.in_generator:
            raise self.error(gen, "nested generator expressions are not allowed")
        if len(gen.generators) != 1:
            raise self.error(gen, "only one 'for' is allowed in a generator expression")
        comp = gen.generators[0]
        if comp.is_async:
            raise self.error(gen, "async generators are not allowed")
        target = comp.target
        if not isinstance(target, ast.Name):
            raise self.error(target, "the loop variable must be a plain name such as x")
        var = target.id
        if (
            var in SCOPE_NAMES
            or var in _ALIASES
            or var.startswith("_")
            or var in self.registry
            or var in SPECIAL_FORMS
        ):
            raise self.error(
                target,
                f"the loop variable {var!r} must not start with '_' or reuse a scope, "
                "function or literal name",
            )
        self.in_generator = True
        try:
            iterable = self.compile(comp.iter).fn
            self.locals = frozenset({var})
            conditions = tuple(self.compile(c).fn for c in comp.ifs)
            element = self.compile(gen.elt).fn
        finally:
            self.locals = frozenset()
            self.in_generator = False
        return _Node(_generator(name == "any", var, iterable, conditions, element))


_HANDLERS: Final[dict[type[ast.AST], Callable[[_Compiler, ast.expr], _Node]]] = {
    ast.Constant: _Compiler.c_constant,
    ast.Name: _Compiler.c_name,
    ast.Attribute: _Compiler.access,
    ast.Subscript: _Compiler.access,
    ast.BoolOp: _Compiler.c_boolop,
    ast.UnaryOp: _Compiler.c_unaryop,
    ast.BinOp: _Compiler.c_binop,
    ast.IfExp: _Compiler.c_ifexp,
    ast.Compare: _Compiler.c_compare,
    ast.List: _Compiler.c_list,
    ast.Tuple: _Compiler.c_list,
    ast.Set: _Compiler.c_set,
    ast.Dict: _Compiler.c_dict,
    ast.Call: _Compiler.c_call,
}


def _is_path(node: ast.expr, local_names: frozenset[str]) -> bool:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and (node.id in SCOPE_NAMES or node.id in local_names)


# ---------------------------------------------------------------------------------------
# Closure factories. Each returns a small function of the evaluation env; the common
# shapes are unrolled because every call saved is ~50 ns on the decision's hot path.


def _scope_root(name: str, soft: bool) -> Fn:
    if name == PII_KEY:

        def pii(env: Env) -> Any:
            return pii_view(env, "pii").as_dicts()

        return pii
    message = f"no {name!r} in this scope"
    if soft:

        def lookup_soft(env: Env) -> Any:
            return env.get(name, _MISSING)

        return lookup_soft

    def lookup(env: Env) -> Any:
        try:
            return env[name]
        except KeyError:
            raise MissingField(message) from None

    return lookup


def _local_root(name: str) -> Fn:
    def local(env: Env) -> Any:
        return env[name]

    return local


def _getter(root: Fn, scope: str | None, steps: list[tuple[Any, Fn | None, str, str]]) -> Fn:
    if not steps:
        return root
    static = all(dynamic is None for _, dynamic, _, _ in steps)
    if scope is not None and scope != PII_KEY and static and len(steps) == 1:
        return _getter1(scope, steps[0])
    if scope is not None and scope != PII_KEY and static and len(steps) == 2:
        return _getter2(scope, steps[0], steps[1])
    frozen = tuple(steps)

    def walk(env: Env) -> Any:
        value = root(env)
        for key, dynamic, prefix, path in frozen:
            if dynamic is not None:
                key = dynamic(env)
            found = _lookup(value, key)
            if found is _MISSING:
                raise _missing(value, key, prefix, path, dynamic is not None)
            value = found
        return value

    return walk


def _getter1(scope: str, step: tuple[Any, Fn | None, str, str]) -> Fn:
    key, _, prefix, path = step
    absent = f"no {scope!r} in this scope"

    def get1(env: Env) -> Any:
        try:
            value = env[scope]
        except KeyError:
            raise MissingField(absent) from None
        if type(value) is dict:
            try:
                return value[key]
            except KeyError:
                pass
        found = _lookup(value, key)
        if found is _MISSING:
            raise _missing(value, key, prefix, path, False)
        return found

    return get1


def _getter2(
    scope: str, first: tuple[Any, Fn | None, str, str], second: tuple[Any, Fn | None, str, str]
) -> Fn:
    get1 = _getter1(scope, first)
    key, _, prefix, path = second

    def get2(env: Env) -> Any:
        value = get1(env)
        if type(value) is dict:
            try:
                return value[key]
            except KeyError:
                pass
        found = _lookup(value, key)
        if found is _MISSING:
            raise _missing(value, key, prefix, path, False)
        return found

    return get2


def _soft_getter(root: Fn, steps: list[tuple[Any, Fn | None, str, str]]) -> Fn:
    frozen = tuple(steps)

    def walk_soft(env: Env) -> Any:
        value = root(env)
        for key, dynamic, _, _ in frozen:
            if value is _MISSING:
                return _MISSING
            value = _lookup(value, dynamic(env) if dynamic is not None else key)
        return value

    return walk_soft


def _and(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        a, b = fns

        def and2(env: Env) -> bool:
            return True if a(env) and b(env) else False

        return and2
    if len(fns) == 3:
        a, b, c = fns

        def and3(env: Env) -> bool:
            return True if a(env) and b(env) and c(env) else False

        return and3

    def and_n(env: Env) -> bool:
        for fn in fns:
            if not fn(env):
                return False
        return True

    return and_n


def _or(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        a, b = fns

        def or2(env: Env) -> bool:
            return True if a(env) or b(env) else False

        return or2

    def or_n(env: Env) -> bool:
        for fn in fns:
            if fn(env):
                return True
        return False

    return or_n


def _membership(constant: Any) -> tuple[Any, Any]:
    """A fast container for `x in [literal, ...]`, and the list to fall back on.

    With numbers among the members the container is the list itself, searched with
    `_contains`, so that booleans and numbers stay apart.
    """
    if _numeric_members(constant):
        return tuple(constant), tuple(constant)
    if isinstance(constant, (list, frozenset)):
        try:
            return frozenset(constant), tuple(constant)
        except TypeError:
            return tuple(constant), tuple(constant)
    return constant, constant


def _compare_one(op: type[ast.AST], left: Fn, right: Fn, constant: Any, text: str) -> Fn:
    symbol = _SYMBOLS[op]
    if op is ast.Is:

        def is_none(env: Env) -> bool:
            return left(env) is None

        return is_none
    if op is ast.IsNot:

        def is_not_none(env: Env) -> bool:
            return left(env) is not None

        return is_not_none
    if constant is _NO_CONST:
        return _compare_chain(left, ((_COMPARISONS[op], right, symbol),), text)
    if op is ast.In or op is ast.NotIn:
        return _member(op is ast.In, left, constant, text)
    if op is ast.Eq:

        def eq(env: Env) -> bool:
            return _eq(left(env), constant)

        return eq
    if op is ast.NotEq:

        def ne(env: Env) -> bool:
            return not _eq(left(env), constant)

        return ne
    return _order(op, left, constant, text)


_INLINE: Final[frozenset[type[ast.AST]]] = frozenset(
    {ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn}
)


def _compare_path(
    scope: str, key: str | None, getter: Fn, op: type[ast.AST], constant: Any, text: str
) -> Fn:
    """`scope.key <op> literal` in one closure: the hot shape of most rules.

    Reads the field inline when the scope value is a plain dict; anything else (a
    missing field, a list, another Mapping) goes through `getter`, which raises the
    same errors as the uninlined path.
    """
    symbol = _SYMBOLS[op]
    if op is ast.In or op is ast.NotIn:
        return _member_path(scope, key, getter, op is ast.In, constant, text)
    compare = _COMPARISONS[op]
    if key is None:

        def name_compare(env: Env) -> bool:
            try:
                value = env[scope]
            except KeyError:
                value = getter(env)
            try:
                return compare(value, constant)  # type: ignore[no-any-return]
            except TypeError:
                raise _compare_error(symbol, value, constant, text) from None

        return name_compare

    def field_compare(env: Env) -> bool:
        try:
            parent = env[scope]
            value = parent[key] if type(parent) is dict else getter(env)
        except KeyError:
            value = getter(env)
        try:
            return compare(value, constant)  # type: ignore[no-any-return]
        except TypeError:
            raise _compare_error(symbol, value, constant, text) from None

    return field_compare


def _member_path(
    scope: str, key: str | None, getter: Fn, positive: bool, constant: Any, text: str
) -> Fn:
    fast, fallback = _membership(constant)
    numeric = _numeric_members(constant)
    symbol = "in" if positive else "not in"

    def failed(value: Any) -> EvaluationError:
        return _compare_error(symbol, value, constant, text)

    if key is None:

        def name_member(env: Env) -> bool:
            try:
                value = env[scope]
            except KeyError:
                value = getter(env)
            try:
                found = value in fast
            except TypeError:
                if fast is fallback:
                    raise failed(value) from None
                found = value in fallback  # an unhashable value against literal members
            if found and numeric:
                found = _contains(value, fallback)
            return found if positive else not found

        return name_member

    def field_member(env: Env) -> bool:
        try:
            parent = env[scope]
            value = parent[key] if type(parent) is dict else getter(env)
        except KeyError:
            value = getter(env)
        try:
            found = value in fast
        except TypeError:
            if fast is fallback:
                raise failed(value) from None
            found = value in fallback  # an unhashable value against literal members
        if found and numeric:
            found = _contains(value, fallback)
        return found if positive else not found

    return field_member


def _member(positive: bool, left: Fn, constant: Any, text: str) -> Fn:
    fast, fallback = _membership(constant)
    numeric = _numeric_members(constant)
    symbol = "in" if positive else "not in"

    def member(env: Env) -> bool:
        value = left(env)
        try:
            found = value in fast
        except TypeError:
            if fast is fallback:
                raise _compare_error(symbol, value, constant, text) from None
            found = value in fallback  # an unhashable value against literal list members
        if found and numeric:
            found = _contains(value, fallback)
        return found if positive else not found

    return member


def _order(op: type[ast.AST], left: Fn, constant: Any, text: str) -> Fn:
    symbol = _SYMBOLS[op]

    def failed(value: Any) -> EvaluationError:
        return _compare_error(symbol, value, constant, text)

    if _has_bool(constant):  # booleans are not ordered

        def never(env: Env) -> bool:
            raise failed(left(env))

        return never
    if op is ast.Gt:

        def gt(env: Env) -> bool:
            value = left(env)
            if type(value) is bool or type(value) is list and _has_bool(value):
                raise failed(value)
            try:
                return value > constant  # type: ignore[no-any-return]
            except TypeError:
                raise failed(value) from None

        return gt
    if op is ast.GtE:

        def ge(env: Env) -> bool:
            value = left(env)
            if type(value) is bool or type(value) is list and _has_bool(value):
                raise failed(value)
            try:
                return value >= constant  # type: ignore[no-any-return]
            except TypeError:
                raise failed(value) from None

        return ge
    if op is ast.Lt:

        def lt(env: Env) -> bool:
            value = left(env)
            if type(value) is bool or type(value) is list and _has_bool(value):
                raise failed(value)
            try:
                return value < constant  # type: ignore[no-any-return]
            except TypeError:
                raise failed(value) from None

        return lt

    def le(env: Env) -> bool:
        value = left(env)
        if type(value) is bool or type(value) is list and _has_bool(value):
            raise failed(value)
        try:
            return value <= constant  # type: ignore[no-any-return]
        except TypeError:
            raise failed(value) from None

    return le


def _compare_chain(
    left: Fn, parts: tuple[tuple[Callable[[Any, Any], Any], Fn, str], ...], text: str
) -> Fn:
    def compare(env: Env) -> bool:
        a = left(env)
        for op, right, symbol in parts:
            b = right(env)
            try:
                if not op(a, b):
                    return False
            except TypeError:
                raise _compare_error(symbol, a, b, text) from None
            a = b
        return True

    return compare


def _not_path(scope: str, key: str | None, getter: Fn) -> Fn:
    """`not scope.key` in one closure (see _compare_path)."""

    def not_field(env: Env) -> bool:
        try:
            parent = env[scope]
            value = parent[key] if type(parent) is dict else getter(env)
        except KeyError:
            value = getter(env)
        return not value

    return not_field


def _call_path(spec: FunctionSpec, scope: str, key: str | None, getter: Fn) -> Fn:
    """`fn(scope.key)` in one closure (see _compare_path)."""
    fn, name = spec.fn, spec.name

    def call_field(env: Env) -> Any:
        try:
            parent = env[scope]
            value = parent[key] if type(parent) is dict else getter(env)
        except KeyError:
            value = getter(env)
        try:
            return fn(value)
        except GuardError:
            raise
        except Exception as exc:
            raise _call_failed(name, exc) from exc

    return call_field


def _flat(value: Any) -> bool:
    """A scalar, or a list or set of scalars: safe to share between calls (lists are copied)."""
    if isinstance(value, (list, frozenset)):
        return all(v is None or isinstance(v, (str, int, float)) for v in value)
    return True


def _call_path_const(spec: FunctionSpec, scope: str, key: str, getter: Fn, constant: Any) -> Fn:
    """`fn(scope.key, literal)` in one closure (see _compare_path).

    A list literal reaches the function as a fresh list each call, as if built anew, so
    a function that changes its argument cannot change the condition.
    """
    fn, name = spec.fn, spec.name
    fresh = isinstance(constant, list)

    def call_field_const(env: Env) -> Any:
        try:
            parent = env[scope]
            value = parent[key] if type(parent) is dict else getter(env)
        except KeyError:
            value = getter(env)
        try:
            return fn(value, list(constant) if fresh else constant)
        except GuardError:
            raise
        except Exception as exc:
            raise _call_failed(name, exc) from exc

    return call_field_const


def _call(spec: FunctionSpec, args: list[Fn], rule_id: str) -> Fn:
    fn, name = spec.fn, spec.name
    if spec.needs_env:
        return _call_with_env(fn, name, tuple(args), rule_id)
    if len(args) == 1:
        (a,) = args

        def call1(env: Env) -> Any:
            x = a(env)
            try:
                return fn(x)
            except GuardError:
                raise
            except Exception as exc:
                raise _call_failed(name, exc) from exc

        return call1
    frozen = tuple(args)

    def call_n(env: Env) -> Any:
        values = [a(env) for a in frozen]
        try:
            return fn(*values)
        except GuardError:
            raise
        except Exception as exc:
            raise _call_failed(name, exc) from exc

    return call_n


def _call_with_env(fn: Callable[..., Any], name: str, args: tuple[Fn, ...], rule_id: str) -> Fn:
    def call_env(env: Env) -> Any:
        values = [a(env) for a in args]
        try:
            return fn(env, rule_id, *values)
        except GuardError:
            raise
        except Exception as exc:
            raise _call_failed(name, exc) from exc

    return call_env


def _generator(
    want_any: bool, var: str, iterable: Fn, conditions: tuple[Fn, ...], element: Fn
) -> Fn:
    def any_of(env: Env) -> bool:
        frame = dict(env)
        started = time.thread_time()
        for n, item in enumerate(_iterable(iterable(env))):
            if n & 15 == 15 and time.thread_time() - started > MAX_GENERATOR_SECONDS:
                raise _too_slow("any")
            frame[var] = item
            if all(c(frame) for c in conditions) and element(frame):
                return True
        return False

    def all_of(env: Env) -> bool:
        frame = dict(env)
        started = time.thread_time()
        for n, item in enumerate(_iterable(iterable(env))):
            if n & 15 == 15 and time.thread_time() - started > MAX_GENERATOR_SECONDS:
                raise _too_slow("all")
            frame[var] = item
            if all(c(frame) for c in conditions) and not element(frame):
                return False
        return True

    return any_of if want_any else all_of


def _too_slow(name: str) -> EvaluationError:
    return EvaluationError(
        f"{name}() over a generator ran for more than {MAX_GENERATOR_SECONDS:g} s of CPU time; "
        "its condition is too costly to repeat for every element"
    )
