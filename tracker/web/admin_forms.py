"""The clinic admin's forms: a new staff login, the clinic's settings, the CSV's date range, a payer-report zip.

Each form checks the shape; the services check the rest with the rules the API uses, and their
``ValidationError`` is put beside the field it names (``apply_service_errors``).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

import scoring
from tracker.records.cleaning import canonical_timezones
from tracker.records.models import Role

# Per-scale levels an admin may override here (the other options stay as the API set them).
LEVELS = ("remission_max", "relapse_min")
LEVEL_LABELS = {"remission_max": _("remission at or below"), "relapse_min": _("relapse at or above")}
MAX_PAYER_REPORTS = 50


def apply_service_errors(form: forms.Form, exc: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's field errors beside the form's fields (``fields`` maps service names to form names)."""
    fields = fields or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.message_dict.items():
        target = fields.get(name, name)
        for message in errors:
            form.add_error(target if target in form.fields else None, message)


class StaffCreateForm(forms.Form):
    username = forms.CharField(max_length=150, label=_("Username"))
    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN, _("Clinician")), (Role.ADMIN, _("Clinic admin"))], label=_("Role")
    )
    password = forms.CharField(
        max_length=1024,
        strip=False,
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Hand it over in person. The clinic's password rules apply (length, not a common one)."),
    )


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def scale_field(scale: str, level: str) -> str:
    return f"{scale}__{level}"


class ClinicSettingsForm(forms.Form):
    """The reference set (from the known sets), the payer profile, and per-scale thresholds (blank: the scale's
    own). Thresholds are checked here with scoring's rules, and again by the service on save."""

    reference_set = forms.ChoiceField(label=_("Reference set the projections compare with"))
    payer_profile = forms.ChoiceField(label=_("Payer profile reports apply by default"))
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=lambda: [(z, z) for z in sorted(canonical_timezones())],
        required=False,  # not sent: the stored zone is kept
        help_text=_("The dashboard and the payer reports show dates and times in it."),
    )

    def __init__(
        self,
        *args: Any,
        reference_sets: list[dict[str, Any]],
        payer_profiles: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "reference_set", [(r["key"], f"{r['title']} ({r['key']})") for r in reference_sets])
        _set_choices(
            self,
            "payer_profile",
            [(p["key"], f"{p['name']}{' (built in)' if p['builtin'] else ''}") for p in payer_profiles],
        )
        self.scales: list[tuple[scoring.Scale, list[forms.BoundField]]] = []
        for key, scale in scoring.SCALES.items():
            names = []
            for level in LEVELS:
                name = scale_field(key, level)
                self.fields[name] = forms.IntegerField(
                    required=False,
                    min_value=0,
                    max_value=scale.total_max,
                    label=f"{scale.short_name or key}: {LEVEL_LABELS[level]}",
                    help_text=_("default %(value)s") % {"value": getattr(scale, level)},
                )
                names.append(name)
            self.scales.append((scale, [self[name] for name in names]))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key in scoring.SCALES:
            options = {
                level: cleaned[scale_field(key, level)]
                for level in LEVELS
                if cleaned.get(scale_field(key, level)) is not None
            }
            try:
                scoring.Options.from_dict(options).resolve(scoring.get_scale(key))
            except scoring.ScoringError as exc:
                level = exc.field.removeprefix("options.")
                self.add_error(scale_field(key, level) if level in LEVELS else None, exc.message)
        return cleaned

    def scoring_options(self, current: dict[str, Any]) -> dict[str, Any]:
        """The clinic's options with this form's levels set or cleared (other options kept)."""
        result: dict[str, Any] = {}
        for key in scoring.SCALES:
            options = {k: v for k, v in (current.get(key) or {}).items() if k not in LEVELS}
            for level in LEVELS:
                value = self.cleaned_data.get(scale_field(key, level))
                if value is not None:
                    options[level] = value
            if options:
                result[key] = options
        return result

    @staticmethod
    def initial_for(clinic: Any, payer_key: str) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "reference_set": clinic.reference_set,
            "payer_profile": payer_key,
            "timezone": clinic.timezone,
        }
        for key, options in (clinic.scoring_options or {}).items():
            for level in LEVELS:
                if isinstance(options, dict) and level in options:
                    initial[scale_field(key, level)] = options[level]
        return initial


class DateRangeForm(forms.Form):
    """Courses that started in the range (either bound optional), as ``GET /api/v1/reports/response.csv``."""

    date_from = forms.DateField(
        required=False, label=_("Courses started from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(required=False, label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_from", _("The start of the range is after its end."))
        return cleaned


LAYOUT_ZIP = "zip"
LAYOUT_COMBINED = "combined"


class PayerReportsForm(forms.Form):
    """Patients of the clinic (ids checked against the actor's scope by the view), the payer profile, and
    how they come: one PDF each in a zip, or one combined PDF (not sent: the zip, as before)."""

    patients = forms.MultipleChoiceField(
        label=_("Patients"), error_messages={"required": _("Select at least one patient.")}
    )
    profile = forms.ChoiceField(label=_("Payer profile"))
    layout = forms.ChoiceField(
        label=_("Download as"),
        choices=[(LAYOUT_ZIP, _("one PDF each (zip)")), (LAYOUT_COMBINED, _("one combined PDF"))],
        widget=forms.RadioSelect,
        required=False,
        initial=LAYOUT_ZIP,
    )

    def __init__(
        self, *args: Any, patients: list[tuple[str, str]], payer_profiles: list[dict[str, Any]], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        _set_choices(self, "patients", patients)
        _set_choices(self, "profile", [(p["key"], p["name"]) for p in payer_profiles])
        default = next((p["key"] for p in payer_profiles if p["is_clinic_default"]), None)
        self.fields["profile"].initial = default

    def clean_patients(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["patients"]
        if len(chosen) > MAX_PAYER_REPORTS:
            raise ValidationError(
                _("At most %(n)d patients at once; split the selection."),
                params={"n": MAX_PAYER_REPORTS},
            )
        return chosen

    def clean_layout(self) -> str:
        return self.cleaned_data["layout"] or LAYOUT_ZIP


LINE_PARTS = ("label", "phone", "sms", "url")
# A service error about one crisis line of one locale, e.g. ``locales.es.lines[1].phone``.
_LOCALE_ERROR = re.compile(r"locales\.(?P<locale>\w+)\.(?P<part>message|emergency|lines)(\[(?P<index>\d+)\])?")


def _cells(row: str) -> list[str]:
    cells = [cell.strip() for cell in row.split("|")]
    return (cells + [""] * len(LINE_PARTS))[: len(LINE_PARTS)]


class CrisisResourcesForm(forms.Form):
    """What a patient whose entry raised a safety flag is shown: the clinic's country (its default
    lines), the clinic's own line, and per language a message, the emergency numbers and the crisis
    lines (one per row: name | phone | text number | https address). The service
    (``clinic_set_crisis_resources``, the API's ``PUT /clinic/crisis-resources/``) checks every value."""

    country = forms.CharField(
        required=False,
        max_length=2,
        label=_("Country (two letters)"),
        help_text=_("ISO code such as US, GB, ES, MX: the country's default crisis lines are shown."),
    )
    line_label = forms.CharField(required=False, label=_("Clinic's own line: name"))
    line_phone = forms.CharField(required=False, label=_("Clinic's own line: phone"))
    line_sms = forms.CharField(required=False, label=_("Clinic's own line: text number"))
    line_url = forms.CharField(required=False, label=_("Clinic's own line: web address"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locales: list[tuple[str, list[forms.BoundField]]] = []
        for code, name in settings.LANGUAGES:
            self.fields[f"{code}_message"] = forms.CharField(
                required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Message (%(language)s)") % {
                    "language": name
                }
            )  # fmt: skip
            self.fields[f"{code}_emergency"] = forms.CharField(
                required=False,
                label=_("Emergency numbers (%(language)s)") % {"language": name},
                help_text=_("Up to 3, separated by commas, e.g. 911 or 112, 061."),
            )
            self.fields[f"{code}_lines"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                label=_("Crisis lines (%(language)s)") % {"language": name},
                help_text=_("One per row: name | phone | text number | https address (the last two optional)."),
            )
            self.locales.append((str(name), [self[f"{code}_{part}"] for part in ("message", "emergency", "lines")]))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for code, _name in settings.LANGUAGES:
            for number, row in enumerate(r for r in cleaned.get(f"{code}_lines", "").splitlines() if r.strip()):
                if row.count("|") >= len(LINE_PARTS):
                    self.add_error(
                        f"{code}_lines",
                        _("Row %(row)s: at most 4 parts separated by |.") % {"row": number + 1},
                    )
        return cleaned

    @staticmethod
    def initial_for(country: str, resources: dict[str, Any]) -> dict[str, Any]:
        line = resources.get("clinic_line") or {}
        initial: dict[str, Any] = {"country": country, **{f"line_{part}": line.get(part, "") for part in LINE_PARTS}}
        for code, texts in (resources.get("locales") or {}).items():
            initial[f"{code}_message"] = texts.get("message", "")
            initial[f"{code}_emergency"] = ", ".join(texts.get("emergency", []))
            initial[f"{code}_lines"] = "\n".join(
                " | ".join(x.get(part, "") for part in LINE_PARTS).rstrip(" |") for x in texts.get("lines", [])
            )
        return initial

    def service_arguments(self) -> dict[str, Any]:
        """The service's arguments from the cleaned form: empty boxes are left out."""
        data = self.cleaned_data
        line = {part: data[f"line_{part}"].strip() for part in LINE_PARTS}
        locales: dict[str, Any] = {}
        for code, _name in settings.LANGUAGES:
            texts: dict[str, Any] = {}
            if data[f"{code}_message"].strip():
                texts["message"] = data[f"{code}_message"]
            numbers = [n.strip() for n in data[f"{code}_emergency"].split(",") if n.strip()]
            if numbers:
                texts["emergency"] = numbers
            rows = [row for row in data[f"{code}_lines"].splitlines() if row.strip()]
            if rows:
                texts["lines"] = [dict(zip(LINE_PARTS, _cells(row), strict=True)) for row in rows]
            if texts:
                locales[code] = texts
        return {"country": data["country"], "clinic_line": line if any(line.values()) else None, "locales": locales}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Each service error beside its box; a crisis line's error names its row."""
        for name, messages in exc.message_dict.items():
            target, prefix = None, ""
            if name == "country":
                target = "country"
            elif name.startswith("clinic_line."):
                target = f"line_{name.removeprefix('clinic_line.')}"
            elif match := _LOCALE_ERROR.match(name):
                target = f"{match['locale']}_{match['part']}"
                if match["part"] == "lines" and match["index"] is not None:
                    prefix = _("Row %(row)s: ") % {"row": int(match["index"]) + 1}
            for message in messages:
                self.add_error(target if target in self.fields else None, f"{prefix}{message}")
