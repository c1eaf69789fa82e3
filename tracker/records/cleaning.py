"""What the records accept as a person's name, a username or a time zone.

Text is normalised (NFC) and refused when it carries control characters, terminal escapes,
bidirectional overrides or invisible characters: such text misleads the people who read it (a name
that renders as another, a username that looks like an existing one). Usernames are ASCII letters,
digits and ``. _ - @ +``, and one whose look-alike form (``skeleton``) matches an existing username
is refused the same way as a taken one. Time zones are the canonical zones of the IANA database
(its ``zone.tab``) plus UTC: no ``localtime``, ``Factory`` or ``posixrules``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from tracker.records.services.errors import invalid

#: Bidirectional embeddings, overrides and isolates, and the marks that flip a run's direction.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{2,149}")
#: Characters readers confuse in a username, mapped to one representative (after lower-casing).
_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "_": "", "-": "", ".": ""})


def clean_text(field: str, value: object, *, max_length: int, required: bool = True) -> str:
    """A name or label as stored: NFC, trimmed; refused if empty (when required), too long, or
    carrying control, bidirectional or invisible characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid(field, "Expected text.", code="not_text")
    text = unicodedata.normalize("NFC", value).strip()
    for char in text:
        category = unicodedata.category(char)
        if (
            char in BIDI_CONTROLS
            or category in ("Cc", "Cf", "Co", "Cs", "Cn")
            or (category.startswith("Z") and char != " ")
        ):
            raise invalid(
                field,
                "Remove the control, direction or invisible characters from this text.",
                code="invisible_characters",
            )
    if required and not text:
        raise invalid(field, "This field is required.", code="required")
    if len(text) > max_length:
        raise invalid(field, f"At most {max_length} characters.", code="too_long", params={"max": max_length})
    return text


def username_skeleton(username: str) -> str:
    """The form two usernames share when a reader could mistake one for the other."""
    skeleton = username.lower().translate(_LOOKALIKES)
    return skeleton.replace("rn", "m").replace("vv", "w")


def check_username(username: object) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise invalid(
            "username",
            "A username of 3 to 150 characters: letters (A–Z, a–z), digits and . _ - @ +, "
            "starting with a letter or digit.",
            code="invalid_username",
        )
    return username


@cache
def canonical_timezones() -> frozenset[str]:
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    zones = {line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")}
    return frozenset(zones | {"UTC"})


@cache
def timezone_countries() -> dict[str, str]:
    """Each canonical zone's ISO 3166 country code (``Europe/London`` → ``GB``)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in table.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows}


def check_timezone(name: object, field: str = "timezone") -> str:
    if not isinstance(name, str) or name not in canonical_timezones():
        raise invalid(
            field,
            f"Unknown time zone {name!r}; use a canonical IANA name such as 'Europe/Berlin'.",
            code="unknown_timezone",
        )
    return name
