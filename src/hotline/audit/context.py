"""The client address of the current request, for audit rows.

Set by ``AuditContextMiddleware`` around every request; CLI and workers leave it
empty. A context variable, so it is correct under ASGI concurrency.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("hotline_current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy set HOTLINE_TRUST_X_FORWARDED_FOR (docs/configuration.md).
    from django.conf import settings

    if getattr(settings, "HOTLINE_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
