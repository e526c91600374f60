"""Bulk writes shared by the generator and the batched jobs: rows in with ``COPY``
on PostgreSQL and ``executemany`` on SQLite, and primary keys reserved up front."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

UTC = dt.timezone.utc


def _sqlite_row(row: tuple[Any, ...], positions: Sequence[int]) -> list[Any]:
    """Datetimes as Django stores them in SQLite: naive UTC text."""
    out = list(row)
    for i in positions:
        v = out[i]
        if v is not None:
            out[i] = str(v.astimezone(UTC).replace(tzinfo=None))
    return out


def write_rows(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], datetimes: Sequence[str] = ()) -> None:
    """Insert rows fast: ``COPY`` on PostgreSQL, ``executemany`` on SQLite (where the
    columns named in ``datetimes`` are converted the way Django stores them)."""
    if not rows:
        return
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            positions = [columns.index(c) for c in datetimes]
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                               [_sqlite_row(row, positions) for row in rows] if positions else rows)


def reserve_ids(table: str, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table``; call inside the batch's transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [n])
            return [r[0] for r in cursor.fetchall()]
        # SQLite: the transaction holds the write lock (IMMEDIATE), so max + 1 .. is ours.
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        top = max(top, row[0] if row else 0)
        return list(range(top + 1, top + n + 1))
