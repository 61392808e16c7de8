"""GET /v1/policies, GET /v1/policies/{name} and POST /v1/policies/reload."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from guard.policy import CompiledPack
from service._auth import Principal
from service._decisions import each_once
from service._deps import get_state, require
from service._errors import Forbidden, NotFound
from service._http import json_response, standard_responses
from service._schemas import PolicyDetail, PolicyPage, ReloadOut

__all__ = ["build_router", "shown_file", "summary"]

Reader = Annotated[Principal, Depends(require("check", "audit:read", "review"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def build_router() -> APIRouter:
    """The policy endpoints."""
    router = APIRouter(prefix="/v1/policies", tags=["policies"])
    router.add_api_route(
        "",
        list_policies,
        methods=["GET"],
        response_model=PolicyPage,
        responses=standard_responses(401, 403, 422, 429, 503),
        summary="The loaded packs",
    )
    router.add_api_route(
        "/reload",
        reload_policies,
        methods=["POST"],
        response_model=ReloadOut,
        # 403: not an admin, or an admin bound to a tenant (packs serve every tenant);
        # 404: the configured policy source (file or folder) is gone; 422: a pack is invalid.
        responses=standard_responses(401, 403, 404, 422, 429, 503),
        summary="Reload every pack atomically, in every worker (admin keys with no tenant only)",
    )
    router.add_api_route(
        "/{name}",
        get_policy,
        methods=["GET"],
        response_model=PolicyDetail,
        responses=standard_responses(401, 403, 404, 422, 429, 503),
        summary="One pack: source, version, digest, rules",
    )
    return router


async def list_policies(request: Request, principal: Reader) -> Response:
    """Every loaded pack with its version and digest."""
    each_once(request, ())
    state = get_state(request)
    guard = await state.serving()
    items = [summary(p, state.shadow) for p in guard.packs.values()]
    return json_response({"items": items, "next_cursor": None})


async def get_policy(
    request: Request, principal: Reader, name: Annotated[str, Path(max_length=64)]
) -> Response:
    """One pack's YAML source, version, digest and rules."""
    each_once(request, ())
    state = get_state(request)
    guard = await state.serving()
    pack = guard.packs.get(name)
    if pack is None:
        raise NotFound(
            f"no loaded pack named {name!r}; loaded: {', '.join(sorted(guard.packs))}",
            code="policy_not_found",
            details={"policy": name, "loaded": sorted(guard.packs)},
        )
    rules = [
        {
            "id": r.id,
            "scope": r.scope,
            "effect": r.effect.value,
            "severity": r.severity,
            "description": r.description,
        }
        for r in pack.rules
    ]
    return json_response(
        {
            **summary(pack, state.shadow),
            "source": pack.source,
            "file": shown_file(pack.path, principal),
            "rule_list": rules,
        }
    )


async def reload_policies(request: Request, principal: Admin) -> Response:
    """Load every pack again; if any pack is invalid nothing changes and the error says why.

    Every worker of this `guard serve` (and every process given the same `reload_file`)
    reloads before its next decision; sidecars on other hosts reload on their own.
    """
    each_once(request, ())
    if principal.tenant is not None:
        # The packs decide every tenant's actions: one tenant's admin must not change them.
        raise Forbidden(
            f"key {principal.name!r} is an admin of tenant {principal.tenant!r}; reloading "
            "the packs changes what every tenant is checked against, so it needs an admin "
            "key with no tenant",
            code="operator_only",
            details={"tenant": principal.tenant},
        )
    await _no_body(request)
    state = get_state(request)
    packs = await anyio.to_thread.run_sync(state.reload)
    return json_response({"reloaded": True, "items": [summary(p, state.shadow) for p in packs]})


async def _no_body(request: Request) -> None:
    """Refuse a body on a reload, which reads none: {"dry_run": true} or {"policy": "x"}
    would otherwise reload every pack without a word. Nothing, or an empty JSON object (as
    some HTTP clients send with every POST), asks for nothing and is taken."""
    raw = (await request.body()).strip()
    if not raw or (raw[:1], raw[-1:]) == (b"{", b"}") and not raw[1:-1].strip():
        return
    raise RequestValidationError(
        [
            {
                "loc": ("body",),
                "msg": "this endpoint takes no body (send none, or {}): it reloads every pack "
                "from the configured policy source",
                "type": "value_error",
            }
        ]
    )


def shown_file(path: str | None, principal: Principal) -> str | None:
    """Where a pack was loaded from, as `principal` may see it: the path on the server for an
    operator (an admin key bound to no tenant, who configures the server), the file's name
    for any other key (a tenant's keys learn nothing of the server's file system)."""
    if path is None or (principal.can("admin") and principal.tenant is None):
        return path
    return PurePath(path).name


def summary(pack: CompiledPack, shadows: Mapping[str, CompiledPack]) -> dict[str, Any]:
    """A pack's name, version, digest and counts, as the API lists it."""
    shadow = shadows.get(pack.name)
    return {
        "name": pack.name,
        "version": pack.version,
        "digest": pack.digest,
        "description": pack.spec.description,
        "rules": len(pack.rules),
        "pii": pack.pii is not None,
        "shadow": shadow.digest if shadow else None,
    }
