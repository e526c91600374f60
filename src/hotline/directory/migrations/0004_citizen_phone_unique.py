"""One citizen per phone: merge the duplicates older versions could write, then the
unique constraint ``citizen_phone_unique`` (its index replaces the plain phone index).

For each phone with several citizens the oldest (lowest id) is kept: every foreign key
to the others (found in the migration state, so tickets and anything added later) is
re-pointed to it, its empty name / ID number / address are filled from the others
(oldest first), other phones and tags are united, a blacklist on any of them is kept
(permanent wins, otherwise the latest expiry, with that entry's reason), and the others
are deleted. Each merge leaves one ``citizen.merge`` audit row (actor "system") with the
deleted records, the rows moved and the kept record's changed fields.

Set-based: the duplicates are found by one ``GROUP BY phone`` into a temporary mapping
table (removed id → kept id), each referencing table is re-pointed by one UPDATE, the
removed citizens go in one DELETE; Python only sees the rows of duplicate groups.
SQLite and PostgreSQL alike. Not reversible in data: going back drops the constraint.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import migrations, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

MERGE_TABLE = "directory_citizen_merge"
FILLED = ("name", "id_number", "address")
MERGED_FIELDS = ("name", "id_number", "address", "other_phones", "tags", "blacklisted", "blacklist_until",
                 "blacklist_reason")
KEPT_OF_REMOVED = ("name", "id_number", "address", "other_phones", "tags", "blacklisted", "blacklist_until",
                   "blacklist_reason", "created_at")


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _united(lists: list[Any], leave_out: str = "") -> list[Any]:
    out: list[Any] = []
    for values in lists:
        for v in values if isinstance(values, list) else []:
            if v != leave_out and v not in out:
                out.append(v)
    return out


def _references(apps: Any) -> list[tuple[str, str, str]]:
    """(table, column, label) of every foreign key to Citizen in the migration state."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_fields:
            target = field.related_model if field.is_relation else None
            if target is not None and not isinstance(target, str) and target._meta.label_lower == "directory.citizen":
                found.append((model._meta.db_table, field.column, f"{model._meta.label_lower}.{field.name}"))
    return found


def _merge(keep: dict[str, Any], others: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold ``others`` into ``keep`` (rows as dicts, in memory); return the changed fields."""
    before = {f: keep[f] for f in MERGED_FIELDS}
    for other in others:
        for f in FILLED:
            if not keep[f] and other[f]:
                keep[f] = other[f]
    everyone = [keep, *others]
    keep["other_phones"] = _united([c["other_phones"] for c in everyone], leave_out=keep["phone"])
    keep["tags"] = _united([c["tags"] for c in everyone])
    listed = [c for c in everyone if c["blacklisted"]]
    if listed:
        permanent = [c for c in listed if c["blacklist_until"] is None]
        winner = permanent[0] if permanent else max(listed, key=lambda c: c["blacklist_until"])
        keep["blacklisted"], keep["blacklist_until"] = True, winner["blacklist_until"]
        keep["blacklist_reason"] = winner["blacklist_reason"] or keep["blacklist_reason"]
    return [{"field": f, "old": _plain(before[f]), "new": _plain(keep[f])} for f in MERGED_FIELDS if before[f] != keep[f]]


def _writer(model: Any, names: list[str], connection: Any) -> tuple[list[str], Any]:
    """Column names and a function turning values into what ``executemany`` takes (each
    field's ``get_db_prep_save``: the ORM's bulk statements cost seconds per thousand rows)."""
    fields = [model._meta.get_field(name) for name in names]
    return [f.column for f in fields], lambda values: [f.get_db_prep_save(v, connection) for f, v in zip(fields, values)]


def merge_duplicate_citizens(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    Citizen = apps.get_model("directory", "Citizen")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    citizens = quote(Citizen._meta.db_table)
    mapping = quote(MERGE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {mapping} (dup_id bigint PRIMARY KEY, keep_id bigint NOT NULL)")
        cursor.execute(
            f"INSERT INTO {mapping} (dup_id, keep_id) SELECT c.id, k.keep_id FROM {citizens} c "
            f"JOIN (SELECT phone, MIN(id) AS keep_id FROM {citizens} GROUP BY phone HAVING COUNT(*) > 1) k "
            f"ON c.phone = k.phone WHERE c.id <> k.keep_id"
        )
        cursor.execute(f"SELECT COUNT(*) FROM {mapping}")
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"DROP TABLE {mapping}")
            return
        moved: dict[int, list[dict[str, Any]]] = {}
        for table, column, label in _references(apps):
            table, column = quote(table), quote(column)
            cursor.execute(f"SELECT m.keep_id, COUNT(*) FROM {table} r JOIN {mapping} m ON r.{column} = m.dup_id "
                           f"GROUP BY m.keep_id")
            for keep_id, count in cursor.fetchall():
                moved.setdefault(keep_id, []).append({"field": label, "old": None, "new": count})
            cursor.execute(f"UPDATE {table} SET {column} = (SELECT m.keep_id FROM {mapping} m WHERE m.dup_id = {table}.{column}) "
                           f"WHERE {column} IN (SELECT dup_id FROM {mapping})")

    group_rows = Citizen.objects.filter(
        id__in=RawSQL(f"SELECT dup_id FROM {mapping} UNION SELECT keep_id FROM {mapping}", ())
    ).order_by("phone", "id").values("id", "phone", *KEPT_OF_REMOVED)
    now = timezone.now()
    updates: list[list[Any]] = []
    entries: list[list[Any]] = []
    update_columns, update_values = _writer(Citizen, [*MERGED_FIELDS, "id"], connection)
    audit_columns, audit_values = _writer(
        AuditEntry, ["at", "actor", "actor_name", "ip", "action", "object_type", "object_id", "object_repr", "changes"], connection)
    for _, group in itertools.groupby(group_rows.iterator(chunk_size=2000), key=itemgetter("phone")):
        keep, *others = group
        removed = [{"id": c["id"], **{f: _plain(c[f]) for f in KEPT_OF_REMOVED}} for c in others]
        changes = _merge(keep, others)
        if changes:
            updates.append(update_values([*(keep[f] for f in MERGED_FIELDS), keep["id"]]))
        entries.append(audit_values([
            now, None, "system", None, "citizen.merge", "directory.citizen", str(keep["id"]), (keep["name"] or keep["phone"])[:200],
            [{"field": "merged_citizens", "old": removed, "new": None}, *moved.get(keep["id"], []), *changes],
        ]))
    with connection.cursor() as cursor:
        sets = ", ".join(f"{quote(c)} = %s" for c in update_columns[:-1])
        if updates:
            cursor.executemany(f"UPDATE {citizens} SET {sets} WHERE {quote(update_columns[-1])} = %s", updates)
        cursor.executemany(
            f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({', '.join(quote(c) for c in audit_columns)}) "
            f"VALUES ({', '.join(['%s'] * len(audit_columns))})", entries)
        cursor.execute(f"DELETE FROM {citizens} WHERE id IN (SELECT dup_id FROM {mapping})")
        cursor.execute(f"DROP TABLE {mapping}")
        if connection.vendor == "postgresql":
            # The foreign-key checks of the moved rows are deferred; run them now, so the
            # ALTER TABLE below does not meet "pending trigger events".
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("directory", "0003_deadline_rule_constraints"),
        ("cases", "0001_initial"),  # tickets reference citizens
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(merge_duplicate_citizens, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="citizen",
            name="phone",
            field=models.CharField(max_length=32, verbose_name="电话"),
        ),
        migrations.AddConstraint(
            model_name="citizen",
            constraint=models.UniqueConstraint(fields=("phone",), name="citizen_phone_unique"),
        ),
    ]
