"""Streamed downloads (the API's and the console's exports) that cannot look whole when the
audit log fails under them.

The first chunk is read before the response starts, so a log that cannot be read at once
gets an error answer, not a download. A log that fails later ends the body with a line
saying it is incomplete and leaves the body unfinished: the server drops the connection,
so the client (a browser, curl, httpx) reports the download failed instead of keeping a
file that looks whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Message, Send

from guard._exceptions import AuditError, AuditTampered, GuardError
from service._errors import AUDIT_UNAVAILABLE

__all__ = ["Download", "incomplete", "jsonl_failure"]

log = logging.getLogger("guard.service")


def incomplete(error: GuardError) -> str:
    """Why an export stops short, for its last line. An audit log's own error names the
    database (a file path, a PostgreSQL host and user): that text goes to the server log,
    as a 503 answer keeps it there; an edited record is named (it is the caller's to see)."""
    why = str(error)
    if isinstance(error, AuditError) and not isinstance(error, AuditTampered):
        log.error("export cut short by an audit log error: %s", why)
        why = AUDIT_UNAVAILABLE
    return (
        "the audit log could not be read, so this file holds only the rows above "
        f"and is not the whole export: {why}"
    )


def jsonl_failure(error: GuardError) -> bytes:
    """The JSONL export's last line when the log fails under it, in the API's error shape."""
    body = {"code": "export_incomplete", "message": incomplete(error)}
    return orjson.dumps({"error": {**body, "details": {"cause": error.code}}}) + b"\n"


class Download(StreamingResponse):
    """An export's response: see the module's doc for what a failing log gives.

    The first chunk is read here, so a `GuardError` from it reaches the route's caller.
    """

    def __init__(
        self,
        chunks: Iterator[str | bytes],
        failure: Callable[[GuardError], str | bytes],
        **kwargs: Any,
    ) -> None:
        self.failed = False
        first = next(chunks, b"")  # an empty export is an empty body
        super().__init__(self._guarded(first, chunks, failure), **kwargs)

    def _guarded(
        self,
        first: str | bytes,
        rest: Iterator[str | bytes],
        failure: Callable[[GuardError], str | bytes],
    ) -> Iterator[str | bytes]:
        yield first
        try:
            yield from rest
        except GuardError as exc:
            log.error("export cut short by an audit log error: %s", type(exc).__name__)
            self.failed = True
            yield failure(exc)

    async def stream_response(self, send: Send) -> None:
        async def unfinished_if_failed(message: Message) -> None:
            if self.failed and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    return  # no end of the body: the server closes the connection
            await send(message)

        await super().stream_response(unfinished_if_failed)
