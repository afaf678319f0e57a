"""Kaplan-Meier medians and log-rank p against hand values and statsmodels' independent code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import survdiff

from organomics.clinical import survival
from organomics.errors import InputError


def test_km_median_and_logrank_against_statsmodels(tmp_path):
    path = tmp_path / "patients.tsv"
    patients = pd.DataFrame(
        {
            "patient": [f"P{i}" for i in range(10)],
            "pfs_days": [10, 20, 30, 40, 50, 15, 60, 70, 80, 90],
            "pfs_event": [1, 1, 1, 1, 1, 1, 0, 1, 1, 0],
            "os_days": [100] * 10,
            "os_event": [0] * 10,
        }
    )
    patients.to_csv(path, sep="\t", index=False)
    groups = {"arm": pd.Series(["a"] * 5 + ["b"] * 5, index=patients["patient"])}
    table = survival.km_table(survival.read_patients(path), groups)
    pfs = table[table["endpoint"] == "pfs"].set_index("group")
    # Group a: all five events at 10..50 days; S drops to 0.4 at 30 -> median 30 by hand.
    assert pfs.loc["a", "median_days"] == 30
    assert pfs.loc["a", "events"] == 5 and pfs.loc["b", "events"] == 3
    _, expected_p = survdiff(
        patients["pfs_days"], patients["pfs_event"], np.array(["a"] * 5 + ["b"] * 5)
    )
    assert pfs.loc["a", "logrank_p"] == pytest.approx(expected_p, rel=1e-6)
    assert pfs.loc["a", "test"] == "log-rank across 2 groups (n = 10)"


def test_bad_event_value_names_the_row(tmp_path):
    path = tmp_path / "patients.tsv"
    path.write_text("patient\tpfs_days\tpfs_event\tos_days\tos_event\nP1\t10\t2\t20\t1\n")
    with pytest.raises(InputError, match=r"row 2, column 'pfs_event'"):
        survival.read_patients(path)
