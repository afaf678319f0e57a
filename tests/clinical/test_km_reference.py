"""Kaplan-Meier medians, their CIs and log-rank p against R survival (tests/clinical/reference)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines.statistics import multivariate_logrank_test

from organomics.clinical import survival
from organomics.excluded import Exclusions

REFERENCE = Path(__file__).parent / "reference"
# Written by km_reference.R (R 4.2.2, survival 3.5.3): quantile(survfit(...), 0.5) and survdiff.
MEDIANS = pd.read_csv(REFERENCE / "km_medians.tsv", sep="\t", skipinitialspace=True)
LOGRANK = pd.read_csv(REFERENCE / "logrank.tsv", sep="\t")


def case(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"km_case_{name}.tsv", sep="\t", dtype={"group": str})


@pytest.mark.parametrize(
    "row", MEDIANS.to_dict("records"), ids=lambda r: f"{r['case']}-{r['group']}"
)
def test_median_and_ci_match_r_survfit(row):
    data = case(row["case"])
    data = data[data["group"] == str(row["group"])]
    assert len(data) == row["n"] and data["status"].sum() == row["events"]
    got = survival.median_survival(data["time"], data["status"])
    expected = (row["median"], row["lower"], row["upper"])
    # Times are whole days, so medians and limits are exact halves: compare exactly, NaN = NA.
    np.testing.assert_array_equal(np.array(got, float), np.array(expected, float))


def test_the_flat_at_one_half_gives_the_midpoint_not_the_next_event():
    # By hand: S = 5/6, 4/6, 3/6 at day 30 and stays 0.5 until day 40 -> R's median (30+40)/2.
    median, _, _ = survival.median_survival([10, 20, 30, 40, 50, 60], [1] * 6)
    assert median == 35


@pytest.mark.parametrize("row", LOGRANK.to_dict("records"), ids=lambda r: r["case"])
def test_logrank_matches_r_survdiff(row):
    data = case(row["case"])
    result = multivariate_logrank_test(data["time"], data["group"], data["status"])
    assert result.test_statistic == pytest.approx(row["chisq"], rel=1e-9)
    assert result.p_value == pytest.approx(row["p"], rel=1e-9)


def test_km_table_uses_r_medians_and_lists_patients_without_a_group(tmp_path):
    data = case("six_events")
    patients = pd.DataFrame(
        {
            "patient": [f"P{i}" for i in range(7)],
            "pfs_days": [*data["time"], 5],
            "pfs_event": [*data["status"], 1],
            "os_days": [*data["time"], 5],
            "os_event": [*data["status"], 1],
        }
    )
    groups = {"arm": pd.Series(["a"] * 6, index=[f"P{i}" for i in range(6)])}
    exclusions = Exclusions("survival")
    table = survival.km_table(patients, groups, exclusions)
    assert table["median_days"].tolist() == [35.0, 35.0]  # R: 35 (reference six_events)
    assert table["n"].tolist() == [6, 6]
    excluded = exclusions.table()
    assert excluded["item"].tolist() == ["P6", "P6"]
    assert excluded["reason"].str.contains("no arm group").all()


def median_by_definition(times, events):
    """Independent reading of R's rule: first time S <= 1/2; on a flat at exactly 1/2, the midpoint
    of its start and the next drop (or the last time when the curve never drops again)."""
    data = sorted(zip(times, events, strict=True))
    distinct = sorted({time for time, _ in data})
    surv, at_risk, curve = Fraction(1), len(data), []
    for time in distinct:
        here = [event for t, event in data if t == time]
        if sum(here):
            surv *= Fraction(at_risk - sum(here), at_risk)
        curve.append((time, surv))
        at_risk -= len(here)
    for position, (time, value) in enumerate(curve):
        if value < Fraction(1, 2):
            return float(time)
        if value == Fraction(1, 2):
            drops = [t for t, v in curve[position + 1 :] if v < value]
            return (time + (drops[0] if drops else distinct[-1])) / 2
    return np.nan


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(0, 1)), min_size=1, max_size=12),
    st.integers(1, 7),
)
def test_median_follows_the_definition_and_scales(pairs, factor):
    times, events = [t for t, _ in pairs], [e for _, e in pairs]
    median, _, _ = survival.median_survival(times, events)
    expected = median_by_definition(times, events)
    np.testing.assert_array_equal(median, expected)
    # Days -> any positive whole multiple (e.g. weeks to days) scales the median exactly.
    scaled, _, _ = survival.median_survival([t * factor for t in times], events)
    np.testing.assert_array_equal(scaled, expected * factor)
