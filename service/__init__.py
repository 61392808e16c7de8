"""The guard's HTTP sidecar: `create_app(settings)` builds the FastAPI app.

    from service import Settings, create_app
    app = create_app(Settings(policy="policies/", audit="sqlite:///guard-audit.db"))

Run it with `guard serve` (uvicorn with uvloop and httptools).
"""

from __future__ import annotations

from service._app import app_from_env, create_app
from service._auth import KeyStore, Principal
from service._settings import Settings
from service._state import Escalations, ServiceState

__all__ = [
    "Escalations",
    "KeyStore",
    "Principal",
    "ServiceState",
    "Settings",
    "app_from_env",
    "create_app",
]
