"""The JSON API: one NinjaAPI, one router per app, OpenAPI at /api/openapi.json.

Authentication: ``Authorization: Bearer <token>`` (POST /api/auth/token) or the
Django session (with CSRF) for pages. Every error is JSON: ``{"detail": ...}`` and,
for invalid input, ``"errors": [{"field", "rule", "message"}]``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from hotline.accounts.auth import BearerAuth, SessionAuth
from hotline.lib.errors import HotlineError

api = NinjaAPI(
    title="hotline API",
    version="1",
    description="市民热线平台 API: tickets (工单), dictionary, users, audit.",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(HotlineError)
def _hotline_error(request: HttpRequest, exc: HotlineError) -> HttpResponse:
    return api.create_response(request, exc.payload(), status=exc.status_code)


def _field_of(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload", "data")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_of(list(e.get("loc", []))), "rule": str(e.get("type", "invalid")), "message": str(e.get("msg", ""))}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": "invalid input", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "authentication required"}, status=401)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


from hotline.accounts.api import router as accounts_router  # noqa: E402
from hotline.audit.api import router as audit_router  # noqa: E402
from hotline.cases.api import router as cases_router  # noqa: E402
from hotline.directory.api import router as directory_router  # noqa: E402
from hotline.knowledge.api import router as knowledge_router  # noqa: E402

# Tickets first: Django tries URL patterns in order, and registration (POST
# /api/tickets) is the hot path; the routers' prefixes do not overlap.
api.add_router("/tickets", cases_router)
api.add_router("/", accounts_router)
api.add_router("/directory", directory_router)
api.add_router("/audit", audit_router)
api.add_router("/knowledge", knowledge_router)
from hotline.telephony.api import router as telephony_router  # noqa: E402
api.add_router("/telephony", telephony_router)
