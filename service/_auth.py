"""API keys: hashed at rest, compared in constant time, each with scopes and a tenant binding.

Contract (used by the routes and by the review console in `service/ui/`):

    Principal(name: str, scopes: frozenset[str], tenant: str | None)   # frozen dataclass
    Principal.can(scope: str) -> bool          # "admin" implies every scope
    KeyStore.from_file(path) -> KeyStore       # YAML list of {name, sha256, scopes, tenant}
    KeyStore.open_access() -> KeyStore         # no keys file: every caller is a loopback admin
    KeyStore.authenticate(raw_key: str) -> Principal | None
    KeyStore.is_open -> bool                   # True for open_access()
    KeyStore.anonymous() -> Principal | None   # the principal of a request without a key

Scopes: `check` (decide actions), `audit:read` (read decisions, proofs, heads),
`review` (resolve escalations, label decisions), `admin` (all of these, plus reloads).
A key's `tenant` is stamped on every decision it makes and limits every read to that
tenant; a key with no tenant is an operator key that spans tenants.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "OPEN_ACCESS",
    "SCOPES",
    "KeyEntry",
    "KeyStore",
    "KeysError",
    "Principal",
    "hash_key",
    "new_key",
]

SCOPES = frozenset({"check", "audit:read", "review", "admin"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_PREFIX = "gk_"


class KeysError(ValueError):
    """The keys file is missing, unreadable or has an invalid entry."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name, what it may do and which tenant it is bound to."""

    name: str
    scopes: frozenset[str]
    tenant: str | None

    def can(self, scope: str) -> bool:
        """Whether this principal holds `scope` (admin holds every scope)."""
        return "admin" in self.scopes or scope in self.scopes


OPEN_ACCESS = Principal(name="open-access", scopes=frozenset({"admin"}), tenant=None)


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One configured key: only the SHA-256 hex digest of the key is stored."""

    name: str
    sha256: str
    scopes: frozenset[str]
    tenant: str | None

    def principal(self) -> Principal:
        """The principal a request with this key acts as."""
        return Principal(name=self.name, scopes=self.scopes, tenant=self.tenant)

    def as_yaml_dict(self) -> dict[str, Any]:
        """The entry as written in a keys file."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "scopes": sorted(self.scopes),
            "tenant": self.tenant,
        }


def hash_key(raw_key: str) -> str:
    """The hex SHA-256 digest of a raw key, as stored in the keys file."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def new_key(name: str, scopes: Iterable[str], tenant: str | None) -> tuple[str, KeyEntry]:
    """Make a random key (256 bits) and the entry that goes into the keys file."""
    raw = _KEY_PREFIX + secrets.token_urlsafe(32)
    entry = _entry(
        {"name": name, "sha256": hash_key(raw), "scopes": list(scopes), "tenant": tenant}, ""
    )
    return raw, entry


class KeyStore:
    """The configured keys; `authenticate` maps a raw bearer key to its principal."""

    def __init__(self, entries: Iterable[KeyEntry], *, open_access: bool = False) -> None:
        self._entries = tuple(entries)
        self._open = open_access
        names = [e.name for e in self._entries]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise KeysError(f"duplicate key names {dupes!r}; each key needs its own name")
        # One key must give one principal: with two entries for it, the last would win.
        by_digest: dict[str, list[str]] = {}
        for e in self._entries:
            by_digest.setdefault(e.sha256, []).append(e.name)
        shared = [names for names in by_digest.values() if len(names) > 1]
        if shared:
            raise KeysError(
                f"keys {shared[0]!r} have the same key (the same sha256); "
                "each entry needs its own key"
            )

    @classmethod
    def from_file(cls, path: str | Path) -> KeyStore:
        """Read a YAML list of entries {name, sha256, scopes, tenant}; raise KeysError."""
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:  # its text repeats the path
            raise KeysError(f"cannot read keys file {str(path)!r}: {exc.strerror}") from exc
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KeysError(f"cannot read keys file {str(path)!r}: {exc}") from exc
        if isinstance(data, Mapping) and any(
            isinstance(k, str) and k.startswith("key (shown once") for k in data
        ):
            raise KeysError(
                f"keys file {str(path)!r} holds the whole output of 'guard keys create', the "
                "raw key included: keep only the lines after 'entry for keys.yaml:', delete "
                "the 'key (shown once ...)' line (a keys file never holds a raw key) and give "
                "that key to the client"
            )
        if isinstance(data, Mapping) and "keys" in data:
            data = data["keys"]
        if not isinstance(data, list) or not data:
            raise KeysError(
                f"keys file {str(path)!r} must hold a non-empty list of "
                "{name, sha256, scopes, tenant} entries"
            )
        where = f"keys file {str(path)!r}, entry #"
        entries = [_entry(item, f"{where}{i + 1}") for i, item in enumerate(data)]
        try:
            return cls(entries)
        except KeysError as exc:
            raise KeysError(f"keys file {str(path)!r}: {exc}") from None

    @classmethod
    def open_access(cls) -> KeyStore:
        """No keys file: every request acts as an admin of tenant None (loopback only)."""
        return cls((), open_access=True)

    @property
    def is_open(self) -> bool:
        """True when no keys are configured and every request is an admin."""
        return self._open

    @property
    def entries(self) -> tuple[KeyEntry, ...]:
        """The configured entries (hashes only)."""
        return self._entries

    def anonymous(self) -> Principal | None:
        """The principal of a request without a key: the open-access admin, or nobody."""
        return OPEN_ACCESS if self._open else None

    def authenticate(self, raw_key: str) -> Principal | None:
        """The principal for `raw_key`, or None; every entry is compared in constant time."""
        if self._open:
            return OPEN_ACCESS
        digest = hash_key(raw_key).encode("ascii")
        found: KeyEntry | None = None
        for entry in self._entries:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(digest, entry.sha256.encode("ascii")):
                found = entry
        return found.principal() if found is not None else None


def _entry(item: object, where: str) -> KeyEntry:
    """Validate one entry; `where` names it in messages (its file and number), or is ""
    for a new key."""
    if not isinstance(item, Mapping):
        raise KeysError(f"{where or 'new key'} must be a mapping, got {item!r}")
    fields = {"name", "sha256", "scopes", "tenant"}
    unknown = sorted((k for k in item if k not in fields), key=repr)  # YAML keys: any type
    if unknown:
        raise KeysError(
            f"{where or 'new key'} has unknown fields {unknown!r}; "
            "expected name, sha256, scopes, tenant"
        )
    name = _text(item.get("name"), "name", where or "new key")
    key = f"key {name!r}" + (f" ({where})" if where else "")
    digest, tenant = item.get("sha256"), item.get("tenant")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise KeysError(
            f"{key}: 'sha256' must be the 64 lower-case hex digits of the key's "
            f"SHA-256, got {digest!r}"
        )
    if tenant is not None:
        tenant = _text(tenant, "tenant", key, " (leave it out for a key that spans tenants)")
    return KeyEntry(
        name=name, sha256=digest, scopes=_scopes(item.get("scopes"), key), tenant=tenant
    )


# Line breaks, escapes, zero-width and bidi characters would forge or hide log lines and
# console text, where key names and tenants are shown.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _text(value: object, field: str, where: str, hint: str = "") -> str:
    """`value` as a key's name or tenant: a non-empty string, printable, not padded."""
    if not isinstance(value, str):
        raise KeysError(f"{where}: {field!r} must be a string{hint}, got {value!r}")
    if not value.strip():
        raise KeysError(f"{where}: {field!r} must not be empty{hint}, got {value!r}")
    bad = next((c for c in value if unicodedata.category(c) in _HIDDEN), None)
    if bad is not None:
        raise KeysError(
            f"{where}: {field!r} must not contain control or invisible characters "
            f"(U+{ord(bad):04X}), got {value!r}"
        )
    if value != value.strip():
        raise KeysError(f"{where}: {field!r} must not begin or end with spaces, got {value!r}")
    return value


def _scopes(value: object, key: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [s for s in re.split(r"[,\s]+", value) if s]
    allowed = ", ".join(sorted(SCOPES))
    if not isinstance(value, list) or not value:
        raise KeysError(f"{key}: 'scopes' must be a non-empty list of {allowed}, got {value!r}")
    bad = [s for s in value if not isinstance(s, str) or s not in SCOPES]  # [x] is unhashable
    if bad:
        raise KeysError(f"{key}: unknown scopes {bad!r}; expected some of {allowed}")
    return frozenset(value)
