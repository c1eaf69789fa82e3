"""Scale definitions (CLINICAL §1) as a caller sees them."""

from fractions import Fraction

import pytest

from scoring import PARTIAL, RESPONSE, SCALES, ScoringError, get_scale

# (scale, total, severity) at every band edge of CLINICAL §1.
BAND_EDGES = [
    ("bdi2", 0, "minimal"), ("bdi2", 13, "minimal"), ("bdi2", 14, "mild"),
    ("bdi2", 19, "mild"), ("bdi2", 20, "moderate"), ("bdi2", 28, "moderate"),
    ("bdi2", 29, "severe"), ("bdi2", 63, "severe"),
    ("madrs", 0, "normal"), ("madrs", 6, "normal"), ("madrs", 7, "mild"),
    ("madrs", 19, "mild"), ("madrs", 20, "moderate"), ("madrs", 34, "moderate"),
    ("madrs", 35, "severe"), ("madrs", 60, "severe"),
    ("hamd17", 0, "normal"), ("hamd17", 7, "normal"), ("hamd17", 8, "mild"),
    ("hamd17", 13, "mild"), ("hamd17", 14, "moderate"), ("hamd17", 18, "moderate"),
    ("hamd17", 19, "severe"), ("hamd17", 22, "severe"), ("hamd17", 23, "very_severe"),
    ("hamd17", 52, "very_severe"),
    ("phq9", 0, "minimal"), ("phq9", 4, "minimal"), ("phq9", 5, "mild"),
    ("phq9", 9, "mild"), ("phq9", 10, "moderate"), ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately_severe"), ("phq9", 19, "moderately_severe"),
    ("phq9", 20, "severe"), ("phq9", 27, "severe"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "total", "label"), BAND_EDGES)
def test_severity_at_each_band_edge(key: str, total: int, label: str) -> None:
    assert get_scale(key).severity(total) == label


@pytest.mark.parametrize(
    ("key", "n_items", "total_max", "remission_max", "relapse_min", "suicide_item", "rated_by"),
    [
        ("bdi2", 21, 63, 13, 20, 9, "patient"),
        ("madrs", 10, 60, 10, 22, 10, "clinician"),
        ("hamd17", 17, 52, 7, 18, 3, "clinician"),
        ("phq9", 9, 27, 4, 10, 9, "patient"),
    ],
)
def test_scale_table(
    key: str,
    n_items: int,
    total_max: int,
    remission_max: int,
    relapse_min: int,
    suicide_item: int,
    rated_by: str,
) -> None:
    scale = SCALES[key]
    assert (scale.key, scale.n_items, scale.total_max) == (key, n_items, total_max)
    assert (scale.remission_max, scale.relapse_min) == (remission_max, relapse_min)
    assert (scale.suicide_item, scale.rated_by) == (suicide_item, rated_by)
    assert len(scale.item_max) == len(scale.item_labels) == n_items
    assert sum(scale.item_max) == total_max
    assert scale.bands[0].low == 0 and scale.bands[-1].high == total_max


def test_hamd17_item_maxima() -> None:
    four = {1, 2, 3, 7, 8, 9, 10, 11, 15}
    expected = tuple(4 if item in four else 2 for item in range(1, 18))
    assert get_scale("hamd17").item_max == expected


def test_copyrighted_scales_ship_no_item_wording() -> None:
    bdi2 = get_scale("bdi2")
    assert bdi2.item_labels == tuple(f"Item {i}" for i in range(1, bdi2.n_items + 1))
    # MADRS: a short neutral label per item (two words at most), never a sentence of the scale.
    madrs = get_scale("madrs")
    assert len(madrs.item_labels) == 10 and len(set(madrs.item_labels)) == 10
    assert all(len(label.split()) <= 2 and len(label) <= 20 for label in madrs.item_labels)
    assert "suicid" in madrs.item_labels[madrs.suicide_item - 1].lower()


def test_only_bdi2_has_directional_items() -> None:
    assert {key: s.directional_items for key, s in SCALES.items()} == {
        "bdi2": (16, 18), "madrs": (), "hamd17": (), "phq9": (),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "in_range", "out_of_range"),
    [("bdi2", 13, 14), ("madrs", 10, 11), ("hamd17", 7, 8), ("phq9", 4, 5)],
)
def test_remission_range_edge(key: str, in_range: int, out_of_range: int) -> None:
    scale = get_scale(key)
    assert scale.in_remission_range(in_range)
    assert not scale.in_remission_range(out_of_range)


def test_remission_range_takes_a_clinic_level() -> None:
    madrs = get_scale("madrs")
    assert madrs.in_remission_range(12, remission_max=12)
    assert not madrs.in_remission_range(13, remission_max=12)
    assert not madrs.in_remission_range(1, remission_max=0)


def test_response_thresholds_are_exact_fractions() -> None:
    assert (Fraction(1, 2), Fraction(1, 4)) == (RESPONSE, PARTIAL)


def test_every_threshold_has_a_source() -> None:
    for scale in SCALES.values():
        for source in (
            scale.bands_source,
            scale.remission_source,
            scale.relapse_source,
            scale.safety_levels.source,
            scale.reliable_change.source,
        ):
            assert source.strip()


@pytest.mark.parametrize("key", ["BDI2", "hamd21", "", None, 3])
def test_unknown_scale(key: object) -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale(key)
    assert caught.value.field == "scale"
    assert str(caught.value).startswith("scale: unknown scale")


@pytest.mark.parametrize(("total", "message"), [(64, "64 is out of range 0-63"), (-1, "-1 is out of range 0-63")])
def test_severity_rejects_totals_out_of_range(total: int, message: str) -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale("bdi2").severity(total)
    assert (caught.value.field, caught.value.message) == ("total", message)
