"""Console sessions: an HMAC-signed cookie naming the key's entry, with a per-session CSRF token.

The cookie holds no key and no scopes: on every request the principal is rebuilt from the
key store by name and the entry's fingerprint, so a removed or rotated key ends its
sessions at once. Anonymous sessions (before login) only carry the CSRF token that the
login form needs. A sign-out is a `guard.signout/v1` audit record, so every worker and
every sidecar on the same audit log refuses the signed-out cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from guard._exceptions import AuditError, RecordNotFound
from service._auth import KeyStore, Principal

if TYPE_CHECKING:
    from guard.audit import AuditLog

__all__ = ["COOKIE", "MAX_AGE", "SIGNOUT_SCHEMA", "Session", "SessionCodec"]

COOKIE = "guard_ui_session"
MAX_AGE = 12 * 3600  # seconds a login lasts
_OPEN = "open-access"
SIGNOUT_SCHEMA = "guard.signout/v1"


@dataclass(frozen=True, slots=True)
class Session:
    """A decoded session: who (None before login), the CSRF token and when it was issued."""

    principal: Principal | None
    csrf: str
    issued: int


class SessionCodec:
    """Signs and checks session cookies with one secret (per process unless configured).

    With `audit`, sign-outs are recorded in the audit log and read back from it, so they
    hold in every process that shares the log; without it, in this process only.
    """

    def __init__(
        self, keys: KeyStore, secret: bytes | None = None, audit: AuditLog | None = None
    ) -> None:
        self._keys = keys
        self._secret = secret or secrets.token_bytes(32)
        self._audit = audit
        # Signed-out sessions (by CSRF token, unique per session) until they would expire:
        # a copied cookie must not outlive its sign-out. Here those this process knows of.
        self._revoked: dict[str, int] = {}
        self._lock = threading.Lock()

    def revoke(self, session: Session) -> None:
        """End `session` now: its cookie is refused from here on, even if kept elsewhere."""
        self._remember(session.csrf, session.issued)
        if self._audit is None:
            return
        principal = session.principal
        record = {
            "schema_version": SIGNOUT_SCHEMA,
            "id": _signout_id(session.csrf),
            "time": datetime.now(UTC).isoformat(),
            "tenant": principal.tenant if principal is not None else None,
            "key": principal.name if principal is not None else None,
            "issued": session.issued,
        }
        try:
            self._audit.append(record)
        except AuditError:
            if not self._signed_out_elsewhere(session.csrf):  # not a sign-out in another tab
                raise

    def _remember(self, csrf: str, issued: int) -> None:
        now = int(time.time())
        with self._lock:
            for token, when in list(self._revoked.items()):
                if now - when > MAX_AGE:  # expired anyway: no need to remember it
                    del self._revoked[token]
            self._revoked[csrf] = issued

    def _signed_out_elsewhere(self, csrf: str) -> bool:
        """Whether the audit log holds this session's sign-out (made by any process)."""
        if self._audit is None:
            return False
        try:
            self._audit.get(_signout_id(csrf))
        except RecordNotFound:
            return False
        return True

    def anonymous(self) -> tuple[Session, str]:
        """A new session with no principal (for the login form's CSRF token) and its cookie."""
        return self._issue(None, "")

    def login(self, principal: Principal) -> tuple[Session, str]:
        """A new session for `principal` (a fresh CSRF token) and its cookie value."""
        if principal.name == _OPEN and self._keys.is_open:
            return self._issue(principal, _OPEN)
        entry = next((e for e in self._keys.entries if e.name == principal.name), None)
        if entry is None:
            raise ValueError(f"no configured key named {principal.name!r}")
        return self._issue(principal, self._fingerprint(entry.sha256))

    def load(self, cookie: str | None) -> Session | None:
        """The session in `cookie`, or None when it is missing, forged, expired or revoked."""
        payload = self._unsign(cookie) if cookie else None
        if payload is None:
            return None
        name, fingerprint = payload.get("n"), payload.get("f")
        csrf, issued = payload.get("c"), payload.get("i")
        if not isinstance(csrf, str) or not isinstance(issued, int):
            return None
        if not 0 <= time.time() - issued <= MAX_AGE or csrf in self._revoked:
            return None
        if name is None:
            return Session(None, csrf, issued)
        principal = self._principal(name, fingerprint)
        if principal is None:
            return None
        if self._signed_out_elsewhere(csrf):
            self._remember(csrf, issued)
            return None
        return Session(principal, csrf, issued)

    def _principal(self, name: object, fingerprint: object) -> Principal | None:
        if name == _OPEN and fingerprint == _OPEN:
            return self._keys.anonymous() if self._keys.is_open else None
        for entry in self._keys.entries:
            if (
                entry.name == name
                and isinstance(fingerprint, str)
                and hmac.compare_digest(self._fingerprint(entry.sha256), fingerprint)
            ):
                return entry.principal()
        return None

    def _issue(self, principal: Principal | None, fingerprint: str) -> tuple[Session, str]:
        session = Session(principal, secrets.token_urlsafe(32), int(time.time()))
        payload = {
            "n": principal.name if principal is not None else None,
            "f": fingerprint,
            "c": session.csrf,
            "i": session.issued,
        }
        return session, self._sign(orjson.dumps(payload))

    def _fingerprint(self, key_digest: str) -> str:
        return hmac.new(self._secret, b"key:" + key_digest.encode(), hashlib.sha256).hexdigest()

    def _sign(self, data: bytes) -> str:
        body = base64.urlsafe_b64encode(data).decode().rstrip("=")
        mac = hmac.new(self._secret, b"session:" + body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def _unsign(self, cookie: str) -> dict[str, object] | None:
        body, _, mac = cookie.rpartition(".")
        expected = hmac.new(self._secret, b"session:" + body.encode(), hashlib.sha256).hexdigest()
        if not body or not hmac.compare_digest(expected.encode(), mac.encode()):
            return None
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None


def _signout_id(csrf: str) -> str:
    """The audit id of a session's sign-out: fixed per session, and not its CSRF token."""
    return "signout-" + hashlib.sha256(csrf.encode("utf-8")).hexdigest()
