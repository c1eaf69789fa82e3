from django.db import migrations


class Migration(migrations.Migration):
    """The outbox model moves to the records app (tracker); its table stays until that app renames it."""

    dependencies = [
        ("projections", "0003_pending_recompute"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PendingRecompute")],
            database_operations=[],
        ),
    ]
