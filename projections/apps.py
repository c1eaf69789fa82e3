from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    name = "projections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from projections import receivers  # noqa: F401  (connects the signal receivers; the models are loaded now)
