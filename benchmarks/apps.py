from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """``manage.py benchmark``: installed only outside production (tracker/config/settings.py)."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
