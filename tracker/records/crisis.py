"""Crisis resources shown to a patient whose entry raised a safety flag: defaults by country, as data,
and the clinic's own settings on top (its country, its own line, its texts per locale).

A clinic without a country falls back to the country of the patient's time zone when there are
defaults for it, else to the generic text (call the local emergency number). Labels and the default
message are translated; a clinic's own texts are shown as the clinic wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tracker.records.cleaning import timezone_countries
from tracker.records.models import Clinic, Patient


@dataclass(frozen=True)
class Line:
    """A crisis line: who answers, the number to call (and to text, where texting works), a web page."""

    label: str | Promise
    phone: str
    sms: str = ""
    url: str = ""


@dataclass(frozen=True)
class CountryDefaults:
    lines: tuple[Line, ...]
    emergency: tuple[str, ...]


#: Defaults by ISO 3166-1 alpha-2 country code. Each was checked against the service's own page; a URL
#: is given only where it is the service's official one.
DEFAULTS: dict[str, CountryDefaults] = {
    "US": CountryDefaults(
        lines=(Line(_("Suicide & Crisis Lifeline"), "988", sms="988", url="https://988lifeline.org"),),
        emergency=("911",),
    ),
    "GB": CountryDefaults(
        lines=(Line(_("Samaritans"), "116 123", url="https://www.samaritans.org"),),
        emergency=("999",),
    ),
    "ES": CountryDefaults(
        lines=(Line(_("Suicidal behaviour helpline"), "024"),),
        emergency=("112",),
    ),
    "MX": CountryDefaults(
        lines=(Line(_("Línea de la Vida"), "800 911 2000"),),
        emergency=("911",),
    ),
    "CA": CountryDefaults(
        lines=(Line(_("Suicide Crisis Helpline"), "988", sms="988", url="https://988.ca"),),
        emergency=("911",),
    ),
    "AU": CountryDefaults(
        lines=(Line(_("Lifeline"), "13 11 14", url="https://www.lifeline.org.au"),),
        emergency=("000",),
    ),
    "IE": CountryDefaults(
        lines=(Line(_("Samaritans"), "116 123", url="https://www.samaritans.ie"),),
        emergency=("112", "999"),
    ),
}
#: No country known: no line, and the message asks to call the local emergency number.
GENERIC = CountryDefaults(lines=(), emergency=())

#: Spellings a clinic may use for a code above.
COUNTRY_ALIASES = {"UK": "GB"}

THANKS = _("Thank you for answering honestly.")
REACH_OUT_LINE = _(
    "If you are thinking about ending your life or harming yourself, please reach out now: call "
    "%(line)s (%(label)s), or your emergency number %(emergency)s, or go to the nearest emergency department."
)
REACH_OUT_EMERGENCY = _(
    "If you are thinking about ending your life or harming yourself, please reach out now: call "
    "your emergency number %(emergency)s or go to the nearest emergency department."
)
REACH_OUT_GENERIC = _(
    "If you are thinking about ending your life or harming yourself, please reach out now: call your "
    "local emergency number or go to the nearest emergency department."
)
YOUR_CLINIC = _("Your clinic")
CALL_YOUR_CLINIC = _("You can also call your clinic: %(phone)s.")
CARE_TEAM = _("Your care team has been notified and will review your answers.")


def supported_locale(locale: str | None) -> str:
    """``es-MX`` → ``es``; an unsupported or empty one → the default language."""
    code = (locale or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def country_of(clinic: Clinic, patient: Patient | None = None) -> str:
    """The clinic's country; without one, the country of the patient's time zone when it has defaults."""
    if clinic.country:
        return clinic.country
    guessed = timezone_countries().get(patient.timezone, "") if patient is not None else ""
    return guessed if guessed in DEFAULTS else ""


def _line_body(line: Line) -> dict[str, str]:
    return {"label": str(line.label), "phone": line.phone, "sms": line.sms, "url": line.url}


def _stored_line(data: dict[str, Any]) -> Line:
    return Line(data.get("label", ""), data.get("phone", ""), data.get("sms", ""), data.get("url", ""))


def _default_message(lines: list[Line], emergency: tuple[str, ...], clinic_line: Line | None) -> str:
    joined = " / ".join(emergency)
    if lines:
        reach = str(REACH_OUT_LINE) % {"line": lines[0].phone, "label": lines[0].label, "emergency": joined}
    elif emergency:
        reach = str(REACH_OUT_EMERGENCY) % {"emergency": joined}
    else:
        reach = str(REACH_OUT_GENERIC)
    parts = [str(THANKS), reach]
    if clinic_line is not None and clinic_line.phone:
        parts.append(str(CALL_YOUR_CLINIC) % {"phone": clinic_line.phone})
    parts.append(str(CARE_TEAM))
    return " ".join(parts)


def resources_for(clinic: Clinic, locale: str | None, patient: Patient | None = None) -> dict[str, Any]:
    """What a patient of ``clinic`` reading in ``locale`` is shown: the clinic's texts for that locale
    where it set them, the country's defaults otherwise, and the clinic's own line last."""
    locale = supported_locale(locale)
    country = country_of(clinic, patient)
    defaults = DEFAULTS.get(country, GENERIC)
    stored = clinic.crisis_resources or {}
    own = stored.get("locales", {}).get(locale, {})
    clinic_line = _stored_line(stored["clinic_line"]) if stored.get("clinic_line") else None
    with translation.override(locale):
        lines = [_stored_line(x) for x in own["lines"]] if "lines" in own else list(defaults.lines)
        emergency = tuple(own.get("emergency") or defaults.emergency)
        message = own.get("message") or _default_message(lines, emergency, clinic_line)
        if clinic_line is not None and not clinic_line.label:
            clinic_line = Line(str(YOUR_CLINIC), clinic_line.phone, clinic_line.sms, clinic_line.url)
        listed = [*lines, *([clinic_line] if clinic_line is not None else [])]
        return {
            "message": message,
            # The first line's number (API 1.0's field), else the emergency number.
            "phone": listed[0].phone if listed else (emergency[0] if emergency else ""),
            "emergency": " / ".join(emergency),
            "emergency_numbers": list(emergency),
            "lines": [_line_body(x) for x in listed],
            "country": country,
            "locale": locale,
        }
