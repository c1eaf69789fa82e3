"""The treatments a course may record: one list for the records, the curves and the reports."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Modality key -> the name people read.
MODALITIES: Mapping[str, str] = MappingProxyType(
    {
        "iv_ketamine": "IV ketamine",
        "im_ketamine": "IM ketamine",
        "esketamine": "Esketamine nasal spray",
        "oral_ketamine": "Oral ketamine",
        "other": "Other",
    }
)
