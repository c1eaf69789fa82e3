"""The words of the API's error answers, for the person reading them, in the request's language.

The services and ``scoring`` refuse with a stable code and the values it needs (``out_of_range``,
``{"item": 5, "min": 0, "max": 3}``) and an English message for callers that show it as it is; the API
words the message by code here, translated (``locale/``). A code not listed keeps the message it
came with: DRF's and Django's own are translated by their catalogues already.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.exceptions import ErrorDetail

import scoring

#: Problem codes (the ``code`` of the whole answer) and their one-line titles.
TITLES: dict[str, Any] = {
    "validation_error": _("Some of the information sent is not valid."),
    "bad_request": _("The request is not valid."),
    "malformed_json": _("The request body is not valid JSON."),
    "json_too_deep": _("The request body is nested too deeply."),
    "invalid_credentials": _("Invalid username or password."),
    "not_authenticated": _("Sign-in required."),
    "authentication_failed": _("Sign-in failed."),
    "token_expired": _("Your session has expired."),
    "token_revoked": _("Your session has ended."),
    "permission_denied": _("Not allowed."),
    "not_found": _("Not found."),
    "method_not_allowed": _("Method not allowed."),
    "not_acceptable": _("The requested response format is not available."),
    "conflict": _("The request conflicts with the current state."),
    "payload_too_large": _("The request is too large."),
    "unsupported_media_type": _("Unsupported content type."),
    "rate_limited": _("Too many requests."),
    "locked_out": _("Too many failed sign-ins."),
    "server_error": _("Server error."),
    "service_unavailable": _("The service is briefly unavailable."),
}

#: What to say of a problem when its cause said nothing more specific.
DETAILS: dict[str, Any] = {
    "validation_error": _("Please correct the fields listed in errors."),
    "bad_request": _("The request could not be understood."),
    "malformed_json": _("The request body could not be read as JSON."),
    "invalid_credentials": _("Invalid username or password."),
    "not_authenticated": _("Please sign in: this request needs a bearer token."),
    "authentication_failed": _("The sign-in token is not valid. Please sign in again."),
    "token_expired": _("Your session has expired. Please sign in again."),
    "token_revoked": _("This session was ended (signed out or the password changed). Please sign in again."),
    "permission_denied": _("Your account is not allowed to do this."),
    "not_found": _("Nothing was found at this address, or you are not allowed to see it."),
    "method_not_allowed": _("This address does not accept this method."),
    "not_acceptable": _("This address cannot answer in the format the request asked for."),
    "conflict": _("The request conflicts with the current state of the data."),
    "payload_too_large": _("The request body is larger than the server accepts."),
    "unsupported_media_type": _("Send the request body as JSON (Content-Type: application/json)."),
    "rate_limited": _("Too many requests. Please wait before trying again."),
    "locked_out": _("Too many failed sign-ins from this device. Please wait before trying again."),
    "server_error": _("Something went wrong on our side. It has been logged; please try again later."),
    "service_unavailable": _(
        "The service is briefly unavailable. Nothing you sent was lost; please try again shortly."
    ),
}

#: DRF's and Django's field error codes, as the API's stable codes (anything else: snake_case of its own).
FIELD_CODES = {
    "max_length": "too_long",
    "min_length": "too_short",
    "max_value": "too_large",
    "min_value": "too_small",
    "max_digits": "too_many_digits",
    "max_whole_digits": "too_many_digits",
    "max_decimal_places": "too_many_decimal_places",
    "max_string_length": "too_large",
    "not_a_dict": "not_an_object",
    "date": "invalid",
    "datetime": "invalid",
    "make_aware": "invalid",
    "overflow": "invalid",
    "unique": "already_exists",
    "does_not_exist": "not_found",
    "incorrect_type": "invalid_type",
    "no_match": "invalid",
}

#: Field messages by code; ``code:item`` is the wording for one questionnaire item (``params["item"]``).
#: Placeholders are filled from the error's params; one the params lack keeps the original message.
FIELD_MESSAGES: dict[str, Any] = {
    "required": _("This field is required."),
    "unknown_field": _("This field is not part of this request; check its spelling."),
    "not_a_list": _("Send a list here."),
    "not_an_object": _("Send a JSON object here."),
    "null:item": _("Item %(item)s has no answer: send its score (%(min)s to %(max)s)."),
    "not_an_integer": _("Send a whole number here."),
    "not_an_integer:item": _("Item %(item)s needs a whole-number score from %(min)s to %(max)s."),
    "out_of_range": _("Send a number from %(min)s to %(max)s."),
    "out_of_range:item": _("Item %(item)s needs a score from %(min)s to %(max)s."),
    "invalid_option:item": _("Item %(item)s needs one of these answers: %(options)s."),
    "wrong_item_count": _("This questionnaire has %(expected)s items; the request sent %(given)s."),
    "not_directional:item": _("Item %(item)s has no direction to choose (only items %(allowed)s do)."),
    "invalid_choice:item": _('The direction of item %(item)s must be "increase" or "decrease".'),
    "direction_without_score:item": _("Item %(item)s is scored 0, so it has no direction."),
    "direction_conflict:item": _("The direction given for item %(item)s contradicts the letter of its answer."),
    "not_an_item_number": _("Use an item number such as 16 here."),
    "unknown_scale": _("Unknown questionnaire; use one of %(choices)s."),
    "clinician_scale": _("Patients submit only the self-report questionnaires (%(choices)s)."),
    "invalid_choice": _("Choose one of: %(choices)s."),
    "date_in_future": _("This date is in the future."),
    "date_too_early": _("The date cannot be before %(earliest)s."),
    "before_baseline_window": _(
        "This date is before the treatment course: the earliest allowed is %(earliest)s, the start of the "
        "baseline window."
    ),
    "before_date_of_birth": _("This date is before the patient's date of birth."),
    "before_course_start": _("A treatment session cannot be dated before its course starts."),
    "too_far_ahead": _("A course can be recorded at most %(days)s days ahead of its start."),
    "negative": _("This cannot be negative."),
    "not_text": _("Send text here."),
    "not_a_boolean": _("Send true or false here."),
    "invisible_characters": _("Remove the control, direction or invisible characters from this text."),
    "too_long": _("At most %(max)s characters."),
    "invalid_username": _(
        "Choose a username of 3 to 150 characters: letters (A–Z, a–z), digits and . _ - @ +, starting with a "
        "letter or digit."
    ),
    "username_unavailable": _("This username is not available; choose another."),
    "unknown_timezone": _("Unknown time zone; use a name of the IANA time zone database such as Europe/Madrid."),
    "invalid_enrollment_code": _(
        "This enrollment code is not valid: it may be mistyped, used already or expired. Ask your clinic for a new one."
    ),
    "external_id_taken": _("Another patient of this clinic has this external id."),
    "unknown_patient": _("There is no such patient among those you can see."),
    "not_own_patient": _("Patients submit only their own entries."),
    "unknown_course": _("There is no such treatment course among those you can see."),
    "unknown_staff": _("There is no such staff member in this clinic."),
    "not_allowed": _("Your account cannot set this field."),
    "unknown_reference_set": _("Unknown reference set; see /api/v1/reference-sets/."),
    "unknown_payer_profile": _("Unknown payer profile: use the id or key of one of the clinic's profiles."),
    "key_taken": _("This key is taken."),
    "already_amended": _("This entry was corrected already; correct its latest version."),
    "entry_superseded": _("This entry was corrected; mark its latest version."),
    "post_dose_baseline": _("An entry taken after a dose cannot be the baseline; choose one taken before a dose."),
    "not_in_course": _("This entry is not part of that treatment course."),
    "baseline_taken": _("Another entry of this course and questionnaire is the baseline already; unmark it first."),
    "date_order": _("The start of the period is after its end."),
}

BAD_CONTENT_LENGTH = _("The Content-Length header is not a number.")
BODY_TOO_LARGE = _("The request body is larger than the limit of %(limit)d bytes.")
JSON_TOO_DEEP = _("The JSON body is nested too deeply: at most %(depth)d levels.")
MALFORMED_JSON = _("The request body is not valid JSON (%(error)s).")
ADMIN_ONLY = _("Only a clinic admin can do this.")
TOKEN_HEADER = _("The Authorization header must be 'Bearer <token>'.")

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def stable_code(code: object) -> str:
    """A field error's code as the API's stable snake_case code (``max_length`` → ``too_long``)."""
    text = str(code or "invalid")
    text = FIELD_CODES.get(text, text)
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", text).lower()).strip("_") or "invalid"


def field_message(code: str, params: Mapping[str, Any] | None, fallback: str) -> str:
    """The message for a field error of ``code``, in the active language; ``fallback`` (the message
    the error came with) when this module has no wording for it or lacks a value it needs."""
    params = dict(params or {})
    keys = [f"{code}:item", code] if "item" in params else [code]
    for key in keys:
        template = FIELD_MESSAGES.get(key)
        if template is None:
            continue
        try:
            return str(template) % params
        except (KeyError, TypeError, ValueError):
            continue
    if params:
        try:
            return fallback % params
        except (KeyError, TypeError, ValueError):
            pass
    return fallback


def errors_summary(count: int) -> str:
    return ngettext(
        "%(count)d field needs correcting: see errors.",
        "%(count)d fields need correcting: see errors.",
        count,
    ) % {"count": count}


def scoring_details(exc: scoring.ScoringError) -> dict[str, list[ErrorDetail]]:
    """Each fault ``scoring`` found, as DRF error details on its own field, worded here."""
    details: dict[str, list[ErrorDetail]] = {}
    for error in exc.errors:
        code = stable_code(error.code)
        message = field_message(code, error.params, error.message)
        details.setdefault(error.field or "items", []).append(ErrorDetail(message, code=code))
    return details
