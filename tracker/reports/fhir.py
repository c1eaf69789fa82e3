"""A patient's record as a FHIR Bundle (type ``collection``), built and validated with fhir.resources.

FHIR version: fhir.resources 8 ships R5 as its default models, R4B (4.3.0) and STU3, but no
plain R4 (4.0.1) package; R4B is R4's technical correction and Patient, QuestionnaireResponse,
Observation and Bundle are the same in both, so the bundle is validated against the R4B models.

Contents: one Patient; one QuestionnaireResponse per entry that is not superseded (each item
by ``linkId`` = item number with its score as ``valueInteger``, and never any item text: BDI-II
and MADRS wording is copyrighted); one Observation per total, derived from its response.

Codes: PHQ-9 has LOINC codes for its panel (44249-1, used as ``http://loinc.org/q/44249-1``)
and its total (44261-6); the BDI-II total is LOINC 89209-1 ("Beck Depression Inventory II total
score [BDI]", as used by the German MII PRO implementation guide). MADRS and HAM-D totals have
no LOINC code here (not verified), so every total also carries this project's code system
``urn:tracker:scale`` with the scale key, and the other questionnaires a project canonical.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import scoring
from tracker.records.models import Assessment, Patient

FHIR_VERSION = "4.3.0"
LOINC = "http://loinc.org"
SCALE_SYSTEM = "urn:tracker:scale"
ITEM_DIRECTION_EXTENSION = "urn:tracker:fhir:StructureDefinition:item-direction"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# Observation ids are derived from their assessment's id, so an export is stable.
OBSERVATION_NAMESPACE = uuid.UUID("7d0a4a3e-3c1f-5b8e-9a51-2f6f1c9e8b10")

#: Questionnaire canonical URL per scale: LOINC's form where one exists, else the project's.
QUESTIONNAIRES: Mapping[str, str] = MappingProxyType(
    {
        "phq9": "http://loinc.org/q/44249-1",
        "bdi2": "urn:tracker:questionnaire:bdi2",
        "madrs": "urn:tracker:questionnaire:madrs",
        "hamd17": "urn:tracker:questionnaire:hamd17",
    }
)
#: LOINC codes of the totals, where verified (see the module docstring).
TOTAL_LOINC: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        "bdi2": ("89209-1", "Beck Depression Inventory II total score [BDI]"),
    }
)


Refs = Callable[[str, object], dict[str, str]]


def _ref(resource_type: str, resource_id: object) -> dict[str, str]:
    """A reference inside a Bundle: to the entry's fullUrl."""
    return {"reference": f"urn:uuid:{resource_id}"}


def _relative_ref(resource_type: str, resource_id: object) -> dict[str, str]:
    """A reference between resources exported on their own (bulk NDJSON): ``Type/id``."""
    return {"reference": f"{resource_type}/{resource_id}"}


def _questionnaire(scale: scoring.Scale) -> str:
    base = QUESTIONNAIRES[scale.key]
    # A LOINC form's URL is versioned by LOINC; the project's carry the scale version.
    return base if base.startswith(LOINC) else f"{base}|{scale.version}"


def _patient(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": str(patient.pk), "name": [{"text": patient.name}]}
    if patient.external_id:
        resource["identifier"] = [
            {
                "use": "usual",
                "system": f"urn:tracker:clinic:{patient.clinic_id}:external-id",
                "value": patient.external_id,
            }
        ]
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def _response(assessment: Assessment, scale: scoring.Scale, ref: Refs = _ref) -> dict[str, Any]:
    directions = assessment.item_directions or {}
    items = []
    for number, score in enumerate(assessment.items, start=1):
        answer: dict[str, Any] = {"valueInteger": int(score)}
        direction = directions.get(str(number))
        if direction:
            answer["extension"] = [{"url": ITEM_DIRECTION_EXTENSION, "valueCode": str(direction)}]
        items.append({"linkId": str(number), "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(assessment.pk),
        "questionnaire": _questionnaire(scale),
        "status": "completed",
        "subject": ref("Patient", assessment.patient_id),
        "authored": assessment.administered_on.isoformat(),
        "item": items,
    }


def _observation(assessment: Assessment, scale: scoring.Scale, ref: Refs = _ref) -> dict[str, Any]:
    coding = []
    if scale.key in TOTAL_LOINC:
        code, display = TOTAL_LOINC[scale.key]
        coding.append({"system": LOINC, "code": code, "display": display})
    coding.append({"system": SCALE_SYSTEM, "code": scale.key, "display": f"{scale.name} total score"})
    severity = assessment.severity.replace("_", " ")
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(OBSERVATION_NAMESPACE, str(assessment.pk))),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": f"{scale.name} total score"},
        "subject": ref("Patient", assessment.patient_id),
        "effectiveDateTime": assessment.administered_on.isoformat(),
        "valueInteger": assessment.total,
        "interpretation": [{"text": severity}],
        "note": [{"text": f"Severity band: {severity} ({scale.bands_source})."}],
        "derivedFrom": [ref("QuestionnaireResponse", assessment.pk)],
    }


def patient_bundle(patient: Patient) -> Bundle:
    """The validated Bundle: Patient, then per entry (by date) its response and its total."""
    resources = [_patient(patient)]
    entries = Assessment.objects.filter(patient=patient, is_superseded=False).order_by(
        "administered_on", "seq", "created_at"
    )
    for assessment in entries:
        scale = scoring.SCALES[assessment.scale]
        resources.append(_response(assessment, scale))
        resources.append(_observation(assessment, scale))
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": timezone.now().isoformat(),
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        }
    )


def patient_bundle_json(patient: Patient) -> str:
    """The Bundle as FHIR JSON text."""
    return patient_bundle(patient).model_dump_json()


# ---------------------------------------------------------------------------- bulk export (NDJSON)

#: The resource types of a clinic's bulk export, in the manifest's order.
BULK_TYPES = ("Patient", "QuestionnaireResponse", "Observation")
_MODELS: dict[str, Any] = {
    "Patient": FhirPatient,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
}
BULK_BATCH = 2000  # rows per round trip of the server-side cursor


def bulk_resources(
    resource_type: str, *, patients: QuerySet[Patient], entries: QuerySet[Assessment]
) -> Iterator[tuple[str, Any]]:
    """One type's resources of a bulk export, one at a time: ``(NDJSON line, patient id)``.

    The same builders as the bundle's, with ``Type/id`` references; each resource validated by
    its fhir.resources model. ``patients``: the patients to export; ``entries``: their entries
    (superseded ones are left out here). Both are walked with a server-side cursor, so memory
    does not grow with the clinic.
    """
    model = _MODELS[resource_type]
    if resource_type == "Patient":
        for patient in patients.order_by("id").iterator(chunk_size=BULK_BATCH):
            yield model.model_validate(_patient(patient)).model_dump_json() + "\n", patient.pk
        return
    build = _response if resource_type == "QuestionnaireResponse" else _observation
    ordered = entries.filter(is_superseded=False).order_by("patient_id", "administered_on", "seq", "created_at")
    for assessment in ordered.iterator(chunk_size=BULK_BATCH):
        resource = build(assessment, scoring.SCALES[assessment.scale], _relative_ref)
        yield model.model_validate(resource).model_dump_json() + "\n", assessment.patient_id
