"""A patient's locale, and password reset codes.

On SQLite, adding a column with a default rebuilds ``tracker_patient`` (a new table renamed over the
old one), which SQLite refuses while a trigger of 0002 names the table: those triggers are dropped
for the rebuild and created again after it.
"""

import importlib
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_courses = importlib.import_module("tracker.records.migrations.0002_course_clinic_matches_patient")


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0011_audit_client_request_id"),
    ]

    operations = [
        migrations.RunPython(_sqlite(_courses.SQLITE_DOWN), _sqlite(_courses.SQLITE_UP)),
        migrations.AddField(
            model_name="patient",
            name="locale",
            field=models.CharField(blank=True, default="", max_length=10),
        ),
        migrations.RunPython(_sqlite(_courses.SQLITE_UP), _sqlite(_courses.SQLITE_DOWN)),
        migrations.CreateModel(
            name="PasswordResetCode",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="password_reset_codes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
