from django.db import migrations


def seed(apps, schema_editor):
    from hotline.directory import seed as data

    data.apply(apps)


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
