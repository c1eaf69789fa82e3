"""No input answers 5xx: random JSON bodies and query strings to every API endpoint, as each role.

Hypothesis draws the bodies (any JSON: nested, unicode, huge numbers, wrong types) and the query
parameters; whatever it sends, the answer is a 2xx, 3xx or 4xx, never a server error.
"""

from __future__ import annotations

import json
import string
from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scoring
from tests.tracker.api.test_permission_grid import GRID, ROLES, World
from tests.tracker.api.test_permission_grid import world as grid_world  # noqa: F401  (the fixture)
from tests.tracker.helpers import client_for

pytestmark = pytest.mark.django_db

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "2026-01-05", "00000000-0000-0000-0000-000000000000", "pre_dose", "25:99", "1a", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
FIELDS = [
    "scale",
    "items",
    "administered_on",
    "client_id",
    "patient",
    "timing",
    "administered_time",
    "name",
    "timezone",
    "username",
    "password",
    "role",
    "modality",
    "start_date",
    "date",
    "dose_mg",
    "reason",
    "item_directions",
    "treating_clinician",
    "reference_set",
    "scoring_options",
    "note",
    "course",
    "profile",
]
# Keys that look like item numbers to a careless check: superscripts, other scripts' digits, signs.
item_keys = st.sampled_from(["16", "18", "¹⁶", "١٦", "٣", "+16", "16.0", " 16", "0", "-1", "99999999999999999999"])
directions = st.dictionaries(item_keys | st.text(max_size=4), st.sampled_from(["increase", "decrease", 1, None]))
bodies = (
    json_values
    | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
    | st.sampled_from(sorted(scoring.SCALES)).flatmap(
        # A valid entry but for one part, so that the request reaches the deeper checks.
        lambda key: st.fixed_dictionaries(
            {
                "scale": st.just(key),
                "administered_on": st.dates(min_value=date(2025, 1, 1), max_value=date.today()).map(str),
                "items": st.lists(
                    st.integers(0, 2), min_size=scoring.SCALES[key].n_items, max_size=scoring.SCALES[key].n_items
                ),
                "item_directions": directions,
                "client_id": st.uuids().map(str),
                "timing": st.sampled_from([None, "pre_dose", "post_dose", "x"]),
                "administered_time": st.sampled_from([None, "09:30", "24:00", "9:3"]),
            }
        )
    )
)
queries = st.dictionaries(
    st.sampled_from(["scale", "open", "flagged", "signal", "state", "page", "from", "to", "modality", "profile", "q"]),
    st.text(alphabet=string.printable + "é\u202e", max_size=12),
    max_size=3,
)
ENDPOINTS = sorted(GRID)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{n}-{m}" for n, m in ENDPOINTS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(ROLES), body=bodies, query=queries)
def test_no_input_answers_a_server_error(grid_world: World, endpoint, role, body, query) -> None:  # noqa: F811
    name, method = endpoint
    row = GRID[endpoint]
    url = reverse(f"api:{name}", kwargs=row.kwargs(grid_world))
    client = client_for(grid_world.user(role))
    if method in ("post", "patch", "put"):
        response = getattr(client, method)(url, data=json.dumps(body), content_type="application/json")
    else:
        response = getattr(client, method)(url, query)
    assert response.status_code < 500, (endpoint, role, body, query, response.content[:300])
