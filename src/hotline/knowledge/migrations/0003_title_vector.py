"""PostgreSQL: the article title's own tsvector with a GIN index, so the search
ranks title matches first in line when it bounds its candidate set
(search.PostgresEngine). Nothing on SQLite."""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from hotline.knowledge.search import POSTGRES_TITLE_DDL

    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_TITLE_DDL:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from hotline.knowledge.search import POSTGRES_TITLE_DROP

    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_TITLE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_schema")]
    operations = [migrations.RunPython(forwards, backwards)]
