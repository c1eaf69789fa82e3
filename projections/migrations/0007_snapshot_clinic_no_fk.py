"""A snapshot's clinic without a foreign-key constraint (column and index kept).

The clinic is always the snapshot's patient's (both paths that store a snapshot set it from the
patient; ``tests/projections/test_snapshot_clinic.py``), and the patient and course keys are still
checked, so the database's check of the clinic key was one redundant lookup per snapshot the
nightly job writes (the figures are in the commit message)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projections", "0006_snapshot_data_lz4"),
        ("tracker", "0018_write_path_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outcomesnapshot",
            name="clinic",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tracker.clinic",
            ),
        ),
    ]
