"""Settings of the benchmark's own web server: the product's, plus the bare endpoint's URL."""

from tracker.config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
