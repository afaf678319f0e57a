"""Landmark analysis: survival by response pattern classified by the landmark day only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.clinical import figures
from organomics.clinical.survival import ENDPOINTS, km_table
from organomics.excluded import Exclusions

RANK = {"CR": 4, "PR": 3, "SD": 2, "PD": 1, "NE": 0}
GROUP = {"CR": "CR/PR", "PR": "CR/PR", "SD": "SD", "PD": "PD", "NE": "NE"}
TABLE_COLUMNS = ["landmark_days", "endpoint", "grouping", "group", "n", "events"]
TABLE_COLUMNS += ["median_days_from_landmark", "median_ci_low", "median_ci_high", "logrank_p"]
TABLE_COLUMNS += ["test", "n_at_risk", "n_excluded", "excluded_patients"]


def best_by(points: pd.DataFrame, landmark: float) -> str:
    """RECIST best response from the scans on or before the landmark day (unconfirmed).

    Parameters
    ----------
    points
        One patient's timepoint responses at one site (day, response).
    landmark
        The landmark day.

    Returns
    -------
    str
        The best of CR, PR, SD, PD, NE up to the first PD, as recist.py ranks them; NE when no
        scan falls on or before the landmark. Confirmation and minimum-SD rules are not applied:
        a confirming scan would lie beyond the landmark.
    """
    best = "NE"
    for response in points.loc[points["day"] <= landmark].sort_values("day")["response"]:
        if response == "PD":
            return "PD" if best == "NE" else best
        if RANK[response] > RANK[best]:
            best = response
    return best


def landmark_groups(
    timepoints: pd.DataFrame,
    responses: pd.DataFrame,
    reference: str,
    compare: str,
    landmark: float,
) -> pd.DataFrame:
    """Per patient, each site's response by the landmark and the two sites' pattern.

    Parameters
    ----------
    timepoints
        The timepoint response table.
    responses
        The organ response table (the evaluable patients and sites).
    reference, compare
        The two site labels.
    landmark
        The landmark day (config clinical.landmark_days).

    Returns
    -------
    pandas.DataFrame
        patient, response_<reference>, response_<compare> (CR/PR, SD, PD or NE; empty when the
        site is not evaluable) and pattern: ``both`` (CR/PR at both sites), ``<reference>_only``,
        ``<compare>_only`` or ``neither``; empty unless the patient is evaluable at both sites.
    """
    groups = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    rows = {}
    for patient, site in responses[["patient", "site"]].itertuples(index=False):
        points = groups.get((patient, site), timepoints.iloc[0:0])
        rows.setdefault(patient, {})[site] = GROUP[best_by(points, landmark)]
    records = []
    for patient in sorted(rows):
        at = rows[patient]
        record = {
            "patient": patient,
            f"response_{reference}": at.get(reference, ""),
            f"response_{compare}": at.get(compare, ""),
            "pattern": "",
        }
        if reference in at and compare in at:
            hit = (at[reference] == "CR/PR", at[compare] == "CR/PR")
            names = {
                (True, True): "both",
                (True, False): f"{reference}_only",
                (False, True): f"{compare}_only",
                (False, False): "neither",
            }
            record["pattern"] = names[hit]
        records.append(record)
    columns = ["patient", f"response_{reference}", f"response_{compare}", "pattern"]
    return pd.DataFrame(records, columns=columns)


def at_risk(patients: pd.DataFrame, endpoint: str, landmark: float) -> tuple[pd.Series, dict]:
    """Which patients are event-free and followed at the landmark, for one endpoint.

    Parameters
    ----------
    patients
        The patient table (`survival.read_patients`).
    endpoint
        ``pfs`` or ``os``.
    landmark
        The landmark day.

    Returns
    -------
    tuple
        (boolean Series by patient: still at risk, i.e. time > landmark, or time equal to it and
        censored there; dict of the others: patient -> reason). Times are the input's own
        numbers, compared as given.
    """
    table = patients.set_index("patient")
    days, event = table[f"{endpoint}_days"], table[f"{endpoint}_event"]
    keep = (days > landmark) | ((days == landmark) & (event == 0))
    reasons = {}
    what = "progression or death" if endpoint == "pfs" else "death"
    for patient in table.index[~keep]:
        if pd.isna(days[patient]) or pd.isna(event[patient]):
            reasons[patient] = f"{endpoint}_days or {endpoint}_event missing"
        elif event[patient] == 1:
            reasons[patient] = f"{what} on day {days[patient]:g}, on or before the landmark"
        else:
            reasons[patient] = f"censored on day {days[patient]:g}, before the landmark"
    return keep, reasons


def shifted_patients(patients: pd.DataFrame, landmark: float) -> pd.DataFrame:
    """The patient table with each endpoint counted from the landmark, for its patients at risk.

    Parameters
    ----------
    patients
        The patient table.
    landmark
        The landmark day.

    Returns
    -------
    pandas.DataFrame
        The same rows; per endpoint, days minus the landmark where the patient is at risk then
        (`at_risk`), days and event missing otherwise.
    """
    shifted = patients.copy()
    for endpoint in ENDPOINTS:
        keep, _ = at_risk(patients, endpoint, landmark)
        keep = keep.to_numpy()
        shifted[f"{endpoint}_days"] = np.where(
            keep, patients[f"{endpoint}_days"] - landmark, np.nan
        )
        shifted[f"{endpoint}_event"] = np.where(keep, patients[f"{endpoint}_event"], np.nan)
    return shifted


def plot(
    patients: pd.DataFrame, groups: pd.DataFrame, table: pd.DataFrame, compare: str, landmark: float
) -> plt.Figure:
    """PFS and OS from the landmark by the compare site's response at the landmark.

    Parameters
    ----------
    patients
        The patient table.
    groups
        The per-patient table (`landmark_groups`).
    table
        The landmark table (`landmark_table`), source of the log-rank p.
    compare
        The compare site label.
    landmark
        The landmark day.

    Returns
    -------
    matplotlib.figure.Figure
        figures.kaplan_meier's two panels on the times from the landmark.
    """
    labels = groups.set_index("patient")[f"response_{compare}"].replace("", np.nan).dropna()
    grouping = f"{compare}_response"
    fig = figures.kaplan_meier(shifted_patients(patients, landmark), labels, grouping, table)
    for ax in fig.axes:
        ax.set_xlabel(f"days from the landmark (day {landmark:g})")
    fig.suptitle(
        f"Landmark analysis: {compare} response by day {landmark:g}, patients at risk then",
        fontsize=10,
    )
    return fig


def landmark_table(
    patients: pd.DataFrame,
    groups: pd.DataFrame,
    compare: str,
    landmark: float,
    exclusions: Exclusions | None = None,
) -> pd.DataFrame:
    """KM medians from the landmark and log-rank p by landmark response groups.

    Parameters
    ----------
    patients
        The patient table.
    groups
        The per-patient table (`landmark_groups`).
    compare
        The compare site label (grouping ``<compare>_response``).
    landmark
        The landmark day.
    exclusions
        When given, each patient the landmark leaves out of an endpoint is recorded with why.

    Returns
    -------
    pandas.DataFrame
        TABLE_COLUMNS: per endpoint, grouping (``response_pattern``, ``<compare>_response``) and
        group the `survival.km_table` statistics on times counted from the landmark, with
        n_at_risk (patients at risk at the landmark), n_excluded and excluded_patients (ids the
        landmark left out of that endpoint, comma-separated).
    """
    by_patient = groups.set_index("patient")
    labels = {
        "response_pattern": by_patient["pattern"].replace("", np.nan).dropna(),
        f"{compare}_response": by_patient[f"response_{compare}"].replace("", np.nan).dropna(),
    }
    tables = []
    for endpoint in ENDPOINTS:
        keep, reasons = at_risk(patients, endpoint, landmark)
        for patient, reason in reasons.items():
            if exclusions is not None:
                exclusions.add(
                    "patient",
                    patient,
                    f"{endpoint} landmark day {landmark:g}: {reason}",
                    patient=patient,
                )
        # km_table reads both endpoints; this endpoint's rows are the ones kept
        shifted = shifted_patients(patients, landmark)[keep.to_numpy()]
        table = km_table(shifted, labels)
        table = table[table["endpoint"] == endpoint]
        table.insert(0, "landmark_days", landmark)
        table["n_at_risk"] = int(keep.sum())
        table["n_excluded"] = len(reasons)
        table["excluded_patients"] = ",".join(sorted(reasons))
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table = table.rename(columns={"median_days": "median_days_from_landmark"})
    table["test"] = table["test"].astype(str) + f"; times from landmark day {landmark:g}"
    return table[TABLE_COLUMNS]
