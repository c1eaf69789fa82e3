from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery


def fill_first_course_start(apps, schema_editor):  # type: ignore[no-untyped-def]
    Patient = apps.get_model("tracker", "Patient")
    TreatmentCourse = apps.get_model("tracker", "TreatmentCourse")
    first = (
        TreatmentCourse.objects.filter(patient=OuterRef("pk"))
        .values("patient")
        .annotate(first=Min("start_date"))
        .values("first")
    )
    Patient.objects.update(first_course_start=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0002_course_clinic_matches_patient"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="first_course_start",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_first_course_start, migrations.RunPython.noop),
    ]
