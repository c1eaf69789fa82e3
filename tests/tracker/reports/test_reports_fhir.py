"""The FHIR export, as a clinic integration reads it: GET /patients/{id}/fhir/."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

import scoring
from tests.tracker.helpers import client_for, make_clinic
from tests.tracker.reports.test_reports_support import add_entries, worked_example

pytestmark = pytest.mark.django_db


def fetch_bundle(client, patient_id) -> tuple[Bundle, dict]:
    r = client.get(f"/api/v1/patients/{patient_id}/fhir/")
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == "application/fhir+json"
    return Bundle.model_validate_json(r.content), json.loads(r.content)


def test_bundle_holds_the_patient_each_entry_and_each_total():
    world = make_clinic()
    world.patient.external_id = "MRN-7"
    world.patient.date_of_birth = date(1990, 5, 17)
    world.patient.save()
    course = worked_example(world)
    staff = client_for(world.clinician)
    add_entries(staff, course, "madrs", [(-1, 34), (21, 9)], patient=world.patient)
    add_entries(client_for(world.patient_user), course, "phq9", [(0, 19)])
    me = client_for(world.patient_user)
    r = me.post(
        "/api/v1/assessments/",
        {
            "scale": "bdi2",
            "administered_on": (course.start).isoformat(),
            "items": [1] * 15 + ["2a", 1, "1b", 1, 1, 1],
            "client_id": "0b6f7c39-5a8f-4a43-9a3a-2b1f4f0b2a11",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    directional = r.json()["id"]

    bundle, raw = fetch_bundle(staff, world.patient.pk)
    assert bundle.type == "collection"
    kinds = Counter(e.resource.get_resource_type() for e in bundle.entry)
    live = len(course.entry_ids["bdi2"]) + 2 + 1 + 1  # bdi2, madrs, phq9, the directional bdi2
    assert kinds == {"Patient": 1, "QuestionnaireResponse": live, "Observation": live}
    by_url = {e.fullUrl: e.resource for e in bundle.entry}
    assert all(url == f"urn:uuid:{res.id}" for url, res in by_url.items())

    patient = next(r for r in by_url.values() if r.get_resource_type() == "Patient")
    assert patient.id == str(world.patient.pk)
    assert patient.identifier[0].value == "MRN-7"
    assert patient.name[0].text == world.patient.name
    assert patient.birthDate == date(1990, 5, 17)

    responses = {r.id: r for r in by_url.values() if r.get_resource_type() == "QuestionnaireResponse"}
    assert course.entry_ids["superseded"][0] not in responses  # superseded entries are left out
    for key in ("bdi2", "madrs", "phq9"):
        for entry_id in course.entry_ids[key]:
            response = responses[entry_id]
            assert response.status == "completed"
            assert response.subject.reference == patient_url(world)
            assert [i.linkId for i in response.item] == [str(n) for n in range(1, scoring.SCALES[key].n_items + 1)]
    assert responses[course.entry_ids["phq9"][0]].questionnaire == "http://loinc.org/q/44249-1"
    assert responses[course.entry_ids["bdi2"][0]].questionnaire == "urn:tracker:questionnaire:bdi2|1"
    assert responses[course.entry_ids["madrs"][0]].questionnaire == "urn:tracker:questionnaire:madrs|1"
    item16 = responses[directional].item[15].answer[0]
    assert item16.valueInteger == 2 and item16.extension[0].valueCode == "increase"
    assert sum(i.answer[0].valueInteger for i in responses[directional].item) == r.json()["total"]

    observations = [r for r in by_url.values() if r.get_resource_type() == "Observation"]
    for obs in observations:
        assert obs.status == "final"
        source = obs.derivedFrom[0].reference
        assert source in by_url and by_url[source].get_resource_type() == "QuestionnaireResponse"
        response = by_url[source]
        assert obs.effectiveDateTime == response.authored
        assert obs.valueInteger == sum(i.answer[0].valueInteger for i in response.item)
    codes = {by_url[o.derivedFrom[0].reference].id: {(c.system, c.code) for c in o.code.coding} for o in observations}
    assert ("http://loinc.org", "44261-6") in codes[course.entry_ids["phq9"][0]]
    assert ("http://loinc.org", "89209-1") in codes[course.entry_ids["bdi2"][0]]
    assert codes[course.entry_ids["madrs"][0]] == {("urn:tracker:scale", "madrs")}
    baseline = next(o for o in observations if o.derivedFrom[0].reference == f"urn:uuid:{course.entry_ids['bdi2'][0]}")
    assert baseline.valueInteger == 48
    assert baseline.interpretation[0].text == "severe"

    # Scores only: no response item carries any text (BDI-II and MADRS wording is copyrighted).
    for entry in raw["entry"]:
        for item in entry["resource"].get("item", []):
            assert set(item) == {"linkId", "answer"}
    assert "Item 1" not in json.dumps(raw)


def patient_url(world) -> str:
    return f"urn:uuid:{world.patient.pk}"


def test_bundle_of_a_patient_without_entries():
    world = make_clinic()
    bundle, _ = fetch_bundle(client_for(world.admin), world.patient.pk)
    assert [e.resource.get_resource_type() for e in bundle.entry] == ["Patient"]
    assert bundle.entry[0].resource.identifier is None


def test_fhir_scope_and_roles():
    world = make_clinic()
    worked_example(world)
    other = make_clinic("Clinic B", prefix="b")
    url = f"/api/v1/patients/{world.patient.pk}/fhir/"
    assert client_for(world.patient_user).get(url).status_code == 403
    assert client_for(other.clinician).get(url).status_code == 404
    assert client_for(other.admin).get(url).status_code == 404
