"""Landmark analysis: response by the landmark, who is at risk then, times from the landmark."""

from __future__ import annotations

import math

import pandas as pd

from organomics.clinical import landmark
from organomics.excluded import Exclusions


def _points(rows):
    return pd.DataFrame(rows, columns=["patient", "site", "day", "response"])


def test_best_by_the_landmark_ignores_later_scans():
    points = _points([("A", "PL", 42, "SD"), ("A", "PL", 84, "PR"), ("A", "PL", 85, "CR")])
    # Day 84 is on the landmark (counts); day 85 is after it (does not).
    assert landmark.best_by(points, 84) == "PR"
    assert landmark.best_by(points, 83) == "SD"
    assert landmark.best_by(points, 41) == "NE"  # no scan yet
    stops = _points([("B", "PL", 42, "PD"), ("B", "PL", 60, "PR")])
    assert landmark.best_by(stops, 84) == "PD"  # nothing after the first PD counts
    after_sd = _points([("C", "PL", 42, "SD"), ("C", "PL", 60, "PD")])
    assert landmark.best_by(after_sd, 84) == "SD"  # RECIST: best before the first PD


def test_groups_and_pattern():
    points = _points(
        [
            ("A", "PL", 42, "PR"),
            ("A", "LM", 42, "SD"),
            ("A", "LM", 126, "PR"),  # responds only after the landmark: SD at day 84
            ("B", "PL", 42, "CR"),
            ("B", "LM", 42, "PR"),
            ("C", "PL", 42, "SD"),
        ]
    )
    responses = pd.DataFrame(
        [("A", "PL"), ("A", "LM"), ("B", "PL"), ("B", "LM"), ("C", "PL")],
        columns=["patient", "site"],
    )
    groups = landmark.landmark_groups(points, responses, "PL", "LM", 84).set_index("patient")
    assert groups.loc["A"].tolist() == ["CR/PR", "SD", "PL_only"]
    assert groups.loc["B"].tolist() == ["CR/PR", "CR/PR", "both"]
    assert groups.loc["C"].tolist() == ["SD", "", ""]  # LM not evaluable: no pattern


def test_at_risk_at_the_landmark_boundary():
    patients = pd.DataFrame(
        {
            "patient": ["dies_on", "censored_on", "after", "censored_before", "unknown"],
            "os_days": [84.0, 84.0, 85.0, 50.0, math.nan],
            "os_event": [1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )
    keep, reasons = landmark.at_risk(patients, "os", 84)
    # A death on day 84 is not at risk after it; censoring on day 84 is followed at it.
    assert keep.to_dict() == {
        "dies_on": False,
        "censored_on": True,
        "after": True,
        "censored_before": False,
        "unknown": False,
    }
    assert reasons["dies_on"] == "death on day 84, on or before the landmark"
    assert reasons["censored_before"] == "censored on day 50, before the landmark"
    assert reasons["unknown"] == "os_days or os_event missing"


def test_table_counts_from_the_landmark_and_names_the_excluded():
    patients = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3", "P4", "P5"],
            "pfs_days": [100.0, 200.0, 50.0, 300.0, 150.0],
            "pfs_event": [1, 1, 1, 0, 1],
            "os_days": [400.0, 500.0, 60.0, 600.0, 300.0],
            "os_event": [1, 1, 1, 0, 0],
        }
    )
    groups = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3", "P4", "P5"],
            "response_PL": ["CR/PR"] * 5,
            "response_LM": ["CR/PR", "CR/PR", "PD", "SD", "SD"],
            "pattern": ["both", "both", "PL_only", "PL_only", "PL_only"],
        }
    )
    exclusions = Exclusions("landmark")
    table = landmark.landmark_table(patients, groups, "LM", 84, exclusions)
    row = table[
        (table["endpoint"] == "pfs")
        & (table["grouping"] == "LM_response")
        & (table["group"] == "CR/PR")
    ].iloc[0]
    # P3 progressed on day 50 and is out; P1 and P2 progress 16 and 116 days after the
    # landmark: S = 1/2 from day 16 on until 116 (flat at 0.5), R's median is (16 + 116) / 2.
    assert row["n"] == 2 and row["events"] == 2
    assert row["median_days_from_landmark"] == 66
    assert row["n_at_risk"] == 4 and row["excluded_patients"] == "P3"
    assert set(table.loc[table["endpoint"] == "pfs", "group"]) == {"CR/PR", "SD", "both", "PL_only"}
    assert exclusions.table()["patient"].tolist() == ["P3", "P3"]  # pfs and os


def test_shifted_patients_and_plot():
    patients = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3"],
            "pfs_days": [100.0, 84.0, 50.0],
            "pfs_event": [1, 0, 1],
            "os_days": [400.0, 84.0, 60.0],
            "os_event": [1, 1, 1],
        }
    )
    shifted = landmark.shifted_patients(patients, 84).set_index("patient")
    # P1: 100 - 84 = 16; P2 censored on day 84 is at risk for PFS (0 days) but died on day 84;
    # P3 had both events before the landmark.
    assert shifted.loc["P1", ["pfs_days", "os_days"]].tolist() == [16, 316]
    assert shifted.loc["P2", "pfs_days"] == 0 and math.isnan(shifted.loc["P2", "os_days"])
    assert shifted.loc["P3"].drop("patient", errors="ignore").isna().all()
    groups = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3"],
            "response_PL": ["SD"] * 3,
            "response_LM": ["SD", "CR/PR", "PD"],
            "pattern": ["neither", "LM_only", "neither"],
        }
    )
    table = landmark.landmark_table(patients, groups, "LM", 84)
    figure = landmark.plot(patients, groups, table, "LM", 84)
    assert len(figure.axes) == 2
