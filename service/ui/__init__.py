"""The audit review console: decisions, details, escalations, labels, rules and exports.

create_app mounts it with `app.include_router(create_ui_router(state), prefix="/ui")`.
"""

from __future__ import annotations

from service.ui._routes import create_ui_router

__all__ = ["create_ui_router"]
