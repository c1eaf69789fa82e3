from django.apps import AppConfig


class CliConfig(AppConfig):
    """The operator's management commands (``create_clinic``, ``seed_demo``, ...)."""

    name = "tracker.cli"
    label = "tracker_cli"
    verbose_name = "Operator commands"
