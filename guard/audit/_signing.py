"""Signed tree heads: Ed25519 over the canonical JSON of {size, root, timestamp}."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from guard._exceptions import AuditError, DependencyMissing
from guard.audit._canonical import canonical_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Signer", "TreeHead", "ensure_key_file", "head_message", "verify_head"]


class TreeHead(BaseModel):
    """The log's size and root at a moment, signed so anyone holding the public key can check."""

    model_config = ConfigDict(frozen=True)

    size: int
    root: str
    timestamp: str
    signature: str | None = None
    key_id: str | None = None
    algorithm: Literal["ed25519"] = "ed25519"


def head_message(size: int, root: str, timestamp: str) -> bytes:
    """Return the exact bytes a tree head signature covers."""
    return canonical_json({"size": size, "root": root, "timestamp": timestamp})


def verify_head(head: TreeHead, public_key_hex: str) -> bool:
    """Check a tree head's Ed25519 signature against a hex-encoded raw public key."""
    _require_cryptography()
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if head.signature is None:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        # A size past 2**53 has no canonical JSON, so no log signed it: AuditError here.
        message = head_message(head.size, head.root, head.timestamp)
        key.verify(bytes.fromhex(head.signature), message)
    except (InvalidSignature, ValueError, AuditError):
        return False
    return True


class Signer:
    """An Ed25519 key that signs tree heads; loaded from a PEM file or made for this process."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes_raw()
        self.public_key_hex = raw.hex()
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def ephemeral(cls) -> Signer:
        """Make a fresh key that lives as long as this process."""
        _require_cryptography()
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_file(cls, path: str | Path, *, create: bool = True) -> Signer:
        """Load a PEM private key, first creating it (mode 0600) if the file does not exist.

        With `create=False` a missing file is an `AuditError`: a reader must not sign with a
        key of its own making, whose public key no earlier head of the log was signed with.
        """
        _require_cryptography()
        path = Path(path)
        if not path.exists():
            if not create:
                raise AuditError(
                    f"no signing key at {str(path)!r}: the file does not exist, and a reader "
                    "does not make one (its public key would check no earlier head)"
                )
            _create_key_file(path)
        return cls(_load_key(path))

    def sign(self, size: int, root: str, timestamp: str) -> TreeHead:
        """Return a signed tree head."""
        signature = self._key.sign(head_message(size, root, timestamp)).hex()
        return TreeHead(
            size=size, root=root, timestamp=timestamp, signature=signature, key_id=self.key_id
        )


def ensure_key_file(path: str | Path) -> None:
    """Create the signing key at `path` if it is missing and `cryptography` is installed.

    A writer calls this when it opens its log, so that the key exists before any reader
    asks for a head; without `cryptography` no head can be signed, and `head()` says so.
    """
    path = Path(path)
    if path.exists():
        return
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return
    _create_key_file(path)


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise DependencyMissing(
            "signed tree heads need the 'cryptography' package: pip install 'agent-guard[service]'"
        ) from exc


def _load_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = " ".join(str(exc).split())  # cryptography's hints come on further lines
        raise AuditError(f"could not load the signing key {str(path)!r}: {reason}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(
            f"signing key {str(path)!r} is a {type(key).__name__}; expected an Ed25519 key"
        )
    return key


def _create_key_file(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        _link_unless_exists(tmp, path)
    except OSError as exc:
        raise AuditError(f"could not create the signing key {str(path)!r}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _link_unless_exists(tmp: Path, path: Path) -> None:
    # A hard link appears atomically and never replaces: if another process created the key
    # first, both end up using that one.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
