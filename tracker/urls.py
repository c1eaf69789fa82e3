import os

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("tracker.api.urls")),
    path("", include("tracker.web.urls")),
]

if os.environ.get("BENCHMARK_BARE_ENDPOINT") == "1":
    from tracker.benchmarks.bare import bare_insert

    urlpatterns.insert(0, path("benchmark/bare/", bare_insert))

handler404 = "tracker.api.errors.not_found"
handler500 = "tracker.api.errors.server_error"
