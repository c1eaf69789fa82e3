import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The outbox model joins the records app: its table, created by projections, is taken over and renamed."""

    dependencies = [
        ("tracker", "0004_drop_redundant_patient_indexes"),
        ("projections", "0004_pendingrecompute_to_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PendingRecompute",
                    fields=[
                        (
                            "patient",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="tracker.patient",
                            ),
                        ),
                        ("queued_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "projections_pendingrecompute"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="pendingrecompute", table=None),
    ]
