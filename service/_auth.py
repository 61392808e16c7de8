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
        {"name": name, "sha256": hash_key(raw), "scopes": list(scopes), "tenant": tenant}, 0
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

    @classmethod
    def from_file(cls, path: str | Path) -> KeyStore:
        """Read a YAML list of entries {name, sha256, scopes, tenant}; raise KeysError."""
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KeysError(f"cannot read keys file {str(path)!r}: {exc}") from exc
        if isinstance(data, Mapping) and "keys" in data:
            data = data["keys"]
        if not isinstance(data, list) or not data:
            raise KeysError(
                f"keys file {str(path)!r} must hold a non-empty list of "
                "{name, sha256, scopes, tenant} entries"
            )
        return cls(_entry(item, i) for i, item in enumerate(data))

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


def _entry(item: object, i: int) -> KeyEntry:
    if not isinstance(item, Mapping):
        raise KeysError(f"key entry #{i} must be a mapping, got {item!r}")
    unknown = sorted(set(item) - {"name", "sha256", "scopes", "tenant"})
    if unknown:
        raise KeysError(
            f"key entry #{i} has unknown fields {unknown!r}; expected name, sha256, scopes, tenant"
        )
    name, digest, tenant = item.get("name"), item.get("sha256"), item.get("tenant")
    if not isinstance(name, str) or not name:
        raise KeysError(f"key entry #{i}: 'name' must be a non-empty string, got {name!r}")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise KeysError(
            f"key {name!r}: 'sha256' must be the 64 lower-case hex digits of the key's "
            f"SHA-256, got {digest!r}"
        )
    if tenant is not None and (not isinstance(tenant, str) or not tenant):
        raise KeysError(
            f"key {name!r}: 'tenant' must be a non-empty string or null, got {tenant!r}"
        )
    return KeyEntry(
        name=name, sha256=digest, scopes=_scopes(item.get("scopes"), name), tenant=tenant
    )


def _scopes(value: object, name: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [s for s in re.split(r"[,\s]+", value) if s]
    if not isinstance(value, list) or not value:
        raise KeysError(f"key {name!r}: 'scopes' must be a non-empty list, got {value!r}")
    bad = [s for s in value if s not in SCOPES]
    if bad:
        raise KeysError(
            f"key {name!r}: unknown scopes {bad!r}; expected some of {', '.join(sorted(SCOPES))}"
        )
    return frozenset(value)
