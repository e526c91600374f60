"""Full-text search structures the ORM does not describe: SQLite FTS5 tables with
sync triggers, or PostgreSQL generated tsvector columns with GIN indexes (see
knowledge.search). Note for later migrations: a SQLite table rebuild of
knowledge_article or knowledge_ticketindex drops the triggers; re-run
search.create_search_schema after such a change."""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from hotline.knowledge.search import create_search_schema

    create_search_schema(schema_editor)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from hotline.knowledge.search import drop_search_schema

    drop_search_schema(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
