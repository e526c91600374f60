"""Per-process caches of rows that change rarely and are read on every request: the
data dictionary (sources, service types, categories, districts, departments) and API
tokens with their users.

Correctness rests on generation counters in the database (``CacheGeneration``: one row
per cache name). Every write to a cached table bumps its generation in the writer's
transaction (signals on save/delete, and explicit ``bump`` calls next to the few bulk
``UPDATE``s in ``directory.actions``) and empties this process's copy at once. Other
processes read the generation rows (one small query) at most every
``HOTLINE_CACHE_CHECK_SECONDS`` (default 1 s) and drop what changed: an administrator's
change, a deactivated user or a revoked token takes effect everywhere within that bound,
in the writing process immediately.

The caches are read only outside a transaction (``connection.in_atomic_block``):
inside one the code reads the database, so a transaction sees its own writes and a
rolled-back change (tests roll back every test) can never linger in a cache.
``HOTLINE_CACHE_CHECK_SECONDS=0`` turns caching off.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

DICTIONARY = "dictionary"
AUTH = "auth"

#: Which cache a write to a table empties (by model label, so the historical models of
#: migrations count too).
TABLES: dict[str, tuple[str, ...]] = {
    "directory.source": (DICTIONARY,),
    "directory.servicetype": (DICTIONARY,),
    "directory.category": (DICTIONARY,),
    "directory.district": (DICTIONARY,),
    "directory.department": (DICTIONARY, AUTH),  # users carry their department (scope)
    "accounts.user": (AUTH,),
    "accounts.apitoken": (AUTH,),
}

_lock = threading.Lock()
_stores: dict[str, dict[str, Any]] = {}
_seen: dict[str, int] = {}
_checked_at = float("-inf")


def check_seconds() -> float:
    return float(getattr(settings, "HOTLINE_CACHE_CHECK_SECONDS", 1.0))


def usable() -> bool:
    """May this thread read the caches now (caching on, not inside a transaction)?"""
    return check_seconds() > 0 and not connection.in_atomic_block


def _refresh() -> None:
    """Drop the caches whose generation changed in the database (at most once per
    ``HOTLINE_CACHE_CHECK_SECONDS``)."""
    global _checked_at
    from hotline.cases.models import CacheGeneration

    now = time.monotonic()
    if now - _checked_at < check_seconds():
        return
    rows = dict(CacheGeneration.objects.values_list("name", "value"))
    with _lock:
        for name in list(_stores):
            if rows.get(name, 0) != _seen.get(name, 0):
                _stores.pop(name, None)
        _seen.clear()
        _seen.update(rows)
        _checked_at = now


def store(name: str) -> dict[str, Any] | None:
    """The cache ``name`` (a dict to read and fill), or None when it must not be used now."""
    if not usable():
        return None
    _refresh()
    with _lock:
        return _stores.setdefault(name, {})


def cached(name: str, key: str, load: Callable[[], T]) -> T:
    """``load()``, remembered in cache ``name`` under ``key`` while the generation holds."""
    box = store(name)
    if box is None:
        return load()
    try:
        return box[key]  # type: ignore[no-any-return]
    except KeyError:
        value = load()
        box[key] = value
        return value


def clear(*names: str) -> None:
    """Empty this process's copy of the named caches (all when none are named)."""
    with _lock:
        for name in names or list(_stores):
            _stores.pop(name, None)


def bump(*names: str) -> None:
    """Record that the named caches' tables changed: the generation rows move on in the
    current transaction, and this process forgets its copy now and again at commit (a
    concurrent request may have re-read the old rows in between)."""
    from hotline.cases.models import CacheGeneration

    for name in names:
        # A random new value rather than +1: a counter could come back to a value a
        # process remembers after the table was emptied (restore of a backup, tests).
        value = secrets.randbits(62)
        if not CacheGeneration.objects.filter(name=name).update(value=value):
            CacheGeneration.objects.get_or_create(name=name, defaults={"value": value})
    clear(*names)
    transaction.on_commit(lambda: clear(*names))


#: User fields whose change does not matter to a cached token's user (login bookkeeping).
_BOOKKEEPING = frozenset({"last_login", "failed_logins", "locked_until"})
_table_ready = False


def _generation_table_ready() -> bool:
    """False while migrations have not created the table yet (checked before querying
    it: on PostgreSQL a failed query would abort the caller's transaction)."""
    global _table_ready
    if not _table_ready:
        from hotline.cases.models import CacheGeneration

        _table_ready = CacheGeneration._meta.db_table in connection.introspection.table_names()
    return _table_ready


def _on_write(sender: Any, **kwargs: Any) -> None:
    names = TABLES.get(getattr(getattr(sender, "_meta", None), "label_lower", ""))
    if not names or kwargs.get("raw"):
        return
    fields = kwargs.get("update_fields")
    if names == (AUTH,) and fields and set(fields) <= _BOOKKEEPING:
        return
    if kwargs.get("using", "default") != "default" or not _generation_table_ready():
        clear(*names)
        return
    bump(*names)


def connect_signals() -> None:
    post_save.connect(_on_write, dispatch_uid="hotline.cases.cache.save")
    post_delete.connect(_on_write, dispatch_uid="hotline.cases.cache.delete")
