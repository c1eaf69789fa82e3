"""The product's URLs plus the bare insert the api benchmark measures against (never in production)."""

from django.urls import path

from benchmarks.bare import bare_insert
from tracker.config.urls import handler404, handler500
from tracker.config.urls import urlpatterns as product_urls

urlpatterns = [path("benchmark/bare/", bare_insert), *product_urls]

__all__ = ["handler404", "handler500", "urlpatterns"]
