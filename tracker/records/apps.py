from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Patients, courses, entries and the audit trail. The label stays ``tracker``: the tables and
    migrations were created under it."""

    name = "tracker.records"
    label = "tracker"
    verbose_name = "Records"
    default_auto_field = "django.db.models.BigAutoField"
