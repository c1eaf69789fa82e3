"""A treatment course belongs to its patient's clinic, enforced by the database.

PostgreSQL: a composite foreign key (patient_id, clinic_id) → patient (id, clinic_id).
SQLite (embedded default): triggers, since SQLite cannot add a foreign key to an existing table.
"""

from django.db import migrations

POSTGRES_UP = """
ALTER TABLE tracker_treatmentcourse
    ADD CONSTRAINT course_patient_clinic_fk FOREIGN KEY (patient_id, clinic_id)
    REFERENCES tracker_patient (id, clinic_id);
"""
POSTGRES_DOWN = "ALTER TABLE tracker_treatmentcourse DROP CONSTRAINT course_patient_clinic_fk;"

SQLITE_UP = [
    f"""
CREATE TRIGGER course_clinic_matches_patient_{when}
BEFORE {when.upper()} ON tracker_treatmentcourse
WHEN NEW.clinic_id IS NOT (SELECT clinic_id FROM tracker_patient WHERE id = NEW.patient_id)
BEGIN SELECT RAISE(ABORT, 'a course belongs to its patient''s clinic'); END;
"""
    for when in ("insert", "update")
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS course_clinic_matches_patient_{when};" for when in ("insert", "update")]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for sql in SQLITE_UP:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for sql in SQLITE_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
