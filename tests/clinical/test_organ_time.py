"""Time to organ progression, duration of organ response and the first organ, on hand cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import binom

from organomics.clinical import organ_time
from organomics.excluded import Exclusions


def _tables():
    # (patient, site, day, response): A's PL responds at 42 and progresses at 126; A's LM
    # progresses at 84. B's PL is followed to 60 only and B's LM progresses at 84 (order unknown).
    # C progresses at both sites at day 40; D never progresses (PR at LM from 50, never PD).
    points = [
        ("A", "PL", 42, "PR"),
        ("A", "PL", 84, "PR"),
        ("A", "PL", 126, "PD"),
        ("A", "LM", 42, "SD"),
        ("A", "LM", 84, "PD"),
        ("B", "PL", 60, "SD"),
        ("B", "LM", 42, "SD"),
        ("B", "LM", 84, "PD"),
        ("C", "PL", 40, "PD"),
        ("C", "LM", 40, "PD"),
        ("D", "PL", 50, "SD"),
        ("D", "PL", 100, "SD"),
        ("D", "LM", 50, "PR"),
        ("D", "LM", 100, "CR"),
    ]
    timepoints = pd.DataFrame(points, columns=["patient", "site", "day", "response"])
    responses = pd.DataFrame(
        [
            ("A", "PL", "PR", 126.0),
            ("A", "LM", "PD", 84.0),
            ("B", "PL", "SD", math.nan),
            ("B", "LM", "PD", 84.0),
            ("C", "PL", "PD", 40.0),
            ("C", "LM", "PD", 40.0),
            ("D", "PL", "SD", math.nan),
            ("D", "LM", "CR", math.nan),
            ("E", "PL", "NE", math.nan),  # no on-treatment scan
        ],
        columns=["patient", "site", "best_response", "first_pd_day"],
    )
    return timepoints, responses


def test_times_per_site_by_hand():
    timepoints, responses = _tables()
    exclusions = Exclusions("organ_time")
    times = organ_time.organ_times(timepoints, responses, exclusions).set_index(["patient", "site"])
    # TTOP: first PD day (event) or last scan (censored); DoR from the first CR/PR scan.
    assert times.loc[("A", "PL"), ["ttop_days", "ttop_event"]].tolist() == [126, 1]
    assert times.loc[("A", "PL"), ["response_onset_day", "dor_days", "dor_event"]].tolist() == [
        42,
        84,
        1,
    ]
    assert times.loc[("B", "PL"), ["ttop_days", "ttop_event"]].tolist() == [60, 0]
    assert times.loc[("D", "LM"), ["ttop_days", "ttop_event"]].tolist() == [100, 0]
    assert times.loc[("D", "LM"), ["response_onset_day", "dor_days", "dor_event"]].tolist() == [
        50,
        50,
        0,
    ]
    assert pd.isna(times.loc[("A", "LM"), "dor_days"])  # no response, no duration
    assert ("E", "PL") not in times.index
    assert exclusions.table()[["item", "site"]].values.tolist() == [["E", "PL"]]


def test_first_progression_orders_and_unknowns():
    timepoints, responses = _tables()
    times = organ_time.organ_times(timepoints, responses)
    first = organ_time.first_progression(times, "PL", "LM").set_index("patient")["first"]
    # A: LM 84 < PL 126; B: PL followed to 60 only, LM PD at 84 -> unknown; C: both day 40;
    # D: no PD anywhere. E has no times and is left out.
    assert first.to_dict() == {"A": "LM", "B": "undetermined", "C": "same_day", "D": "neither"}


def test_first_progression_counts_a_site_scanned_up_to_the_pd_day_as_later():
    times = pd.DataFrame(
        {
            "patient": ["F", "F"],
            "site": ["PL", "LM"],
            "ttop_days": [84.0, 84.0],
            "ttop_event": [1, 0],  # LM scanned on day 84 without PD: PL progressed first
        }
    )
    first = organ_time.first_progression(times, "PL", "LM")
    assert first["first"].tolist() == ["PL"]


def test_summary_binomial_and_medians():
    rows = []
    # 9 patients with LM first, 1 with PL first, 2 neither: the exact two-sided binomial p of
    # 1 of 10 at 0.5 is 2 * P(X <= 1) = 2 * 11 / 1024 (scipy binom.cdf as the independent check).
    for index in range(12):
        if index < 9:
            rows += [(f"P{index}", "PL", 200.0, 0), (f"P{index}", "LM", 40.0 + index, 1)]
        elif index == 9:
            rows += [(f"P{index}", "PL", 50.0, 1), (f"P{index}", "LM", 100.0, 0)]
        else:
            rows += [(f"P{index}", "PL", 200.0, 0), (f"P{index}", "LM", 200.0, 0)]
    times = pd.DataFrame(rows, columns=["patient", "site", "ttop_days", "ttop_event"])
    times["dor_days"], times["dor_event"] = math.nan, pd.NA
    first = organ_time.first_progression(times, "PL", "LM")
    table = organ_time.summary(times, first, "PL", "LM").set_index(["analysis", "site"])
    test = table.loc[("first_progression", "PL vs LM")]
    assert test["n"] == 12 and test["events"] == 10
    assert test["effect"] == pytest.approx(0.9)
    assert test["p_value"] == pytest.approx(2 * 11 / 1024)
    assert test["p_value"] == pytest.approx(2 * binom.cdf(1, 10, 0.5))
    # LM: 9 events at days 40..48 among 12; S drops below 0.5 at the 6th event (S = 6/12 at
    # day 45 exactly, a flat at 0.5 until day 46: R's rule gives the midpoint 45.5).
    lm = table.loc[("time_to_progression", "LM")]
    assert lm["events"] == 9 and lm["median_days"] == 45.5
    pl = table.loc[("time_to_progression", "PL")]
    assert pl["events"] == 1 and math.isnan(pl["median_days"])
    assert table.loc[("duration_of_response", "PL"), "n"] == 0


def test_findings_row_counts_each_site_first():
    from organomics.summary import findings

    # 3 patients with LM first, 1 with PL first, 1 neither: the row gives 1 vs 3, effect 3 - 1,
    # and the exact two-sided binomial p of 1 of 4 at 0.5, 2 * 5/16 = 0.625 (by hand).
    times = pd.DataFrame(
        [
            ("A", "PL", 100.0, 0),
            ("A", "LM", 40.0, 1),
            ("B", "PL", 100.0, 0),
            ("B", "LM", 50.0, 1),
            ("C", "PL", 100.0, 0),
            ("C", "LM", 60.0, 1),
            ("D", "PL", 30.0, 1),
            ("D", "LM", 90.0, 0),
            ("E", "PL", 90.0, 0),
            ("E", "LM", 90.0, 0),
        ],
        columns=["patient", "site", "ttop_days", "ttop_event"],
    )
    times["dor_days"], times["dor_event"] = math.nan, pd.NA
    first = organ_time.first_progression(times, "PL", "LM")
    table = organ_time.summary(times, first, "PL", "LM")
    (row,) = findings.organ_progression_rows(table, "PL", "LM")
    assert (row["value_PL"], row["value_LM"], row["effect"], row["n"]) == (1, 3, 2, 5)
    assert row["p_value"] == pytest.approx(0.625) and row["p_adj"] == row["p_value"]
