"""Built-in functions of the policy condition language, and the registry that holds them."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import re
import reprlib
import shlex
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

import idna
import re2

from guard._exceptions import EvaluationError, PiiUnavailable
from guard._models import PiiFinding
from guard.policy._rate import RateStore, add, check_amount

__all__ = [
    "DEFAULT_FUNCTIONS",
    "MAX_SEQUENCE",
    "PII_KEY",
    "RATE_FUNCTIONS",
    "RATE_STORE_KEY",
    "FunctionRegistry",
    "FunctionSpec",
    "PiiView",
    "describe",
]

#: The env key holding the `RateStore` that `rate()` counts in.
RATE_STORE_KEY = "__rate__"
#: The functions that count in the rate store: a pack calling one needs the store (and a
#: shared one, Redis, when several processes serve it).
RATE_FUNCTIONS = frozenset({"rate", "total"})
#: The env key holding the `PiiView` (or None when no PII scan ran).
PII_KEY = "pii"
#: Largest string or list that `*` (and friends) may build.
MAX_SEQUENCE = 100_000
#: Widest `ndigits` accepted by `round()`: rounding an int to -10**9 digits would hang.
MAX_ROUND_DIGITS = 100

SPECIAL_FORMS = frozenset({"has", "get"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\Z")
_CONTAINERS = (list, tuple, dict, set, frozenset)
_SIZED = (str, *_CONTAINERS)
_JSON_TYPES: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "list",
    tuple: "list",
    dict: "object",
    set: "set",
    frozenset: "set",
}
_REPR = reprlib.Repr()
_REPR.maxstring = 40
_REPR.maxother = 40
_REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxtuple = 4
_REPR.maxlevel = 2


def describe(value: Any) -> str:
    """Name a value's JSON type and show a short repr of it, for error messages."""
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"{kind} with {value.bit_length()} bits"
    try:
        shown = _REPR.repr(value)
    except Exception:  # a value whose repr fails must not hide the real error
        shown = "<unprintable>"
    return f"{kind} {shown}"


def _fail(function: str, expected: str, value: Any) -> EvaluationError:
    return EvaluationError(f"{function}() needs {expected}, got {describe(value)}")


# ---------------------------------------------------------------------------------------
# The registry.


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One registered function: how to call it and which arguments must be literals."""

    name: str
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None
    needs_env: bool
    literal_args: tuple[int, ...]
    prepare: Callable[[int, Any], Any] | None

    def arity(self) -> str:
        """Describe how many arguments the function takes, for error messages."""
        if self.max_args == self.min_args:
            return f"exactly {self.min_args}"
        if self.max_args is None:
            return f"at least {self.min_args}"
        return f"{self.min_args} to {self.max_args}"


class FunctionRegistry:
    """The functions a condition may call: small, explicit, filled by `register()` calls.

    A registered function receives evaluated arguments positionally. With
    `needs_env=True` it is called as `fn(env, rule_id, *args)`, where `env` is the
    evaluation mapping and `rule_id` the id given to `compile_expr`. Arguments whose
    index is in `literal_args` must be literals in the condition text; `prepare(index,
    value)`, if given, turns each such literal into what `fn` receives, once, at load
    time, and raises `ValueError` (or `TypeError`) to reject it as a load error.
    """

    def __init__(self) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        self._frozen = False

    def register(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        min_args: int,
        max_args: int | None,
        needs_env: bool = False,
        literal_args: tuple[int, ...] = (),
        prepare: Callable[[int, Any], Any] | None = None,
    ) -> None:
        """Add a function under `name` (dotted names such as "pii.any" are namespaces)."""
        if self._frozen:
            raise ValueError(
                "this registry is shared and read-only; register into DEFAULT_FUNCTIONS.copy()"
            )
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"invalid function name {name!r}; expected identifiers separated by dots, "
                "not starting with '_'"
            )
        if name in SPECIAL_FORMS:
            raise ValueError(f"{name!r} is a special form of the condition language")
        if name in self._specs:
            raise ValueError(f"function {name!r} is already registered")
        if not callable(fn):
            raise TypeError(f"fn for {name!r} must be callable, got {fn!r}")
        if min_args < 0 or (max_args is not None and max_args < min_args):
            raise ValueError(
                f"invalid arity for {name!r}: min_args={min_args}, max_args={max_args}"
            )
        for index in literal_args:
            if index < 0 or (max_args is not None and index >= max_args):
                raise ValueError(f"literal_args index {index} is out of range for {name!r}")
        self._specs[name] = FunctionSpec(
            name, fn, min_args, max_args, needs_env, tuple(literal_args), prepare
        )

    def get(self, name: str) -> FunctionSpec | None:
        """The spec registered under `name`, or None."""
        return self._specs.get(name)

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._specs))

    def copy(self) -> FunctionRegistry:
        """A writable copy, to register more functions without touching this registry."""
        clone = FunctionRegistry()
        clone._specs = dict(self._specs)
        return clone

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"FunctionRegistry({', '.join(self.names())})"


# ---------------------------------------------------------------------------------------
# Plain functions.


def _len(value: Any) -> int:
    if isinstance(value, _SIZED):
        return len(value)
    raise _fail("len", "a string, list or object", value)


def _lower(value: Any) -> str:
    if isinstance(value, str):
        return value.lower()
    raise _fail("lower", "a string", value)


def _upper(value: Any) -> str:
    if isinstance(value, str):
        return value.upper()
    raise _fail("upper", "a string", value)


def _is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number: true and false are not numbers (`true + 1` is an error too)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _abs(value: Any) -> int | float:
    if _is_number(value):
        return abs(value)
    raise _fail("abs", "a number", value)


def _extreme(name: str, pick: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    values: Any = args
    if len(args) == 1:
        values = args[0]
        if not isinstance(values, (list, tuple, set, frozenset)):
            raise _fail(name, "a list or several values", values)
        if not values:
            raise EvaluationError(f"{name}() of an empty list")
    flag = next((v for v in values if isinstance(v, bool)), None)
    if flag is not None:  # `true > false` is an error: booleans are not ordered
        raise EvaluationError(f"{name}() cannot order {describe(flag)}: booleans are not ordered")
    try:
        return pick(values)
    except TypeError:
        raise EvaluationError(
            f"{name}() cannot order {', '.join(describe(v) for v in list(values)[:3])}"
        ) from None


def _min(*args: Any) -> Any:
    return _extreme("min", min, args)


def _max(*args: Any) -> Any:
    return _extreme("max", max, args)


def _round(value: Any, ndigits: Any = None) -> int | float:
    if not _is_number(value):
        raise _fail("round", "a number", value)
    if ndigits is None:
        return round(value)
    if type(ndigits) is not int or abs(ndigits) > MAX_ROUND_DIGITS:
        raise EvaluationError(
            f"round() needs ndigits as an integer between -{MAX_ROUND_DIGITS} and "
            f"{MAX_ROUND_DIGITS}, got {describe(ndigits)}"
        )
    return round(value, ndigits)


def _int(value: Any) -> int:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return int(value)
        except (ValueError, OverflowError) as exc:
            raise EvaluationError(f"int() cannot convert {describe(value)}: {exc}") from None
    raise _fail("int", "a string or number", value)


def _float(value: Any) -> float:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (ValueError, OverflowError) as exc:
            raise EvaluationError(f"float() cannot convert {describe(value)}: {exc}") from None
        if not math.isfinite(number):  # "nan" would make every comparison false
            raise EvaluationError(f"float() of {describe(value)} is not a finite number")
        return number
    raise _fail("float", "a string or number", value)


def _str(value: Any) -> str:
    # JSON spellings, to match the language's true/false/null.
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError as exc:  # ints beyond sys.get_int_max_str_digits()
            raise EvaluationError(f"str() cannot convert {describe(value)}: {exc}") from None
    raise _fail("str", "a string, number, boolean or null", value)


def _iterable(name: str, value: Any) -> Iterable[Any]:
    if isinstance(value, _CONTAINERS):
        return value
    raise _fail(name, "a list", value)


def _any(value: Any) -> bool:
    return any(_iterable("any", value))


def _all(value: Any) -> bool:
    return all(_iterable("all", value))


def _sum(value: Any) -> int | float:
    total: int | float = 0
    for element in _iterable("sum", value):
        if not _is_number(element):
            raise EvaluationError(f"sum() needs a list of numbers, found {describe(element)}")
        total += element
    if isinstance(total, float) and not math.isfinite(total):  # inf, or nan from inf - inf
        raise EvaluationError(f"sum() of {describe(value)} is not a finite number")
    return total


# ---------------------------------------------------------------------------------------
# Text functions.

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors become load errors; RE2 must not write to stderr


def compile_pattern(index: int, pattern: Any) -> Any:
    """Compile the RE2 pattern literal of `matches()`; an invalid pattern is a ValueError."""
    if not isinstance(pattern, str):
        raise ValueError(f"the pattern must be a string literal, got {describe(pattern)}")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"invalid RE2 pattern {pattern!r}: {reason}") from None


def _matches(text: Any, pattern: Any) -> bool:
    if not isinstance(text, str):
        raise _fail("matches", "a string to search", text)
    return pattern.search(text) is not None


def _needles(name: str, value: Any) -> Sequence[Any]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    raise _fail(name, "a string or a list of strings", value)


def _contains_any(haystack: Any, needles: Any) -> bool:
    wanted = _needles("contains_any", needles)
    if isinstance(haystack, str):
        text = _fold(haystack)
        for needle in wanted:
            if not isinstance(needle, str):
                raise _fail("contains_any", "string needles for a string", needle)
            if _fold(needle) in text:
                return True
        return False
    if isinstance(haystack, dict):  # an object's keys, which are strings
        return any(type(needle) is str and needle in haystack for needle in wanted)
    if isinstance(haystack, _CONTAINERS):
        return _any_same(wanted, haystack)
    raise _fail("contains_any", "a string or list to search", haystack)


def _fold(text: str) -> str:
    """Text as contains_any() compares it: Unicode case folding (ß is ss) after NFKC, so
    full-width and other compatibility forms are their plain letters (ＫＩＬＬ is kill),
    with the Turkish İ and ı read as i (KİLL and kıll contain kill)."""
    if text.isascii():  # NFKC leaves ASCII as it is, and casefold() is lower() there
        return text.lower()
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return folded.replace("i\u0307", "i").replace("\u0131", "i")


#: Most element pairs contains_any() compares one by one (lists and objects as elements):
#: scalars are looked up by hash, so two long lists of them cost their length, not its square.
MAX_PAIRS = 1_000_000
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar_key(value: Any) -> tuple[str, Any] | None:
    """A hashable key that is equal exactly when `_same` says two scalars are, or None."""
    kind = type(value)
    if kind not in _SCALARS or (kind is float and math.isnan(value)):
        return None
    if kind is bool:
        return ("b", value)
    return ("n" if kind is int or kind is float else "s" if kind is str else "z", value)


def _any_same(wanted: Sequence[Any], haystack: Iterable[Any]) -> bool:
    """`any(_same(n, x) for n in wanted for x in haystack)`, in linear time for scalars."""
    keys: set[tuple[str, Any]] = set()
    others: list[Any] = []
    for needle in wanted:
        key = _scalar_key(needle)
        if key is None:
            others.append(needle)
        else:
            keys.add(key)
    budget = MAX_PAIRS
    for x in haystack:
        key = _scalar_key(x)
        if key is not None and key in keys:
            return True
        pool = others if key is not None else wanted
        budget -= len(pool)
        if budget < 0:
            raise EvaluationError(
                f"contains_any() would compare more than {MAX_PAIRS} pairs of lists or "
                "objects; compare scalars, or fewer elements"
            )
        if any(_same(needle, x) for needle in pool):
            return True
    return False


def _same(a: Any, b: Any) -> bool:
    """JSON equality, as `==` in a condition: true is not 1, in lists and objects too."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    try:
        return bool(a == b)
    except TypeError:
        return False


def _affixes(name: str, value: Any) -> tuple[str, ...]:
    found = _needles(name, value)
    for affix in found:
        if not isinstance(affix, str):
            raise _fail(name, "a string or a list of strings", affix)
    return tuple(found)


def _startswith(text: Any, prefixes: Any) -> bool:
    if not isinstance(text, str):
        raise _fail("startswith", "a string", text)
    return text.startswith(_affixes("startswith", prefixes))


def _endswith(text: Any, suffixes: Any) -> bool:
    if not isinstance(text, str):
        raise _fail("endswith", "a string", text)
    return text.endswith(_affixes("endswith", suffixes))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_SPECIAL = re.compile(r"(?i)(https?|wss?|ftp):/*")  # schemes whose slashes browsers ignore
_URL_NOISE = str.maketrans({"\t": None, "\n": None, "\r": None, "\\": "/"})


def _domain(url: Any) -> str:
    if not isinstance(url, str):
        raise _fail("domain", "a URL string", url)
    # Read the host the way a browser would: strip what browsers strip and treat a
    # backslash as a slash, so "https://evil.com\@good.com" yields evil.com.
    stripped = url.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r ")
    if _backslash_before_path(stripped):
        raise EvaluationError(
            f"domain() cannot read a hostname from {url!r}: a backslash before the path is "
            "read as '/' by browsers but as part of the host by HTTP clients (curl, httpx, "
            "urllib), so the two would fetch different hosts"
        )
    text = stripped.translate(_URL_NOISE)
    scheme = _ANY_SCHEME.match(text)
    name = scheme.group().lower() if scheme else ""
    if name in _NO_HOST_SCHEMES or (
        scheme is not None
        and name != "mailto:"  # the host of the address: mailto:jo@example.com
        and not _SCHEME.match(text)
        and not _SPECIAL.match(text)
        and not _PORT.match(text, scheme.end())  # "localhost:8080/x" is a host and port
    ):
        raise EvaluationError(
            f"domain() cannot read a hostname from {url!r}: a {name} URL names no host to fetch"
        )
    if name == "mailto:":
        text = _mailto_host(text, url)
    special = _SPECIAL.match(text)
    if special:  # browsers read "https:evil.com" and "https:///evil.com" as https://evil.com
        text = f"{special.group(1)}://{text[special.end() :]}"
    elif not _SCHEME.match(text) and not text.startswith("//"):
        text = "//" + text
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
        if not host:
            raise ValueError("no hostname")
        parts.port  # noqa: B018  a port that is no number up to 65535 raises ValueError
        if "[" in parts.netloc.rpartition("@")[2]:  # [...] holds an IPv6 address, or nothing
            if "%" in host:
                raise ValueError("browsers refuse a zone in an IPv6 address")
            return ipv6_host(host)
        host = urllib.parse.unquote(host)
        if not host.isascii():  # IDNA 2008 with UTS 46 mapping, as browsers do
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        bad = next((c for c in host if c in _FORBIDDEN_IN_HOST or c < " "), None)
        if bad is not None:  # browsers refuse these, after percent-decoding too
            raise ValueError(f"a hostname cannot hold {bad!r}")
        host = host.removesuffix(".").lower()
        if "" in host.split("."):
            raise ValueError("empty label")
        return _ipv4(host) if _ends_in_number(host) else host
    except (ValueError, UnicodeError, idna.IDNAError) as exc:
        raise EvaluationError(f"domain() cannot read a hostname from {url!r}: {exc}") from None


def ipv6_host(text: str) -> str:
    """The one spelling domain() gives an IPv6 address: compressed (`[0:0::1]` is `::1`),
    and an IPv4-mapped one as the IPv4 address it reaches (`[::ffff:127.0.0.1]` and
    `[::ffff:7f00:1]` are `127.0.0.1`), so a block-list of IPv4 addresses holds for it."""
    address = ipaddress.IPv6Address(text)
    mapped = address.ipv4_mapped
    return address.compressed if mapped is None else str(mapped)


def _mailto_host(text: str, url: str) -> str:
    """`//host` of a mailto: URL's one address. With no address, several (`a@x,b@y`) or
    a `to`, `cc` or `bcc` field, the mail goes elsewhere too, or nowhere: no one host."""
    rest = text[len("mailto:") :].partition("#")[0]
    path, _, query = rest.partition("?")
    addresses = [a for a in urllib.parse.unquote(path).split(",") if a.strip()]
    fields = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if (
        len(addresses) != 1
        or "@" not in addresses[0]
        or any(key.strip().lower() in ("to", "cc", "bcc") for key, _ in fields)
    ):
        raise EvaluationError(
            f"domain() cannot read a hostname from {url!r}: a mailto: URL names one host "
            "only with exactly one address and no to, cc or bcc field"
        )
    host = addresses[0].rpartition("@")[2].strip()
    return "//" + host.replace("%", "%25")  # decoded once, as a mail client decodes it


def _backslash_before_path(url: str) -> bool:
    """True when a backslash stands in the slashes after the scheme or in the authority:
    where browsers and RFC 3986 readers disagree on the host."""
    text = url.replace("\t", "").replace("\n", "").replace("\r", "")
    scheme = _ANY_SCHEME.match(text)
    rest = text[scheme.end() :] if scheme else text
    body = rest.lstrip("/\\")
    if "\\" in rest[: len(rest) - len(body)]:
        return True
    end = min((i for i in (body.find(c) for c in "/?#") if i >= 0), default=len(body))
    return "\\" in body[:end]


_ANY_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: Schemes whose URLs run or hold their content: what follows is never a host to fetch,
#: even after "//" (`javascript://docs.python.org/%0aalert(1)` runs script).
_NO_HOST_SCHEMES = frozenset({"javascript:", "vbscript:", "data:"})
#: After "name:" in a URL without "//": a port, so the name was a host (`localhost:8080/x`).
_PORT = re.compile(r"[0-9]*(?:[/?#]|\Z)")
_FORBIDDEN_IN_HOST = frozenset(" #%/:<>?@[\\]^|\x7f")
_IPV4_PART = {
    10: re.compile(r"[0-9]+\Z"),
    8: re.compile(r"[0-7]*\Z"),
    16: re.compile(r"[0-9a-f]*\Z"),
}


def _ipv4_number(part: str) -> int | None:
    """A WHATWG IPv4 number: decimal, 0x-prefixed hex or 0-prefixed octal; None if not."""
    radix = 10
    if part[:2] == "0x":
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0 if radix != 10 else None
    return int(part, radix) if _IPV4_PART[radix].match(part) else None


def _ends_in_number(host: str) -> bool:
    last = host.rpartition(".")[2]
    return last.isascii() and (last.isdigit() or _ipv4_number(last) is not None)


def _ipv4(host: str) -> str:
    """A host that ends in a number, read as browsers read it: 2130706433, 0x7f.1, 0177.0.0.1
    and 127.1 are all 127.0.0.1; anything else that ends in a number is no hostname."""
    numbers = [_ipv4_number(p) for p in host.split(".")]
    if len(numbers) > 4 or None in numbers:
        raise ValueError(f"{host!r} ends in a number but is no IPv4 address")
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host!r} is an IPv4 address out of range")
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return str(ipaddress.IPv4Address(value))


# ---------------------------------------------------------------------------------------
# Shell commands.

#: Longest command `shell_words()` splits, in characters.
MAX_SHELL_CHARS = 10_000
# $IFS, ${IFS} and ${IFS<operator>...} (${IFS:0:1}, ${IFS%??}): a space in practice.
_IFS = re.compile(r"\$(?:IFS(?![A-Za-z0-9_])|\{IFS(?:[^A-Za-z0-9_}][^}]*)?\})")
# A backslash-newline joins two lines (an escaped backslash before the newline does not).
_CONTINUATION = re.compile(r"(?<!\\)((?:\\\\)*)\\\n")


def _shell_words(command: Any) -> list[str]:
    if not isinstance(command, str):
        raise _fail("shell_words", "a command string", command)
    if len(command) > MAX_SHELL_CHARS:
        raise EvaluationError(
            f"shell_words() splits commands of at most {MAX_SHELL_CHARS} characters, "
            f"got {len(command)}"
        )
    text = _CONTINUATION.sub(r"\1", _IFS.sub(" ", command))
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True  # words end at white space and operators only
    lexer.commenters = ""  # a "#" stays a word: nothing after it is hidden from rules
    try:
        return list(lexer)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise EvaluationError(f"shell_words() cannot split {describe(command)}: {exc}") from None


# ---------------------------------------------------------------------------------------
# Rate limits.


def _rate(env: Mapping[str, Any], rule_id: str, key: Any, window: Any) -> int:
    store = _counter_store("rate", env, key, window)
    return store.hit(_counter(env, rule_id, key), float(window))


def _total(env: Mapping[str, Any], rule_id: str, key: Any, amount: Any, window: Any) -> float:
    try:
        value = check_amount(amount)
    except ValueError:
        raise _fail("total", "a finite non-negative number as the amount", amount) from None
    store = _counter_store("total", env, key, window)
    try:
        return add(store, _counter(env, rule_id, key), value, float(window))
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"total() could not sum: {exc}") from None


#: The longest window `rate()` and `total()` count over, ten years in seconds: every store
#: keeps it (Redis refuses an expiry far past it, which would fail the rule in one
#: deployment and count in another).
MAX_WINDOW = 315_360_000


def window_problem(window: Any) -> str | None:
    """What `rate()` and `total()` need that `window` is not (None when it will do)."""
    if not _is_number(window) or not window > 0:  # `not >` is true for NaN as well
        return f"a positive number of seconds as the window, got {describe(window)}"
    if window > MAX_WINDOW:
        return f"a window of at most {MAX_WINDOW} seconds (ten years), got {describe(window)}"
    return None


def _counter_store(name: str, env: Mapping[str, Any], key: Any, window: Any) -> RateStore:
    if not isinstance(key, (str, int)) or isinstance(key, bool):
        raise _fail(name, "a string or integer key", key)
    problem = window_problem(window)
    if problem is not None:
        raise EvaluationError(f"{name}() needs {problem}")
    store = env.get(RATE_STORE_KEY)
    if store is None:
        raise EvaluationError(f"{name}() needs a rate store, and none was configured")
    if not callable(getattr(store, "hit", None)):  # isinstance(store, RateStore), in 1/50 the time
        raise EvaluationError(f"{name}() store is not a RateStore: {type(store).__name__}")
    return cast(RateStore, store)


def _counter(env: Mapping[str, Any], rule_id: str, key: str | int) -> str:
    # Prefix with the rule id so that two rules never share a counter, and count each
    # tenant apart: one tenant's traffic must not trip (or reveal) another's counters.
    return f"{rule_id}:{rate_key(key, env.get('tenant'))}"


#: Longest `rate()` key kept as written; a longer one is counted under its SHA-256.
MAX_RATE_KEY = 200
_HASHED = "\x00sha256:"


def rate_key(key: str | int, tenant: Any = None) -> str:
    """The counter name of a `rate()` key for `tenant`, at most a few hundred characters.

    Keys often come from the action (`rate(str(actor), 60)`): kept whole, each counter
    would hold a copy of whatever the caller sent, so the store's bound on counters would
    not bound its memory. A long key is counted under its digest instead. Without a
    tenant a short key is kept as written unless it starts with a NUL, which only the
    tenant prefix and the digest marker do: so no key can name another's counter.
    """
    text = str(key)
    if tenant is None:
        if len(text) <= MAX_RATE_KEY and not text.startswith("\x00"):
            return text
        text = "\x00plain:" + text
    else:
        owner = str(tenant)
        text = f"\x00tenant:{len(owner)}:{owner}:{text}"
        if len(text) <= MAX_RATE_KEY:
            return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return _HASHED + digest


# ---------------------------------------------------------------------------------------
# PII findings.

_INDEX = re.compile(r"\[\d+\]")


def _field_shape(field: str) -> str:
    return _INDEX.sub("[*]", field)


def _under(field: str, parent: str) -> bool:
    # `$` steps into a JSON string: `params.args$.to` is under `params.args`.
    return field == parent or field.startswith((parent + ".", parent + "[", parent + "$"))


class PiiView:
    """The PII findings of one decision, with what the scan covered, as conditions see them.

    `scanned` names the entity types the scan looked for; asking about any other type
    raises `PiiUnavailable`, so that a missing detector never reads as "no PII". When
    `fields` is given, `pii.in_field()` likewise refuses fields the scan did not cover.
    `incomplete` maps each place that could not be scanned (too large, not text, a
    detector error) to why: while there is one, every question the findings would
    answer as "none found" raises instead (`pii.in_field()` only for fields that
    overlap it), so an unscanned value never reads as clean.
    """

    __slots__ = ("findings", "scanned", "fields", "incomplete", "_by_type", "_dicts")

    def __init__(
        self,
        findings: Sequence[PiiFinding],
        scanned: frozenset[str],
        *,
        fields: Iterable[str] | None = None,
        incomplete: Mapping[str, str] | None = None,
    ) -> None:
        self.findings: tuple[PiiFinding, ...] = tuple(findings)
        self.scanned = frozenset(scanned)
        self.fields = None if fields is None else frozenset(_field_shape(f) for f in fields)
        self.incomplete: dict[str, str] = dict(incomplete or {})
        self._by_type: dict[str, list[PiiFinding]] = {}
        for finding in self.findings:
            self._by_type.setdefault(finding.entity_type, []).append(finding)
        self._dicts: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"PiiView({len(self.findings)} findings, scanned={sorted(self.scanned)})"

    def require(self, entity_types: Iterable[Any]) -> tuple[str, ...]:
        """Check that every type was scanned for, or raise PiiUnavailable naming the first gap."""
        wanted = tuple(entity_types)
        for entity in wanted:
            if not isinstance(entity, str):
                raise EvaluationError(f"PII entity types are strings, got {describe(entity)}")
            if entity not in self.scanned:
                raise PiiUnavailable(
                    f"PII detection not available for {entity!r}; "
                    f"scanned: {', '.join(sorted(self.scanned)) or 'nothing'}"
                )
        if not self.scanned:
            raise PiiUnavailable("PII detection not available: the scan covered no entity types")
        return wanted

    def require_complete(self, field: str | None = None) -> None:
        """Raise PiiUnavailable when a place the scan could not cover overlaps `field`
        (any place at all when `field` is None)."""
        if not self.incomplete:
            return
        shape = None if field is None else _field_shape(field)
        for place, reason in self.incomplete.items():
            where = _field_shape(place)
            if shape is None or _under(where, shape) or _under(shape, where):
                raise PiiUnavailable(f"PII scan incomplete: {place}: {reason}")

    def require_field(self, field: Any) -> str:
        """Check that the scan covered `field` (when the covered fields are known)."""
        if not isinstance(field, str):
            raise EvaluationError(f"pii.in_field() needs a field path, got {describe(field)}")
        self.require_complete(field)
        if self.fields is not None:
            shape = _field_shape(field)
            if not any(_under(shape, f) or _under(f, shape) for f in self.fields):
                raise PiiUnavailable(
                    f"PII detection not available for field {field!r}; "
                    f"scanned: {', '.join(sorted(self.fields)) or 'nothing'}"
                )
        return field

    def select(self, entity_types: Sequence[str]) -> list[PiiFinding]:
        """The findings of the given types (all findings when none are given)."""
        if not entity_types:
            return list(self.findings)
        if len(entity_types) == 1:
            return self._by_type.get(entity_types[0], [])
        return [f for f in self.findings if f.entity_type in entity_types]

    def as_dicts(self) -> list[dict[str, Any]]:
        """The findings as JSON-like dicts (a fresh list on every call).

        Raises PiiUnavailable while a place could not be scanned: the list would not
        hold what that place may contain.
        """
        self.require_complete()
        if self._dicts is None:
            self._dicts = [f.model_dump(mode="json") for f in self.findings]
        return list(self._dicts)


def pii_view(env: Mapping[str, Any], what: str) -> PiiView:
    """The PiiView in `env`, or PiiUnavailable when no PII scan ran for this decision."""
    view = env.get(PII_KEY)
    if view is None:
        raise PiiUnavailable(f"PII detection not available for {what}: no PII scan ran")
    if not isinstance(view, PiiView):
        raise EvaluationError(f"env['pii'] must be a PiiView, got {type(view).__name__}")
    return view


def _pii_any(env: Mapping[str, Any], rule_id: str, *entity_types: Any) -> bool:
    view = pii_view(env, "pii.any()")
    wanted = view.require(entity_types)
    view.require_complete()
    return bool(view.select(wanted))


def _pii_count(env: Mapping[str, Any], rule_id: str, entity_type: Any = None) -> int:
    view = pii_view(env, "pii.count()")
    wanted = view.require(() if entity_type is None else (entity_type,))
    view.require_complete()
    return len(view.select(wanted))


def _pii_in_field(env: Mapping[str, Any], rule_id: str, field: Any, *entity_types: Any) -> bool:
    view = pii_view(env, "pii.in_field()")
    wanted = view.require(entity_types)
    within = _field_pattern(view.require_field(field))
    return any(within(f.field) for f in view.select(wanted))


@functools.lru_cache(maxsize=1024)
def _field_pattern(field: str) -> Callable[[str], Any]:
    """Whether a finding's place is at or under `field`: `[*]` stands for any index, and
    `[0]` for that one only (`params.attachments[0].text` is not `[1].text`)."""
    pattern = re.escape(field).replace(re.escape("[*]"), r"\[\d+\]")
    return re.compile(pattern + r"(?=$|[.\[$])").match


def _pii_max_score(env: Mapping[str, Any], rule_id: str, entity_type: Any = None) -> float:
    view = pii_view(env, "pii.max_score()")
    wanted = view.require(() if entity_type is None else (entity_type,))
    view.require_complete()
    return max((f.score for f in view.select(wanted)), default=0.0)


def _default_registry() -> FunctionRegistry:
    registry = FunctionRegistry()
    plain: list[tuple[str, Callable[..., Any], int, int | None]] = [
        ("len", _len, 1, 1),
        ("lower", _lower, 1, 1),
        ("upper", _upper, 1, 1),
        ("abs", _abs, 1, 1),
        ("min", _min, 1, None),
        ("max", _max, 1, None),
        ("round", _round, 1, 2),
        ("int", _int, 1, 1),
        ("float", _float, 1, 1),
        ("str", _str, 1, 1),
        ("any", _any, 1, 1),
        ("all", _all, 1, 1),
        ("sum", _sum, 1, 1),
        ("contains_any", _contains_any, 2, 2),
        ("startswith", _startswith, 2, 2),
        ("endswith", _endswith, 2, 2),
        ("domain", _domain, 1, 1),
        ("shell_words", _shell_words, 1, 1),
    ]
    for name, fn, low, high in plain:
        registry.register(name, fn, min_args=low, max_args=high)
    registry.register(
        "matches", _matches, min_args=2, max_args=2, literal_args=(1,), prepare=compile_pattern
    )
    registry.register("rate", _rate, min_args=2, max_args=2, needs_env=True)
    registry.register("total", _total, min_args=3, max_args=3, needs_env=True)
    registry.register("pii.any", _pii_any, min_args=0, max_args=None, needs_env=True)
    registry.register("pii.count", _pii_count, min_args=0, max_args=1, needs_env=True)
    registry.register("pii.in_field", _pii_in_field, min_args=1, max_args=None, needs_env=True)
    registry.register("pii.max_score", _pii_max_score, min_args=0, max_args=1, needs_env=True)
    registry._frozen = True
    return registry


#: The built-in functions; read-only, so `copy()` it to add your own.
DEFAULT_FUNCTIONS: FunctionRegistry = _default_registry()
