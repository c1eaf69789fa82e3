from django.db import migrations, models


class Migration(migrations.Migration):
    # A new column with a constant default: PostgreSQL adds it without rewriting or updating a row,
    # so the trigger of 0007 that refuses UPDATE and DELETE on the audit trail is not involved.
    dependencies = [
        ("tracker", "0010_payer_profiles"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="client_request_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
