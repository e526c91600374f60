"""Drop the single-column indexes Django made for five foreign keys whose column
already leads a composite index: ``(source|service_type|category|district,
created_at)`` on the ticket and ``(ticket, at)`` on its events. Each was one more
index write per registration and served no query the composite does not.

The model change is ``db_index=False``. On SQLite, Django would apply it by copying
the whole table (a rebuild of every ticket and event of a running center), so the
database side is a plain ``DROP INDEX`` under the name Django gave the index, on
every database.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

# (table, column) whose own index goes
COVERED = [
    ("cases_ticket", "source_id"),
    ("cases_ticket", "service_type_id"),
    ("cases_ticket", "category_id"),
    ("cases_ticket", "district_id"),
    ("cases_ticketevent", "ticket_id"),
]


def drop(apps: Any, schema_editor: Any) -> None:
    q = schema_editor.quote_name
    for table, column in COVERED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {q(schema_editor._create_index_name(table, [column], suffix=''))}")


def create(apps: Any, schema_editor: Any) -> None:
    q = schema_editor.quote_name
    for table, column in COVERED:
        name = schema_editor._create_index_name(table, [column], suffix="")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} ({q(column)})")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_recording_ref_index'),
        ('directory', '0004_citizen_phone_unique'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, create)],
            state_operations=[
                migrations.AlterField(
                    model_name='ticket',
                    name='category',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.category'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='district',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.district'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='service_type',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.servicetype'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='source',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.source'),
                ),
                migrations.AlterField(
                    model_name='ticketevent',
                    name='ticket',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='cases.ticket'),
                ),
            ],
        ),
    ]
