"""Kaplan-Meier PFS and OS by response group, with log-rank tests (lifelines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from organomics.errors import InputError
from organomics.tables import read_table, to_number

ENDPOINTS = ("pfs", "os")
REQUIRED = ("patient", "pfs_days", "pfs_event", "os_days", "os_event")


def read_patients(path: str | Path) -> pd.DataFrame:
    """Patient table: durations in days (>= 0) and events as 0/1; other columns kept as is."""
    table = read_table(path, required=REQUIRED)
    table["patient"] = table["patient"].astype(str).str.strip()
    for endpoint in ENDPOINTS:
        for suffix in ("days", "event"):
            column = f"{endpoint}_{suffix}"
            table[column] = to_number(table, column, path, allow_missing=True)
        bad = ~table[f"{endpoint}_event"].isin([0, 1]) & table[f"{endpoint}_event"].notna()
        bad |= table[f"{endpoint}_days"] < 0
        for position in np.flatnonzero(bad.to_numpy())[:1]:
            raise InputError(
                path,
                f"patient {table['patient'].iloc[position]}: {endpoint}_days must be >= 0 and "
                f"{endpoint}_event 0 or 1",
                row=int(position) + 2,
                column=f"{endpoint}_event",
            )
    if table["patient"].duplicated().any():
        patient = table.loc[table["patient"].duplicated(), "patient"].iloc[0]
        raise InputError(path, f"patient {patient} appears twice", column="patient")
    return table


def response_groups(
    responses: pd.DataFrame, mixed: pd.DataFrame, compare: str
) -> dict[str, pd.Series]:
    """Per-patient groupings: the mixed-response pattern and the compare site's best response."""
    best = responses[responses["site"] == compare].set_index("patient")["best_response"]
    compare_group = best.map({"CR": "CR/PR", "PR": "CR/PR", "SD": "SD", "PD": "PD", "NE": "NE"})
    return {
        "mixed_response": mixed.set_index("patient")["pattern"],
        f"{compare}_response": compare_group,
    }


def km_table(patients: pd.DataFrame, groups: dict[str, pd.Series]) -> pd.DataFrame:
    """Per endpoint, grouping and group: n, events, KM median with 95% CI, log-rank p."""
    rows = []
    for endpoint in ENDPOINTS:
        for grouping, labels in groups.items():
            data = patients.set_index("patient")[[f"{endpoint}_days", f"{endpoint}_event"]]
            data = data.join(labels.rename("group"), how="inner").dropna()
            if data.empty:
                continue
            durations, events = data[f"{endpoint}_days"], data[f"{endpoint}_event"]
            n_groups = data["group"].nunique()
            p_value = (
                multivariate_logrank_test(durations, data["group"], events).p_value
                if n_groups > 1
                else np.nan
            )
            for group, subset in data.groupby("group"):
                fitter = KaplanMeierFitter().fit(
                    subset[f"{endpoint}_days"], subset[f"{endpoint}_event"]
                )
                interval = median_survival_times(fitter.confidence_interval_)
                rows.append(
                    {
                        "endpoint": endpoint,
                        "grouping": grouping,
                        "group": group,
                        "n": len(subset),
                        "events": int(subset[f"{endpoint}_event"].sum()),
                        "median_days": fitter.median_survival_time_,
                        "median_ci_low": interval.iloc[0, 0],
                        "median_ci_high": interval.iloc[0, 1],
                        "logrank_p": p_value,
                        "test": f"log-rank across {n_groups} groups (n = {len(data)})",
                    }
                )
    # An upper limit that is never reached is infinite in lifelines; the table leaves it empty.
    return pd.DataFrame(rows).replace([np.inf, -np.inf], np.nan)
