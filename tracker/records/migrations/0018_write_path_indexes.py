"""Indexes no query reads, dropped from the tables every entry writes.

- ``tracker_assessment.entered_by_id``, ``baseline_marked_by_id`` and
  ``tracker_safetyflag.acknowledged_by_id``: no query looks rows up by these logins; their
  ``SET_NULL`` would need them only when a login is deleted, and logins are deactivated, never deleted.
- ``tracker_auditevent.actor_id``, ``clinic_id``, ``at``: no query reads them. ``patient_id`` is
  replaced by ``audit_patient_at`` (patient_id, at, id), the order of the one query of the table (a
  patient's access log, newest first).

The indexes are dropped by name rather than by ``AlterField``, which on PostgreSQL would also drop
and re-add each foreign key (a scan of the whole table under lock) for an index change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = {
    # index name: (table, column)
    "tracker_assessment_baseline_marked_by_id_8d19b875": ("tracker_assessment", "baseline_marked_by_id"),
    "tracker_assessment_entered_by_id_16661b1f": ("tracker_assessment", "entered_by_id"),
    "tracker_safetyflag_acknowledged_by_id_7f912496": ("tracker_safetyflag", "acknowledged_by_id"),
    "tracker_auditevent_actor_id_223bbd62": ("tracker_auditevent", "actor_id"),
    "tracker_auditevent_at_27e67559": ("tracker_auditevent", "at"),
    "tracker_auditevent_clinic_id_59d3639e": ("tracker_auditevent", "clinic_id"),
    "tracker_auditevent_patient_id_8dc71e74": ("tracker_auditevent", "patient_id"),
}


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0017_clinic_timezone"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, (table, column) in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="assessment",
                    name="baseline_marked_by",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="assessment",
                    name="entered_by",
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor",
                    field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="clinic_id",
                    field=models.UUIDField(null=True),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="patient_id",
                    field=models.UUIDField(null=True),
                ),
                migrations.AlterField(
                    model_name="safetyflag",
                    name="acknowledged_by",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["patient_id", "at", "id"], name="audit_patient_at"),
        ),
    ]
