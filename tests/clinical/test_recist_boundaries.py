"""RECIST thresholds at the measurements' resolution: exact boundaries and property tests."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from organomics.clinical import recist


def site_rows(days_and_diameters: list[tuple[int, list[float]]], nodal=False) -> pd.DataFrame:
    """One patient's target lesions T1..Tk at one site: [(day, [diameter per lesion])]."""
    rows = [
        {
            "patient": "P1",
            "lesion": f"T{index + 1}",
            "organ": "lung",
            "role": "target",
            "day": float(day),
            "diameter_mm": diameter,
            "nodal": nodal,
            "status": "",
            "site": "PL",
        }
        for day, diameters in days_and_diameters
        for index, diameter in enumerate(diameters)
    ]
    return pd.DataFrame(rows)


def responses(days_and_diameters, **options) -> list[str]:
    timepoints, _ = recist.assess_site(site_rows(days_and_diameters), recist.Options(**options))
    return timepoints["response"].tolist()


@pytest.mark.parametrize(
    ("baseline", "follow_up", "expected"),
    [
        # Exactly -30% by hand: 63 / 90 = 7.7 / 11 = 0.7 (raw floats: 0.7000000000000001).
        ([90.0], [63.0], "PR"),
        ([11.0], [7.7], "PR"),
        ([11.0], [7.8], "SD"),  # -29.1%
        # Two lesions: 30.1 + 40.2 = 70.3 mm; 70% of it is 49.21 mm; 20.1 + 29.1 = 49.2 mm <= it.
        ([30.1, 40.2], [20.1, 29.1], "PR"),
        ([30.1, 40.2], [20.2, 29.1], "SD"),  # 49.3 mm > 49.21 mm
        # +32% and exactly +5.0 mm (20.4 - 15.4 = 4.999999999999998 in floats): PD.
        ([15.4], [20.4], "PD"),
        ([15.4], [20.3], "SD"),  # +4.9 mm
        # Exactly +20% and +5 mm from 25 mm: 30 mm is PD; 29.9 mm is not.
        ([25.0], [30.0], "PD"),
        ([25.0], [29.9], "SD"),
    ],
)
def test_thresholds_hold_at_the_exact_boundary(baseline, follow_up, expected):
    assert responses([(-3, baseline), (42, follow_up)]) == [expected]


def test_pd_from_the_nadir_at_exactly_twenty_percent_and_five_mm():
    # Baseline 50, nadir 25.0 (PR), then 30.0: +20% and +5 mm above the nadir exactly -> PD.
    assert responses([(-3, [50.0]), (42, [25.0]), (84, [30.0])]) == ["PR", "PD"]
    assert responses([(-3, [50.0]), (42, [25.0]), (84, [29.9])]) == ["PR", "PR"]


def test_nodal_target_under_ten_mm_exactly():
    # A node at 10.0 mm is not normal (RECIST: < 10 mm), 9.9 mm is.
    rows = [(-3, [15.0]), (42, [10.0]), (84, [9.9])]
    timepoints, _ = recist.assess_site(site_rows(rows, nodal=True), recist.Options())
    assert timepoints["response"].tolist() == ["PR", "CR"]


def test_hundredths_round_half_away_from_zero():
    # Decimal by hand: 0.125 mm is 12.5 hundredths -> 13; binary 0.125 * 100 = 12.5 -> round() 12.
    values = (7.7, 0.125, 63.0, 20.4, 0.004)
    assert [recist.hundredths(x) for x in values] == [770, 13, 6300, 2040, 0]


def test_confirmation_must_come_before_any_progression():
    # PR day 42, PD day 56, PR day 84 (28 days after 42): the PD breaks the PR -> not confirmed.
    rows = [(-3, [50.0]), (42, [30.0]), (56, [37.0]), (84, [30.0])]
    assert responses(rows, confirmation_days=28) == ["PR", "PD", "PR"]
    timepoints, summary = recist.assess_site(site_rows(rows), recist.Options(28))
    # Unconfirmed PR counts as SD; the best response is SD, first PD on day 56.
    assert summary["best_response"] == "SD"
    assert summary["first_pd_day"] == 56
    # Without the PD in between the same PR is confirmed.
    rows = [(-3, [50.0]), (42, [30.0]), (56, [31.0]), (84, [30.0])]
    _, summary = recist.assess_site(site_rows(rows), recist.Options(28))
    assert summary["best_response"] == "PR"


tenths = st.integers(min_value=1, max_value=3000)  # 0.1 .. 300.0 mm at 0.1 mm resolution


def expected_response(sums: list[int]) -> list[str]:
    """Independent RECIST on sums in integer tenths, thresholds as exact Fractions."""
    baseline, nadir, out = sums[0], sums[0], []
    for value in sums[1:]:
        if Fraction(value) >= Fraction(6, 5) * nadir and value - nadir >= 50:
            out.append("PD")
        elif value == 0:
            out.append("CR")
        elif Fraction(value) <= Fraction(7, 10) * baseline:
            out.append("PR")
        else:
            out.append("SD")
        nadir = min(nadir, value)
    return out


@settings(max_examples=300, deadline=None)
@given(
    baseline=st.lists(tenths, min_size=1, max_size=3),
    scale=st.sampled_from([Fraction(7, 10), Fraction(6, 5), Fraction(1)]),
    jitter=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
    extra=st.integers(-60, 60),
)
def test_thresholds_match_exact_arithmetic_near_the_boundaries(baseline, scale, jitter, extra):
    # Follow-up diameters land on or next to -30%, +20% and +5 mm (in tenths of a mm).
    pairs = zip(baseline, jitter[: len(baseline)], strict=True)
    follow = [max(0, round(value * scale) + shift) for value, shift in pairs]
    follow[0] = max(0, follow[0] + extra)
    later = [value + 50 // len(baseline) + 1 for value in follow]
    rows = [(-3, [v / 10 for v in baseline]), (42, [v / 10 for v in follow])]
    rows.append((84, [v / 10 for v in later]))
    expected = expected_response([sum(baseline), sum(follow), sum(later)])
    assert responses(rows) == expected
