from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0016_assessment_nightly_covering_index"),
    ]

    operations = [
        # Existing clinics read their times in UTC, as before.
        migrations.AddField(
            model_name="clinic",
            name="timezone",
            field=models.CharField(default="UTC", max_length=64),
        ),
    ]
