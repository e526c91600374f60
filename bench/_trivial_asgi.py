"""A trivial ASGI app (201 + a small JSON body for every request): the load
generator's own ceiling is measured against it (``register_api.py --ceiling``)."""

from __future__ import annotations

from typing import Any

BODY = b'{"id": 1, "number": "2026112500001", "status": "registered"}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
