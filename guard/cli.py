"""The `guard` command line: check actions, lint and test packs, inspect the audit log."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Any, BinaryIO, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from guard._exceptions import GuardError

app = typer.Typer(
    help="Guardrails for AI agents and rankers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
policy_app = typer.Typer(help="Lint and test policy packs.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect and verify the audit log.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")

# Markup and emoji codes are off: messages carry user text (pack names, notes, action values)
# that must print as given. Our own colours are printed with markup=True and escape().
out = Console(soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)
DEFAULT_AUDIT = "sqlite:///guard-audit.db"

PolicyOpt = Annotated[
    str, typer.Option("--policy", "-p", help="Pack file, folder or shipped name.")
]
AuditOpt = Annotated[str, typer.Option("--audit", help="Audit log URL.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit non-zero: the CLI never shows a traceback."""
    err.print(f"[red]error:[/red] {escape(_one_line(message))}", markup=True, highlight=False)
    raise typer.Exit(code)


def _one_line(message: str) -> str:
    """A message whose lines (a driver's DETAIL, say) are joined into one, with any other
    control character shown escaped (see `_printable`)."""
    return _printable("; ".join(line.strip() for line in message.splitlines() if line.strip()))


# C0 and C1 controls, DEL and the bidirectional overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """`text` with control characters written as escapes (ESC as \\x1b): text from a file
    (a test case's note, say) must print as text, not move the cursor, erase the line
    above or clear the screen of whoever reads the output."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _json_arg(value: str, what: str) -> Any:
    """Parse JSON given inline, as @file or as - (stdin); any failure is a one-line error.

    orjson checks it first: it refuses NaN and Infinity (not JSON) and deep nesting, where
    json.loads recurses until RecursionError. json.loads then reads it, because orjson
    reads an integer beyond 64 bits as an inexact float, which the guard would not see.
    """
    import orjson

    from guard._validate import MAX_DEPTH, DuplicateKey, unique_keys

    if value == "-":
        text = _decode(_read_at_most(sys.stdin.buffer, what, "stdin"), what, "stdin")
    elif value.startswith("@"):
        path = value[1:]
        if not path:
            fail(f"{what} @ needs a file name after the @")
        try:
            with open(path, "rb") as file:
                data = _read_at_most(file, what, repr(path))
        except OSError as exc:
            fail(f"cannot read {what} from {path!r}: {exc.strerror or exc}")
        text = _decode(data, what, repr(path))
    elif not _is_utf8(value):  # bytes that are not UTF-8 reach argv as lone surrogates
        fail(f"{what} is not UTF-8 text")
    else:  # a byte order mark, as "$(cat file)" passes one, is allowed as in a file
        text = value.removeprefix("\ufeff")
    try:
        orjson.dumps(orjson.loads(text))  # dumps: the depth the guard allows (MAX_DEPTH)
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":
            fail(f"{what} is nested deeper than {MAX_DEPTH} levels")
        hint = f"; write @{value} to read the file" if _is_file(value) else ""
        fail(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}")
    except orjson.JSONEncodeError:
        fail(f"{what} is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=unique_keys)  # valid and shallow
    except DuplicateKey as exc:
        fail(
            f"{what} has the key {exc.key!r} twice in one object; JSON readers disagree on "
            "which one counts (some take the first, json.loads the last), so it is refused"
        )
    except ValueError as exc:  # not expected after orjson: a digit limit, say
        fail(f"{what} is not valid JSON: {exc}")


def _is_file(value: str) -> bool:
    """Whether an option's value names a file (a user who left out the @)."""
    import os

    try:
        return os.path.isfile(value)
    except (ValueError, OSError):  # a NUL, a name too long
        return False


_JSON_TYPES = {str: "a JSON string", list: "a JSON array", bool: "JSON true or false"}


def _json_object(value: Any, what: str, example: str) -> dict[str, Any]:
    """`value` when it is a JSON object, else a one-line error naming what it is."""
    if isinstance(value, dict):
        return value
    fail(f"{what} must be a mapping (a JSON object), as in {example}, got {_json_kind(value)}")


def _json_kind(value: Any) -> str:
    return "JSON null" if value is None else _JSON_TYPES.get(type(value), "a JSON number")


_MAX_JSON_INPUT = 16 << 20  # bytes: far more than the largest action, pretty-printed


def _read_at_most(file: BinaryIO, what: str, source: str) -> bytes:
    try:
        data = file.read(_MAX_JSON_INPUT + 1)
    except OSError as exc:
        fail(f"cannot read {what} from {source}: {exc.strerror or exc}")
    if len(data) > _MAX_JSON_INPUT:
        fail(f"{what} from {source} is larger than {_MAX_JSON_INPUT} bytes")
    return data


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decode(data: bytes, what: str, source: str) -> str:
    try:
        return data.decode("utf-8-sig")  # a byte order mark, as some editors write, is allowed
    except UnicodeDecodeError as exc:
        fail(f"{what} from {source} is not UTF-8 (bad byte at offset {exc.start})")


def _print_json(data: Any) -> None:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    except RecursionError:  # a stored record edited to nest ~1000 deep, which orjson reads
        fail("cannot print the result as JSON: it is nested too deeply", 1)
    try:
        sys.stdout.write(text + "\n")
    except UnicodeEncodeError:  # an output that is not UTF-8 (PYTHONIOENCODING=ascii, say)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")  # the same JSON, with \u escapes


@app.command()
def check(
    policy: PolicyOpt,
    action: Annotated[str, typer.Option(help="Action JSON, @file.json or - for stdin.")],
    context: Annotated[
        str | None, typer.Option(help="Context JSON, @file.json or - for stdin.")
    ] = None,
    audit: Annotated[str | None, typer.Option(help="Audit log URL (none: no record).")] = None,
    name: Annotated[str | None, typer.Option("--pack", help="Pack name in a folder.")] = None,
) -> None:
    """Decide one action and print the decision as JSON."""
    from guard import Guard
    from guard.policy import load

    if action == "-" and context == "-":
        fail("--action and --context cannot both be read from stdin (-)")
    act = _json_object(_json_arg(action, "--action"), "--action", '{"kind": "refund"}')
    ctx = _json_arg(context, "--context") if context is not None else None
    if ctx is not None:
        ctx = _json_object(ctx, "--context", '{"role": "agent"}')
    try:
        packs = load(policy)
        _check_pack_choice(sorted(p.name for p in packs), policy, name)  # before the log opens
        with Guard(packs, audit=audit) as guard:
            decision = guard.check(act, ctx, policy=name)
    except GuardError as exc:
        fail(str(exc))
    _print_json(decision.model_dump(mode="json"))


def _check_pack_choice(loaded: list[str], policy: str, name: str | None) -> None:
    """Name the option to use (--pack), not the library's keyword, when the choice is unclear."""
    if name is None and len(loaded) > 1:
        packs = ", ".join(loaded)
        fail(f"--policy {policy!r} holds several packs ({packs}); choose one with --pack")
    if name is not None and name not in loaded:
        fail(f"--pack {name!r} is not in --policy {policy!r}, which holds: {', '.join(loaded)}")


@policy_app.command("lint")
def policy_lint(
    path: Annotated[str, typer.Argument(help="Pack file, folder or shipped name.")],
) -> None:
    """Load and compile packs, PII settings included; report the first error with its position."""
    from guard.policy import load

    try:
        packs = load(path)
        for pack in packs:
            _lint_pii(pack)
    except GuardError as exc:
        fail(str(exc), 1)
    for pack in packs:
        out.print(f"ok  {pack.name} v{pack.version}  {len(pack.rules)} rules  {pack.digest[:19]}")


def _lint_pii(pack: Any) -> None:
    """Raise the PolicyError that building the pack's PII scanner would, with its position."""
    if pack.pii is None:
        return
    from guard._exceptions import DependencyMissing, PolicyError

    try:
        from guard.detect import NER_ENTITIES, PiiConfigError
        from guard.detect._engine import detector_for

        detector = detector_for(pack.pii)  # what PiiScanner uses: builds custom recognizers
    except (ImportError, DependencyMissing) as exc:  # a guard would run without PII detection
        err.print(f"note: {pack.name}: PII settings not checked: {exc}", highlight=False)
        return
    except PiiConfigError as exc:
        line, column = _yaml_position(pack.source, ("pii", "recognizers"))
        raise PolicyError(exc.reason, file=pack.path, line=line, column=column) from None
    # The check PiiScanner makes; NER entities are known without loading a model, and
    # custom_entities are a custom pii_detector's, which lint does not have.
    custom = set(getattr(pack.pii, "custom_entities", ()))
    try:
        detector.prepare(set(pack.pii.entities) - NER_ENTITIES - custom)
    except PiiConfigError as exc:
        entities = list(pack.pii.entities)
        bad = [i for i, e in enumerate(entities) if e not in detector.supported_entities]
        line, column = _yaml_position(pack.source, ("pii", "entities", *bad[:1]))
        raise PolicyError(exc.reason, file=pack.path, line=line, column=column) from None


def _yaml_position(source: str, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    """Line and column of the deepest node along `path` in a YAML document (1-based)."""
    import yaml

    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None, None
    found = node
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if step < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        found = node
    if found is None:
        return None, None
    return found.start_mark.line + 1, found.start_mark.column + 1


@policy_app.command("test")
def policy_test(
    path: Annotated[str, typer.Argument(help="Pack file, folder or shipped name.")],
) -> None:
    """Run each pack's *.test.yaml cases; report failures and rules no case fired."""
    from guard.policy import run_tests

    try:
        reports = run_tests(path)
    except GuardError as exc:
        fail(str(exc), 1)
    ok = True
    for report in reports:
        passed = sum(r.passed for r in report.results)
        if report.file is None:
            out.print(
                f"[red]FAIL[/red] {escape(report.pack)}: no test file beside the pack",
                markup=True,
            )
            ok = False
            continue
        for result in report.results:
            if not result.passed:  # the note as written, escaped; the detail on one line
                note = _printable(str(result.note))
                text = escape(f"{report.pack}: {note}: {_one_line(str(result.detail))}")
                out.print(f"[red]FAIL[/red] {text}", markup=True)
        cov = len(report.rules) - len(report.unfired)
        status = "[green]PASS[/green]" if report.passed else "[red]FAIL[/red]"
        out.print(
            f"{status} {escape(report.pack)}: {passed}/{len(report.results)} cases, "
            f"rule coverage {cov}/{len(report.rules)}",
            markup=True,
        )
        if report.unfired:
            out.print(f"     never fired: {', '.join(report.unfired)}")
        ok = ok and report.passed
    raise typer.Exit(0 if ok else 1)


# Help with paragraphs: Typer keeps a docstring's line breaks, so each paragraph is one line.
_HEAD_HELP = (
    "Print the signed tree head (size, root) and the public key that checks it, as JSON.\n\n"
    "`signature` is Ed25519 (RFC 8032) over the RFC 8785 (JCS) canonical JSON of "
    '{"root": root, "size": size, "timestamp": timestamp}, that is the UTF-8 bytes '
    '{"root":"<hex>","size":<n>,"timestamp":"<iso>"} with no spaces; `public_key` is the '
    "raw 32-byte Ed25519 key in hex, as GET /v1/audit/head gives it. Any Ed25519 library "
    "checks it, with no code of ours.\n\n"
    "The key is the PEM file the log's writers sign with: for SQLite the database path plus "
    "`.key`, which Guard and `guard serve` create when they open the log; for PostgreSQL the "
    "`--signing-key` file the sidecars share. This command only reads: it never makes a key "
    "(a new key's public key checks no earlier head) unless given --create-key. A head is "
    "refused, exit 1, when the log's stored tree state disagrees with its records."
)
_VERIFY_HELP = (
    "Recompute every leaf, root and index column; exit 1 naming the first bad record.\n\n"
    "The log must also hold every record its own tree state counts, so records deleted "
    "from the end are caught. Records deleted together with a tree state rewritten to "
    "match can only be caught against a tree head published before: keep the output of "
    "`guard audit head` where the log's host cannot change it, and pass it as --against. "
    "A SQLite log's file is also checked whole (PRAGMA integrity_check), so an index that "
    "lookups and queries use but that no longer lists every record is caught too."
)


@audit_app.command("head", help=_HEAD_HELP)
def audit_head(
    audit: AuditOpt = DEFAULT_AUDIT,
    signing_key: Annotated[
        str | None,
        typer.Option(help="PEM key file to sign with (default for SQLite: the database + .key)."),
    ] = None,
    create_key: Annotated[
        bool, typer.Option("--create-key", help="Make the key file if it does not exist.")
    ] = False,
) -> None:
    """Print the signed tree head and its public key as JSON (see _HEAD_HELP for the bytes)."""
    with _open(audit, signing_key=signing_key, create_key=create_key) as log:
        key = log.signing_key_path
        if key is None:  # a key made for this process would check no head its sidecars sign
            fail(
                "a PostgreSQL log keeps no signing key of its own: pass --signing-key FILE, "
                "the key its sidecars sign with",
                1,
            )
        if not create_key and not key.exists() and signing_key is not None:
            fail(
                f"--signing-key {signing_key!r} does not exist: pass the key file the log's "
                "writers sign with, or add --create-key to make a new one there",
                1,
            )
        if not create_key and not key.exists():
            fail(
                f"no signing key at {str(key)!r} for this log: pass --signing-key FILE, the key "
                "its writers sign with, or --create-key to make one there (a new key's public "
                "key checks no head signed before)",
                1,
            )
        try:
            public_key = log.public_key_hex
            head = {**log.head().model_dump(mode="json"), "public_key": public_key}
        except GuardError as exc:
            fail(str(exc), 1)
    _print_json(head)


@audit_app.command("verify", help=_VERIFY_HELP)
def audit_verify(
    audit: AuditOpt = DEFAULT_AUDIT,
    against: Annotated[
        str | None,
        typer.Option(
            help="Tree head JSON file (as `guard audit head` prints) the log must extend, "
            "or - for stdin."
        ),
    ] = None,
) -> None:
    """Verify the whole log, and that it extends a published head (see _VERIFY_HELP)."""
    shown = "stdin" if against == "-" else repr(against)  # how messages name it
    head, head_key = _read_head(against, shown) if against is not None else (None, None)
    with _open(audit) as log:
        if head is not None:
            _check_head_signature(shown, head, head_key, log)
        try:
            report = log.verify(against=head)
        except GuardError as exc:
            fail(str(exc), 1)
    out.print(f"ok  {report.size} records verified, root {report.root}")
    if head is not None:
        where = "stdin" if against == "-" else against
        out.print(f"ok  extends the tree head of size {head.size} in {where}")


def _read_head(path: str, shown: str) -> tuple[Any, str | None]:
    """The tree head in the file (- for stdin), and the public key it names (if any);
    `shown` names the file in messages."""
    from pydantic import ValidationError

    from guard.audit import TreeHead

    data = _json_arg("-" if path == "-" else f"@{path}", "--against")
    if not isinstance(data, dict):  # pydantic would name its class: "instance of TreeHead"
        fail(
            f"--against {shown} is not a tree head: it must be a JSON object, as "
            f"`guard audit head` prints, got {_json_kind(data)}",
            1,
        )
    try:
        head = TreeHead.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the head"
        fail(f"--against {shown} is not a tree head: {where}: {first['msg']}", 1)
    key = data.get("public_key")
    return head, key if isinstance(key, str) else None


def _check_head_signature(shown: str, head: Any, head_key: str | None, log: Any) -> None:
    """A signed head must check with this log's key when the log has one, else its own key."""
    from guard.audit import verify_head

    if head.signature is None:  # unsigned: trusted as far as the place it was kept
        return
    if head_key is not None and not verify_head(head, head_key):
        fail(f"--against {shown}: the signature does not match its public_key", 1)
    key_file = log.signing_key_path
    try:
        log_key = log.public_key_hex if key_file is not None and key_file.exists() else None
    except GuardError as exc:  # a key file that is not a key
        fail(str(exc), 1)
    if log_key is not None and head_key is not None and head_key != log_key:
        fail(
            f"--against {shown} was signed with public key {head_key}, not this log's "
            f"{log_key} (from {str(key_file)!r}): a head of another log, or the log's key "
            "was replaced",
            1,
        )
    if head_key is None and log_key is None:
        fail(
            f"--against {shown} is signed but names no public_key, and the log has no key "
            "file to check it with",
            1,
        )
    if head_key is None and log_key is not None and not verify_head(head, log_key):
        fail(f"--against {shown}: the signature does not match this log's key", 1)


_SHOW_HELP = (
    "Print one audit record as JSON, with the records linked to it (deferred explanations, "
    "reviews, resolutions) under `linked`, oldest first."
)


@audit_app.command("show", help=_SHOW_HELP)
def audit_show(
    record_id: Annotated[str, typer.Argument(help="Decision or record id.")],
    audit: AuditOpt = DEFAULT_AUDIT,
) -> None:
    """Print one audit record and the records linked to it (see _SHOW_HELP)."""
    with _open(audit) as log:
        try:
            stored = log.get(record_id)
            linked = _linked(log, stored.id)
        except GuardError as exc:
            fail(str(exc), 1)
        except RecursionError:  # a record edited to nest ~1000 deep, which reading may recurse on
            fail("cannot print the result as JSON: it is nested too deeply", 1)
    for shown in (stored, *linked):  # what is printed must be what was hashed
        _check_shown(shown)
    _print_json(
        {
            "index": stored.index,
            "leaf_hash": stored.leaf_hash,
            "record": stored.record,
            "linked": [{"index": s.index, "record": s.record} for s in reversed(linked)],
        }
    )


def _linked(log: Any, record_id: str) -> list[Any]:
    """Every record linked to `record_id`, newest first: all the pages, not the first."""
    items: list[Any] = []
    cursor = None
    while True:
        page = log.query(ref_id=record_id, cursor=cursor, limit=1000)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


def _check_shown(stored: Any) -> None:
    from guard.audit import canonical_json, leaf_hash

    try:
        data = canonical_json(stored.record)
    except GuardError:  # nested too deeply to serialise: printing it says so
        return
    if leaf_hash(data).hex() != stored.leaf_hash:
        fail(
            f"audit log tampered at index {stored.index} (record id {stored.id!r}): its bytes "
            "do not match its stored leaf hash; `guard audit verify` checks the whole log",
            1,
        )


@app.command()
def demo(
    audit: AuditOpt = DEFAULT_AUDIT,
    rounds: Annotated[int, typer.Option(help="How many rounds of example traffic.")] = 1,
) -> None:
    """Drive example traffic through the shipped packs in process and print a summary."""
    from guard._demo import run_demo

    if rounds < 1:
        fail(f"--rounds must be at least 1, got {rounds}")
    try:
        summary = run_demo(audit, rounds=rounds)
    except GuardError as exc:
        fail(str(exc))
    table = Table(title="Decisions by pack and verdict")
    for col in ("pack", "allow", "redact", "escalate", "deny"):
        table.add_column(col)
    for pack, counts in summary["verdicts"].items():
        table.add_row(
            pack, *(str(counts.get(v, 0)) for v in ("allow", "redact", "escalate", "deny"))
        )
    out.print(table)
    for line in summary["examples"]:
        out.print(f"  {line}", highlight=False)
    head = summary["head"]
    out.print(f"audit log {audit}: {head['size']} records, root {head['root']}")


def _open(url: str, *, signing_key: str | None = None, create_key: bool = False) -> Any:
    from guard.audit import open_audit

    if url in ("", "memory://"):  # open_audit's default: a new log, empty, in this process
        fail(
            f"--audit {url!r} is a log kept in the memory of the process that writes it, "
            "so there is nothing here to read; give the sqlite:/// or postgresql:// URL"
        )
    try:  # these commands only read: a mistyped SQLite path must not become a new, empty log
        return open_audit(url, signing_key_path=signing_key, create=False, create_key=create_key)
    except GuardError as exc:
        fail(str(exc))


# click's ClickException (usage errors among them), wherever this typer takes click from.
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def main() -> None:
    """Entry point of the `guard` script: every error is one line on stderr."""
    try:
        code = app(standalone_mode=False)
    except _CLICK_ERROR as exc:  # a bad option or argument: one line, not typer's box
        code = int(getattr(exc, "exit_code", 2))
        message = str(getattr(exc, "format_message", exc.__str__)())
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help, which rich printed already
            if message:
                sys.stderr.write(message + "\n")
            sys.exit(code)
        ctx = getattr(exc, "ctx", None)
        where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        err.print(f"error: {_one_line(message)}{where}", highlight=False)
        sys.exit(code)
    except typer.Abort:  # end of input at a prompt
        err.print("error: aborted", highlight=False)
        sys.exit(1)
    except GuardError as exc:  # anything the commands did not catch still gets one line
        err.print(f"error: {_one_line(str(exc))}", highlight=False)
        sys.exit(2)
    except OSError as exc:  # the output could not be written: a full disk, a closed pipe
        _output_failed(exc)
    try:
        sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
    except OSError as exc:
        _output_failed(exc)
    sys.exit(code if isinstance(code, int) else 0)  # typer.Exit's code, without standalone mode


def _output_failed(exc: OSError) -> NoReturn:
    """Exit 1 for output that could not be written: one line, or none for a reader that
    closed the pipe (`| head`), who wanted no more. stdout is pointed at /dev/null first,
    so the interpreter's own flush at exit fails no second time."""
    import errno
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's stand-in stream)
        pass
    if exc.errno != errno.EPIPE:
        where = f" ({exc.filename})" if exc.filename else ""
        err.print(f"error: cannot write the output: {exc.strerror or exc}{where}", highlight=False)
    sys.exit(1)


# -- the HTTP sidecar ---------------------------------------------------------------------------

keys_app = typer.Typer(help="Make API keys for the sidecar.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            "-p",
            help="Pack file, folder or shipped name (default: the shipped packs).",
        ),
    ] = None,
    audit: Annotated[
        str | None, typer.Option(help="Audit log URL (default: sqlite:///guard-audit.db).")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default: 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: 1).")] = None,
    keys: Annotated[
        str | None,
        typer.Option(
            help="keys.yaml: [{name, sha256, scopes, tenant}] (default: none: loopback only)."
        ),
    ] = None,
    redis: Annotated[str | None, typer.Option(help="Redis URL for rate limits and rate().")] = None,
    shadow: Annotated[str | None, typer.Option(help="Candidate pack(s) run in shadow.")] = None,
    signing_key: Annotated[
        str | None,
        typer.Option(help="PEM key that signs tree heads (share it between sidecars on one log)."),
    ] = None,
    docs: Annotated[
        bool | None, typer.Option("--docs/--no-docs", help="Serve /docs and /openapi.json.")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Feed the example traffic once up.")] = False,
) -> None:
    """Run the HTTP sidecar; Ctrl-C stops it.

    Each option may be given instead as a GUARD_* variable: GUARD_POLICY, GUARD_AUDIT,
    GUARD_HOST, GUARD_PORT, GUARD_WORKERS, GUARD_KEYS, GUARD_REDIS, GUARD_SHADOW,
    GUARD_SIGNING_KEY, GUARD_DOCS (true or false); an option given wins over its variable.

    Read from variables only: GUARD_RATE_LIMIT (per key, such as 1200/minute),
    GUARD_MAX_BODY_BYTES, GUARD_MAX_TEXT_CHARS, GUARD_MAX_BATCH, GUARD_REQUEST_TIMEOUT
    and GUARD_LONG_POLL_MAX (seconds), GUARD_POLL_INTERVAL (seconds), GUARD_CONSOLE (true
    or false), GUARD_SESSION_SECRET, GUARD_RELOAD_FILE, GUARD_LOG_LEVEL.
    """
    from service._server import loopback_only
    from service._server import serve as run_server
    from service._settings import Settings, SettingsError

    try:
        settings = Settings.from_env(
            policy=policy,
            audit=audit,
            host=host,
            port=port,
            workers=workers,
            keys=keys,
            redis=redis,
            shadow=shadow,
            signing_key=signing_key,
            docs=docs,
        )
    except SettingsError as exc:
        fail(str(exc))
    if demo and settings.keys is not None:  # its client sends no key: every request a 401
        fail(
            "--demo sends its example traffic with no key, so every request would be refused "
            f"(401) by a sidecar with keys ({settings.keys!r}); drop --demo or --keys/GUARD_KEYS"
        )
    settings, warning = loopback_only(settings)
    if warning:
        err.print(f"[yellow]note:[/yellow] {escape(warning)}", markup=True, highlight=False)
    base = f"http://{_url_host(settings.host)}:{settings.port}"

    def ready() -> None:
        docs_at = f"   (OpenAPI docs: {base}/docs)" if settings.docs else ""
        out.print(f"guard sidecar API:  {base}/v1{docs_at}", highlight=False)
        if settings.console and _has_console():
            out.print(f"review console:     {base}/ui/", highlight=False)
        out.print(f"metrics:            {base}/metrics", highlight=False)
        if demo:
            _feed(base)
        out.print("serving; press Ctrl-C to stop", highlight=False)

    try:
        run_server(settings, on_ready=ready)
    except OSError as exc:  # "[Errno 98] cannot listen on ...": the number says nothing more
        fail(f"{exc.strerror}: {exc.filename!r}" if exc.filename else exc.strerror or str(exc))
    except (GuardError, ValueError) as exc:
        fail(str(exc))


def _has_console() -> bool:
    import importlib

    try:
        return hasattr(importlib.import_module("service.ui"), "create_ui_router")
    except ImportError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _feed(base: str) -> None:
    from guard.client import GuardClient
    from service._feed import feed_demo, wait_ready

    with GuardClient(base, timeout=30.0) as client:
        if not wait_ready(client):
            err.print("demo traffic: the sidecar did not become ready", highlight=False)
            return
        try:
            summary = feed_demo(client)
        except GuardError as exc:
            err.print(f"demo traffic failed: {exc}", highlight=False)
            return
    for pack, counts in summary["verdicts"].items():
        verdicts = ("allow", "redact", "escalate", "deny")
        shown = ", ".join(f"{v} {counts.get(v, 0)}" for v in verdicts)
        out.print(f"  {pack}: {shown}", highlight=False)
    for line in summary["examples"][:8]:
        out.print(f"  {line}", highlight=False)
    head = summary["head"]
    out.print(
        f"demo traffic sent: {summary['decisions']} decisions; audit log has "
        f"{head['size']} records, root {head['root'][:16]}...",
        highlight=False,
    )


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A name for the key (shown in logs and reviews).")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: check, audit:read, review, admin.")],
    tenant: Annotated[str | None, typer.Option(help="Bind the key to this tenant.")] = None,
) -> None:
    """Print a new random key (shown once) and its keys.yaml entry (only its SHA-256)."""
    import yaml

    from service._auth import KeysError, new_key

    try:
        raw, entry = new_key(name, [s for s in scopes.replace(",", " ").split() if s], tenant)
    except KeysError as exc:
        fail(str(exc))
    out.print(f"key (shown once; give it to the client): {raw}", highlight=False)
    out.print("entry for keys.yaml:", highlight=False)
    sys.stdout.write(yaml.safe_dump([entry.as_yaml_dict()], sort_keys=False))
