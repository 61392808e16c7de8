"""Running the sidecar under uvicorn (uvloop + httptools), one process or several workers."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable

from service._metrics import MULTIPROC_ENV, check_multiproc_dir, trace_exporters
from service._settings import LOOPBACK, Settings, SettingsError

__all__ = ["loopback_only", "serve", "uvicorn_options"]

log = logging.getLogger("guard.service")


def loopback_only(settings: Settings) -> tuple[Settings, str | None]:
    """With no keys file every caller is an admin, so only loopback may reach the server."""
    if settings.keys is not None:
        return settings, None
    if settings.host in LOOPBACK:
        return settings, (
            f"no keys file: every request is an admin of tenant None; "
            f"serving on loopback only ({settings.host})"
        )
    return settings.with_(host="127.0.0.1"), (
        f"no keys file: refusing to bind {settings.host!r}; every request would be an admin, "
        "so serving on loopback only (127.0.0.1). Pass --keys to serve other hosts."
    )


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """The server settings: uvloop, httptools, no access log (paths can carry personal data)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": settings.log_level,
        "timeout_keep_alive": 5,
        "server_header": False,
        "h11_max_incomplete_event_size": settings.max_body_bytes,
    }


def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until interrupted; every pack is loaded and validated before the port opens.

    `on_ready` runs in a thread once the server accepts connections (single process) or
    right after the workers are started (several workers).
    """
    import uvicorn

    options = uvicorn_options(settings)
    check_listen(settings.host, settings.port)  # before the packs and the PII engine load
    check_multiproc_dir()
    if settings.workers == 1:
        from service._app import create_app

        app = create_app(settings)  # raises on a bad pack: nothing is served
        server = uvicorn.Server(uvicorn.Config(app, **options))  # type: ignore[arg-type]
        if on_ready is not None:
            threading.Thread(target=_when_started, args=(server, on_ready), daemon=True).start()
        server.run()
        return
    shared = tempfile.mkdtemp(prefix="guard-serve-")  # what the workers share; removed at exit
    made = None
    try:
        settings = _shared_by_workers(settings, shared)
        _check_before_workers(settings)
        if not os.environ.get(MULTIPROC_ENV):
            # Without it each worker's /metrics would show only what that worker counted.
            made = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="guard-metrics-")
        os.environ.update(settings.to_env())
        if on_ready is not None:
            args = (settings.host, settings.port, on_ready)
            threading.Thread(target=_when_listening, args=args, daemon=True).start()
        uvicorn.run("service:app_from_env", factory=True, workers=settings.workers, **options)  # type: ignore[arg-type]
    finally:
        if made is not None:  # removed below: nothing after this may write there
            os.environ.pop(MULTIPROC_ENV, None)
        for folder in (made, shared):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _shared_by_workers(settings: Settings, folder: str) -> Settings:
    """Settings every worker must agree on, made once here when they are not given."""
    if settings.console and not settings.session_secret:
        # Each worker would sign console sessions with its own random secret, and a
        # reviewer's next request, served by another worker, would be signed out.
        settings = settings.with_(session_secret=secrets.token_urlsafe(32))
    if settings.reload_file is None:
        # A reload reaches one worker; the others notice this file change and follow.
        marker = os.path.join(folder, "reloaded")
        open(marker, "x").close()  # noqa: SIM115 - created empty: its changes are what count
        settings = settings.with_(reload_file=marker)
    if settings.signing_key is None and not settings.audit.startswith("sqlite:"):
        # A PostgreSQL log has no key file beside it: each worker would sign tree heads with
        # a key of its own, and a head from one would not verify with another's public key.
        # The log's first open (before the workers start) makes this one.
        settings = settings.with_(signing_key=os.path.join(folder, "signing.key"))
    return settings


def _check_before_workers(settings: Settings) -> None:
    """What each worker would refuse, refused once here, clearly: a worker that fails at
    start-up is restarted by uvicorn's supervisor, over and over."""
    from guard.audit import open_audit
    from guard.policy import load
    from service._auth import KeyStore
    from service._deps import RateLimiter
    from service._state import rate_store, refuse_unshared_rates

    if settings.audit in ("", "memory://"):
        raise SettingsError(
            f"audit {settings.audit!r} is a log in the memory of each process: each of the "
            f"{settings.workers} workers would keep its own, and a decision made by one would "
            "be unknown to the others; give a sqlite:/// or postgresql:// URL"
        )
    trace_exporters()  # a bad OTEL_TRACES_EXPORTER
    packs = [*load(settings.policy), *(load(settings.shadow) if settings.shadow else [])]
    if settings.keys:
        KeyStore.from_file(settings.keys)
    store = rate_store(settings)  # a Redis URL that is not one (none is connected to)
    close = getattr(store, "close", None)
    if callable(close):
        close()
    RateLimiter(settings.rate_limit, settings.redis)
    audit = open_audit(settings.audit, signing_key_path=settings.signing_key)
    try:
        _ = audit.public_key_hex  # a bad signing key file
    finally:
        audit.close()
    refuse_unshared_rates(settings, packs)
    if not settings.redis:
        log.warning(
            "no Redis URL: each of the %d workers keeps its own per-key rate limit, so a key "
            "may send up to %d times %s; pass --redis URL (GUARD_REDIS) to share them",
            settings.workers,
            settings.workers,
            settings.rate_limit,
        )


def check_listen(host: str, port: int) -> None:
    """Refuse at once a port in use or a host that is not an interface here (OSError
    "cannot listen on HOST:PORT: ..."): uvicorn would load everything first, then log the
    error and exit 3, or restart each worker over and over."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None


def _when_listening(host: str, port: int, on_ready: Callable[[], None]) -> None:
    """Run `on_ready` once the workers accept connections (not merely once they start)."""
    import time

    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection((target, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
            continue
        on_ready()
        return


def _when_started(server: object, on_ready: Callable[[], None]) -> None:
    import time

    while not getattr(server, "started", False):
        if getattr(server, "should_exit", False):
            return
        time.sleep(0.05)
    on_ready()
