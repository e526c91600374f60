"""API authentication: bearer tokens and Django sessions.

Token look-ups are remembered per process (``cases.cache``, cache ``auth``): a request
with a known token costs no query. Any write to users, tokens or departments empties
that cache — at once in the writing process, within ``HOTLINE_CACHE_CHECK_SECONDS``
(default 1 s) in the others — so a deleted token or a deactivated user stops working
within that bound. Expiry is checked on every request against the remembered date.
"""

from __future__ import annotations

import copy
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from hotline.accounts.models import ApiToken, hash_token
from hotline.cases import cache

#: ``last_used_at`` is written at most this often per token.
LAST_USED_EVERY_SECONDS = 300


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token or len(token) > 200:
            return None
        key = hash_token(token)
        box = cache.store(cache.AUTH)
        row = box.get(key) if box is not None else None
        if row is None:
            row = ApiToken.objects.select_related("user", "user__department").filter(key_hash=key).first()
            if row is None:
                return None
            if box is not None:
                box[key] = row
        now = timezone.now()
        if row.expires_at <= now or not row.user.is_active:
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
        # Each request gets its own copy of the user: code may set attributes on it.
        user = copy.copy(row.user) if box is not None else row.user
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """Session cookie with CSRF checking (pages' htmx calls)."""
