"""Conditions rendered as plain Python expressions, and a pack's rules as one plan function.

The closures of `_expr` are exact: each raises the language's own errors. They are also
a Python call per node. For the shapes most rules have (field paths, comparisons with
literals, and/or/not, arithmetic and function calls) this module renders the same
computation as one Python expression, and `build_plan` joins every rule of a rule set
into one function, so deciding costs no call per rule and none per node.

The rendering is a fast path, never the authority: whenever it raises, for whatever
reason, the rule is evaluated again through its closures, which give the exact value or
the exact error. Where it does not raise it computes what the closures compute, with the
same Python operations in the same order (tests compare the two on random inputs).

No policy text reaches `compile`: the source is assembled from fixed templates, and every
key, literal, function and closure enters through the namespace under a generated name.
`_checked` refuses any source holding another identifier, or a quote.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any

from guard.policy import _expr as X
from guard.policy._functions import PII_KEY, SPECIAL_FORMS

Plan = Callable[[Any], list[tuple[int, Any]]]

#: What a plan reports for a rule whose fast path raised: evaluate it exactly.
SLOW: Any = object()

_NAMES = itertools.count()
_OPS = X._SYMBOLS  # the comparison operators as Python writes them
_KEYWORDS = frozenset(
    {"e", "v", "out", "plan", "if", "else", "and", "or", "not", "in", "is", "None", "True", "bool",
     "False", "type", "dict", "list", "set", "try", "except", "Exception", "return", "def",
     "append", "_N", "_SLOW", "_UNORDERED"}
)  # fmt: skip
_GENERATED = re.compile(r"_[kcfh][0-9]+")  # names bound in the namespace
_TEMP = re.compile(r"_t[0-9]+")  # walrus temporaries of path steps
_SAFE_CHARS = re.compile(r"[\w\s()\[\],:=<>!+\-*/%.]*", re.ASCII)


class _Unsupported(Exception):
    """This node is rendered as a call of its closure instead."""


class _NotPlain(Exception):
    """A path step met something other than a plain dict (or list): take the exact path."""


def _not_plain() -> Any:
    raise _NotPlain


_BASE: dict[str, Any] = {
    "__builtins__": {},
    "type": type,
    "dict": dict,
    "list": list,
    "bool": bool,
    "set": set,
    "Exception": Exception,
    "_N": _not_plain,
    "_UNORDERED": (bool, list),  # ordered by the closures: booleans are refused at any depth
    "_SLOW": SLOW,
}


class Inline:
    """One condition as a Python expression over `e`, and the names it refers to."""

    __slots__ = ("code", "names")

    def __init__(self, code: str, names: dict[str, Any]) -> None:
        self.code, self.names = code, names


def render(compiler: X._Compiler, root: ast.expr) -> Inline | None:
    """Render the condition `compiler` compiled (in fast mode), or None if it cannot be."""
    nodes = compiler.nodes
    if nodes is None or id(root) not in nodes:
        return None
    renderer = _Renderer(compiler, nodes)
    try:
        code = renderer.node(root)
        _checked(code, renderer.names)
        compile(code, "<guard condition>", "eval")
    except (_Unsupported, SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    return Inline(code, renderer.names)


def build_plan(rules: Sequence[Any]) -> Plan | None:
    """One function evaluating every rule's condition: a list of (index, value) for the
    rules whose value is not False (`SLOW` where the fast path raised)."""
    names = dict(_BASE)
    lines = ["def plan(e):", "    out = []"]
    for index, rule in enumerate(rules):
        when = rule.when
        if when is None:
            continue
        if when.inline is not None:
            code = when.inline.code
            names.update(when.inline.names)
        else:
            closure = f"_c{next(_NAMES)}"
            names[closure] = when.fast
            code = f"{closure}(e)"
        lines += [
            "    try:",
            f"        if (v := {code}) is not False: out.append(({index}, v))",
            "    except Exception:",
            f"        out.append(({index}, _SLOW))",
        ]
    if len(lines) == 2:
        return None
    lines.append("    return out")
    source = "\n".join(lines)
    try:
        _checked(source, names)
        exec(compile(source, "<guard plan>", "exec"), names)  # noqa: S102 - see module doc
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    plan: Plan = names["plan"]
    return plan


def _checked(source: str, names: dict[str, Any]) -> None:
    """Refuse source with a quote or an identifier that is neither fixed nor generated."""
    if _SAFE_CHARS.fullmatch(source) is None:
        raise ValueError("generated source holds an unexpected character")
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source):
        if word in _KEYWORDS or _TEMP.fullmatch(word):
            continue
        if _GENERATED.fullmatch(word) is None or word not in names:
            raise ValueError(f"generated source names {word!r}")


class _Renderer:
    def __init__(self, compiler: X._Compiler, nodes: dict[int, X._Node]) -> None:
        self.compiler = compiler
        self.nodes = nodes
        self.names: dict[str, Any] = {}

    def name(self, value: Any, kind: str = "k") -> str:
        name = f"_{kind}{next(_NAMES)}"
        self.names[name] = value
        return name

    def node(self, node: ast.expr) -> str:
        compiled = self.nodes.get(id(node))
        if compiled is None:
            raise _Unsupported
        try:
            return self.inline(node, compiled)
        except _Unsupported:
            return f"{self.name(compiled.fn, 'c')}(e)"

    def literal(self, value: Any) -> str:
        if isinstance(value, list):
            if not X._flat(value):
                raise _Unsupported
            return f"list({self.name(value)})"  # a fresh list each time, as the closure builds
        if isinstance(value, (set, frozenset)):
            return f"set({self.name(value)})"
        if value is None or isinstance(value, (str, int, float)):
            return self.name(value)
        raise _Unsupported

    def inline(self, node: ast.expr, compiled: X._Node) -> str:
        if compiled.const is not X._NO_CONST and not isinstance(node, ast.Call):
            return self.literal(compiled.const)
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            return self.path(node)
        if isinstance(node, ast.BoolOp):
            joiner = " and " if isinstance(node.op, ast.And) else " or "
            inner = joiner.join(self.node(v) for v in node.values)
            return f"(True if ({inner}) else False)"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"(not {self.node(node.operand)})"
        if isinstance(node, ast.BinOp):
            apply = X._ARITHMETIC.get(type(node.op))
            if apply is None:
                raise _Unsupported
            a, b = self.node(node.left), self.node(node.right)
            text = self.name(self.compiler.segment(node))
            return f"{self.name(apply, 'h')}({a}, {b}, {text})"
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.node(n) for n in (node.test, node.body, node.orelse))
            return f"({body} if {test} else {orelse})"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            value = self.compiler.literal_value(node)
            if value is not X._NO_CONST:
                return self.literal(value)
            return "[" + ", ".join(self.node(e) for e in node.elts) + "]"
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _Unsupported

    def path(self, node: ast.expr) -> str:
        links: list[ast.Attribute | ast.Subscript] = []
        root = node
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            links.append(root)
            root = root.value
        if (
            not isinstance(root, ast.Name)
            or root.id not in X.SCOPE_NAMES
            or root.id == PII_KEY
            or self.compiler.locals
        ):
            raise _Unsupported
        code = f"e[{self.name(root.id)}]"
        for link in reversed(links):
            if isinstance(link, ast.Attribute):
                key: Any = link.attr
            else:
                key = self.compiler.literal_value(link.slice)
                if not (isinstance(key, str) or type(key) is int):
                    raise _Unsupported
            container = "dict" if isinstance(key, str) else "list"
            temp = f"_t{next(_NAMES)}"
            code = f"({temp}[{self.name(key)}] if type({temp} := {code}) is {container} else _N())"
        return code

    def compare(self, node: ast.Compare) -> str:
        """The closures' comparisons (`_expr._COMPARISONS`): booleans are not numbers."""
        left = self.node(node.left)
        if len(node.ops) != 1:
            raise _Unsupported  # chains: the closure
        op, comparator = node.ops[0], node.comparators[0]
        symbol = _OPS[type(op)]
        if isinstance(op, (ast.Is, ast.IsNot)):
            return f"({left} {symbol} None)"
        constant = self.compiler.literal_value(comparator)
        if constant is X._NO_CONST:
            right = self.node(comparator)
            if isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
                return f"{self.name(X._COMPARISONS[type(op)], 'h')}({left}, {right})"
            a, b = f"_t{next(_NAMES)}", f"_t{next(_NAMES)}"
            guard = (  # lists compare element-wise: the closure looks for booleans inside
                f"type({a} := {left}) in _UNORDERED or type({b} := {right}) in _UNORDERED"
            )
            return f"(_N() if {guard} else {a} {symbol} {b})"
        if isinstance(op, (ast.In, ast.NotIn)):
            if X._numeric_members(constant):
                raise _Unsupported
            fast, _ = X._membership(constant)
            return f"({left} {symbol} {self.name(fast)})"
        value = self.name(constant)
        temp = f"_t{next(_NAMES)}"
        if isinstance(op, (ast.Eq, ast.NotEq)):
            if type(constant) is bool:
                return f"({left} {'is' if isinstance(op, ast.Eq) else 'is not'} {value})"
            if isinstance(constant, (int, float)):
                if isinstance(op, ast.Eq):
                    return f"(type({temp} := {left}) is not bool and {temp} == {value})"
                return f"(type({temp} := {left}) is bool or {temp} != {value})"
            if isinstance(constant, (list, tuple, dict, frozenset)):  # [1] == [true] is false
                return f"{self.name(X._COMPARISONS[type(op)], 'h')}({left}, {value})"
            return f"({left} {symbol} {value})"
        if type(constant) is bool or isinstance(constant, (list, tuple)):
            raise _Unsupported
        return f"(_N() if type({temp} := {left}) in _UNORDERED else {temp} {symbol} {value})"

    def call(self, node: ast.Call) -> str:
        name = _callee(node.func)
        spec = self.compiler.registry.get(name) if name is not None else None
        if spec is None or spec.needs_env or name in SPECIAL_FORMS:
            raise _Unsupported
        if node.args and isinstance(node.args[0], ast.GeneratorExp):
            raise _Unsupported
        args = []
        for index, arg in enumerate(node.args):
            if index in spec.literal_args:
                if spec.prepare is not None:
                    if id(arg) not in self.compiler.prepared:
                        raise _Unsupported
                    value = self.compiler.prepared[id(arg)]
                else:
                    value = self.compiler.literal_value(arg)
                if isinstance(value, list):
                    args.append(self.literal(value))
                else:
                    args.append(self.name(value))
            else:
                args.append(self.node(arg))
        return f"{self.name(spec.fn, 'f')}({', '.join(args)})"


def _callee(func: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    parts.append(func.id)
    return ".".join(reversed(parts))
