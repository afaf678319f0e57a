"""Kaplan-Meier PFS and OS by response group (R survival's median rule), log-rank tests."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.tables import read_table, to_number

ENDPOINTS = ("pfs", "os")
# R's quantile.survfit tolerance, used only on the (irrational) confidence curves; the survival
# estimate itself is an exact product of integer ratios and is compared with 0.5 exactly.
R_TOLERANCE = math.sqrt(np.finfo(float).eps)
REQUIRED = ("patient", "pfs_days", "pfs_event", "os_days", "os_event")
KM_COLUMNS = ["endpoint", "grouping", "group", "n", "events", "median_days", "median_ci_low"]
KM_COLUMNS += ["median_ci_high", "logrank_p", "test"]


def read_patients(path: str | Path) -> pd.DataFrame:
    """The patient (survival) table, checked.

    Parameters
    ----------
    path
        TSV/CSV with patient, pfs_days, pfs_event, os_days, os_event; other columns kept.

    Returns
    -------
    pandas.DataFrame
        Durations in days (>= 0, may be empty) and events 0/1 (may be empty). Text in a number
        column, a negative duration, an event other than 0/1, an empty or repeated patient id
        raise InputError naming the row and column.
    """
    table = read_table(path, required=REQUIRED)
    empty = table["patient"].isna() | (table["patient"].astype(str).str.strip() == "")
    for position in np.flatnonzero(empty.to_numpy())[:1]:
        raise InputError(path, "patient id is empty", row=int(position) + 2, column="patient")
    table["patient"] = table["patient"].astype(str).str.strip()
    for endpoint in ENDPOINTS:
        for suffix in ("days", "event"):
            column = f"{endpoint}_{suffix}"
            table[column] = to_number(table, column, path, allow_missing=True)
        checks = (
            ("event", ~table[f"{endpoint}_event"].isin([0, 1]), "must be 0 (censored) or 1"),
            ("days", table[f"{endpoint}_days"] < 0, "must be >= 0"),
        )
        for suffix, bad, rule in checks:
            bad = bad & table[f"{endpoint}_{suffix}"].notna()
            for position in np.flatnonzero(bad.to_numpy())[:1]:
                column = f"{endpoint}_{suffix}"
                raise InputError(
                    path,
                    f"patient {table['patient'].iloc[position]}: {column} {rule}, got "
                    f"{table[column].iloc[position]:g}",
                    row=int(position) + 2,
                    column=column,
                )
    repeated = table["patient"].duplicated()
    for position in np.flatnonzero(repeated.to_numpy())[:1]:
        raise InputError(
            path,
            f"patient {table['patient'].iloc[position]} appears twice",
            row=int(position) + 2,
            column="patient",
        )
    return table


def response_groups(
    responses: pd.DataFrame, mixed: pd.DataFrame, compare: str
) -> dict[str, pd.Series]:
    """Per-patient groupings: the mixed-response pattern and the compare site's best response.

    Parameters
    ----------
    responses
        The organ response table.
    mixed
        The mixed response table.
    compare
        The compare site label.

    Returns
    -------
    dict of pandas.Series
        ``{"mixed_response": pattern, "<compare>_response": CR/PR, SD, PD or NE}``, each indexed
        by patient.
    """
    best = responses[responses["site"] == compare].set_index("patient")["best_response"]
    compare_group = best.map({"CR": "CR/PR", "PR": "CR/PR", "SD": "SD", "PD": "PD", "NE": "NE"})
    return {
        "mixed_response": mixed.set_index("patient")["pattern"],
        f"{compare}_response": compare_group,
    }


def kaplan_meier(durations, events, level: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier curve at every distinct time, as R's survfit gives it (conf.type "log").

    Parameters
    ----------
    durations
        Times (>= 0).
    events
        1 for an event, 0 for censored.
    level
        Confidence level of the pointwise interval.

    Returns
    -------
    pandas.DataFrame
        time, n_risk, n_event, surv (exact Fraction), surv_float, lower, upper. The interval is
        exp(log S -/+ z * Greenwood SE), the upper limit capped at 1, missing where S = 0.
    """
    data = pd.DataFrame({"time": np.asarray(durations, float), "event": np.asarray(events, int)})
    from scipy.stats import norm  # here, not at import: the Snakefile parse imports this module

    z = norm.ppf(0.5 + level / 2)
    rows, surv, variance, at_risk = [], Fraction(1), 0.0, len(data)
    for time, group in data.groupby("time", sort=True):
        deaths = int(group["event"].sum())
        if deaths:
            surv *= Fraction(at_risk - deaths, at_risk)
            variance += math.inf if deaths == at_risk else deaths / (at_risk * (at_risk - deaths))
        value = float(surv)
        if surv > 0 and math.isfinite(variance):
            spread = z * math.sqrt(variance)
            lower = math.exp(math.log(value) - spread)
            upper = min(1.0, math.exp(math.log(value) + spread))
        else:
            lower = upper = math.nan
        rows.append((time, at_risk, deaths, surv, value, lower, upper))
        at_risk -= len(group)
    columns = ["time", "n_risk", "n_event", "surv", "surv_float", "lower", "upper"]
    return pd.DataFrame(rows, columns=columns)


def _quantile(times, cdf, p, exact: bool) -> float:
    """R survival's findq: the first time the distribution reaches p; midpoint on a flat at p.

    Where 1 - S equals p over an interval, R returns the midpoint of its start and the next time
    the curve drops (or the last observed time when it never drops again). `exact` compares
    Fractions exactly; otherwise R's tolerance applies (the confidence curves).
    """
    x = [0.0, *(float(time) for time in times)]
    y = [Fraction(0) if exact else 0.0, *cdf]
    present = [value for value in y if not (isinstance(value, float) and math.isnan(value))]
    if max(present) < p:
        return math.nan
    last_time = x[-1]
    kept_x, kept_y, seen, seen_nan = [], [], set(), False
    for time, value in zip(x, y, strict=True):
        missing = isinstance(value, float) and math.isnan(value)
        if (missing and seen_nan) or (not missing and value in seen):
            continue
        seen_nan = seen_nan or missing
        if not missing:
            seen.add(value)
        kept_x.append(time)
        kept_y.append(value)
    last = kept_y[-1]
    pairs = [
        (time, value)
        for time, value in zip(kept_x, kept_y, strict=True)
        if not (isinstance(value, float) and math.isnan(value))
    ]
    tolerance = 0 if exact else R_TOLERANCE
    reach = [time for time, value in pairs if value + tolerance >= p]
    beyond = [time for time, value in pairs if (value > p if exact else value - tolerance >= p)]
    quantile = (reach[0] + beyond[0]) / 2 if reach and beyond else math.nan
    last_missing = isinstance(last, float) and math.isnan(last)
    at_last = not last_missing and (last == p if exact else abs(p - last) < tolerance)
    if at_last and reach:
        quantile = (reach[0] + last_time) / 2
    return quantile


def median_survival(durations, events, level: float = 0.95) -> tuple[float, float, float]:
    """KM median and its confidence interval by R survival's definition (quantile.survfit).

    Parameters
    ----------
    durations
        Times (>= 0).
    events
        1 for an event, 0 for censored.
    level
        Confidence level.

    Returns
    -------
    tuple of float
        (median, lower, upper); NaN where the curve (or a confidence curve) never reaches 0.5.
        Six uncensored events at days 10..60 give 35, the midpoint of the flat S = 0.5 on
        [30, 40), as R does.
    """
    curve = kaplan_meier(durations, events, level)
    half = Fraction(1, 2)
    median = _quantile(curve["time"], [1 - value for value in curve["surv"]], half, exact=True)
    lower = _quantile(curve["time"], (1 - curve["lower"]).tolist(), 0.5, exact=False)
    upper = _quantile(curve["time"], (1 - curve["upper"]).tolist(), 0.5, exact=False)
    return median, lower, upper


def km_table(
    patients: pd.DataFrame,
    groups: dict[str, pd.Series],
    exclusions: Exclusions | None = None,
    lesion_patients: set[str] | None = None,
) -> pd.DataFrame:
    """Per endpoint, grouping and group: n, events, KM median with 95% CI, log-rank p.

    Parameters
    ----------
    patients
        The patient table (read_patients).
    groups
        Grouping name -> group label per patient.
    exclusions
        When given, each patient left out of a grouping's analysis is recorded with the reason
        (not in the lesion input, no response group, or a missing duration or event).
    lesion_patients
        The patients of the lesion input, to tell "not in the lesion input" from "no group".

    Returns
    -------
    pandas.DataFrame
        One row per endpoint, grouping and group; no rows (with the columns) when no patient of
        the table has a group.
    """
    rows = []
    table = patients.set_index("patient")
    for endpoint in ENDPOINTS:
        for grouping, labels in groups.items():
            data = table[[f"{endpoint}_days", f"{endpoint}_event"]]
            data = data.join(labels.rename("group"), how="left")
            if exclusions is not None:
                for patient in data.index[data["group"].isna()]:
                    unknown = lesion_patients is not None and patient not in lesion_patients
                    why = (
                        "not in the lesion input"
                        if unknown
                        else f"no {grouping} group (not evaluable at the site(s) it needs)"
                    )
                    exclusions.add(
                        "patient", patient, f"{endpoint}, {grouping}: {why}", patient=patient
                    )
                incomplete = data["group"].notna() & data.drop(columns="group").isna().any(axis=1)
                for patient in data.index[incomplete]:
                    exclusions.add(
                        "patient",
                        patient,
                        f"{endpoint}, {grouping}: {endpoint}_days or {endpoint}_event missing",
                        patient=patient,
                    )
            data = data.dropna()
            if data.empty:
                continue
            durations, events = data[f"{endpoint}_days"], data[f"{endpoint}_event"]
            n_groups = data["group"].nunique()
            # lifelines imported here: the Snakefile parse imports this module
            from lifelines.statistics import multivariate_logrank_test

            p_value = (
                multivariate_logrank_test(durations, data["group"], events).p_value
                if n_groups > 1
                else np.nan
            )
            for group, subset in data.groupby("group"):
                median, low, high = median_survival(
                    subset[f"{endpoint}_days"], subset[f"{endpoint}_event"]
                )
                rows.append(
                    {
                        "endpoint": endpoint,
                        "grouping": grouping,
                        "group": group,
                        "n": len(subset),
                        "events": int(subset[f"{endpoint}_event"].sum()),
                        "median_days": median,
                        "median_ci_low": low,
                        "median_ci_high": high,
                        "logrank_p": p_value,
                        "test": f"log-rank across {n_groups} groups (n = {len(data)})",
                    }
                )
    # A limit that is never reached is left empty (NaN), as R prints NA.
    return pd.DataFrame(rows, columns=KM_COLUMNS)
