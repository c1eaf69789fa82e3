"""Expected population curves, per-patient comparison, cohort analysis and the Celery jobs."""
