"""Per-organ RECIST 1.1: each site's own lesions give its timepoint and best overall response."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError

RANK = {"CR": 4, "PR": 3, "SD": 2, "PD": 1, "NE": 0}
PD_RELATIVE = 1.2  # sum at least 20% above the nadir ...
PD_ABSOLUTE_MM = 5.0  # ... and at least 5 mm above it
PR_FRACTION = 0.7  # sum at most 70% of baseline (a 30% decrease)
NODE_NORMAL_MM = 10.0  # a nodal target under 10 mm short axis is normal


@dataclass(frozen=True)
class Options:
    """Optional RECIST refinements, off by default."""

    confirmation_days: int | None = None
    min_sd_days: int | None = None


def organ_to_site(organ_sites: dict[str, list[str]]) -> dict[str, str]:
    """Map each configured organ (lower case) to its site; an organ in two sites is an error."""
    mapping: dict[str, str] = {}
    for site, organs in organ_sites.items():
        for organ in organs:
            key = organ.strip().lower()
            if key in mapping and mapping[key] != site:
                raise InputError(
                    None,
                    f"config clinical.organ_sites: organ {organ!r} is in {mapping[key]} and {site}",
                )
            mapping[key] = site
    return mapping


def assign_sites(
    lesions: pd.DataFrame, organ_sites: dict[str, list[str]], path: str | Path | None = None
) -> pd.DataFrame:
    """Keep the lesions of configured organs and add their `site`; unseen organs are an error."""
    mapping = organ_to_site(organ_sites)
    seen = set(lesions["organ"])
    for organ, site in mapping.items():
        if organ not in seen:
            found = ", ".join(sorted(seen)) or "none"
            raise InputError(
                path,
                f"config clinical.organ_sites lists organ {organ!r} for {site}, but no lesion "
                f"has that organ (organs found: {found})",
                column="organ",
            )
    sited = lesions[lesions["organ"].isin(mapping)].copy()
    sited["site"] = sited["organ"].map(mapping)
    return sited


def _timepoint(
    day: float,
    rows: pd.DataFrame,
    targets: pd.DataFrame,
    non_targets: list[str],
    baseline_sum: float,
    nadir: float,
) -> dict:
    """Response of one site at one follow-up day."""
    at_day = rows[rows["day"] == day]
    measured = at_day[at_day["role"] == "target"].set_index("lesion")["diameter_mm"]
    complete = set(targets.index) <= set(measured.index)
    target_sum = float(measured.reindex(targets.index).fillna(0).sum())
    new_lesion = bool((at_day["role"] == "new").any())
    statuses = at_day[at_day["role"] == "non_target"].set_index("lesion")["status"]
    non_target_pd = bool((statuses == "progression").any())
    # A partial sum can only grow when the missing lesions are added, so it may still prove PD.
    sum_pd = target_sum >= PD_RELATIVE * nadir and target_sum - nadir >= PD_ABSOLUTE_MM
    reasons = [
        name
        for name, hit in (
            ("target_sum", sum_pd),
            ("new_lesion", new_lesion),
            ("non_target", non_target_pd),
        )
        if hit
    ]
    if reasons:
        response = "PD"
    elif not complete:
        response = "NE"
    else:
        diameters = measured.reindex(targets.index)
        nodal = targets["nodal"]
        targets_gone = bool(
            (diameters[~nodal] == 0).all() and (diameters[nodal] < NODE_NORMAL_MM).all()
        )
        non_targets_gone = all(statuses.get(lesion) == "absent" for lesion in non_targets)
        if targets_gone and non_targets_gone:
            response = "CR"
        elif target_sum <= PR_FRACTION * baseline_sum:
            response = "PR"
        else:
            response = "SD"
    change = 100.0 * (target_sum - baseline_sum) / baseline_sum if complete else np.nan
    return {
        "day": day,
        "target_sum_mm": target_sum if complete else np.nan,
        "change_pct": change,
        "nadir_mm": nadir,
        "new_lesion": new_lesion,
        "non_target_progression": non_target_pd,
        "complete": complete,
        "response": response,
        "pd_reason": "+".join(reasons),
    }


def _best_response(timepoints: pd.DataFrame, options: Options) -> tuple[str, float]:
    """Best response before the first PD (RECIST 1.1), with optional confirmation/SD duration."""
    best, first_pd_day = "NE", np.nan
    records = timepoints.to_dict("records")
    for position, point in enumerate(records):
        response = point["response"]
        if response == "PD":
            first_pd_day = point["day"]
            if best == "NE":
                best = "PD"
            break
        if response in ("CR", "PR") and options.confirmation_days:
            later = [
                other["response"]
                for other in records[position + 1 :]
                if other["day"] >= point["day"] + options.confirmation_days
            ]
            # Confirmation must come before any PD; stop looking at the first PD.
            later = later[: later.index("PD")] if "PD" in later else later
            confirms = {"CR"} if response == "CR" else {"CR", "PR"}
            if not any(other in confirms for other in later):
                response = "SD"
        if response == "SD" and options.min_sd_days and point["day"] < options.min_sd_days:
            response = "NE"
        if RANK[response] > RANK[best]:
            best = response
    return best, first_pd_day


def assess_site(rows: pd.DataFrame, options: Options) -> tuple[pd.DataFrame, dict] | None:
    """Timepoint responses and best response of one patient at one site; None if not evaluable."""
    tracked = rows[(rows["role"] != "new") & (rows["day"] <= 0)]
    baseline = tracked.sort_values("day").groupby("lesion").tail(1).set_index("lesion")
    targets = baseline[baseline["role"] == "target"][["diameter_mm", "nodal"]]
    if targets.empty:
        return None
    non_targets = baseline.index[baseline["role"] == "non_target"].tolist()
    baseline_sum = float(targets["diameter_mm"].sum())
    if baseline_sum <= 0:
        return None
    nadir = baseline_sum
    points = []
    for day in sorted(rows.loc[rows["day"] > 0, "day"].unique()):
        point = _timepoint(day, rows, targets, non_targets, baseline_sum, nadir)
        points.append(point)
        if point["complete"]:
            nadir = min(nadir, point["target_sum_mm"])
    timepoints = pd.DataFrame(
        points,
        columns=[
            "day",
            "target_sum_mm",
            "change_pct",
            "nadir_mm",
            "new_lesion",
            "non_target_progression",
            "complete",
            "response",
            "pd_reason",
        ],
    )
    best, first_pd_day = _best_response(timepoints, options)
    up_to_pd = (
        timepoints if np.isnan(first_pd_day) else timepoints[timepoints["day"] <= first_pd_day]
    )
    changes = up_to_pd["change_pct"].dropna()
    summary = {
        "baseline_sum_mm": baseline_sum,
        "n_target_lesions": len(targets),
        "n_assessments": len(timepoints),
        "first_day": timepoints["day"].iloc[0] if len(timepoints) else np.nan,
        "first_change_pct": timepoints["change_pct"].iloc[0] if len(timepoints) else np.nan,
        "best_change_pct": changes.min() if len(changes) else np.nan,
        "best_response": best,
        "first_pd_day": first_pd_day,
        "last_day": timepoints["day"].iloc[-1] if len(timepoints) else np.nan,
    }
    return timepoints, summary


def assess(
    lesions: pd.DataFrame, sites: list[str], options: Options
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All patients and sites: (timepoint table, organ response table).

    `lesions` carries a `site` column (assign_sites). A patient is evaluable at a site when it
    has a target lesion there at baseline; others are left out of both tables.
    """
    point_tables, summaries = [], []
    for (patient, site), rows in lesions.groupby(["patient", "site"], sort=True):
        if site not in sites:
            continue
        result = assess_site(rows, options)
        if result is None:
            continue
        timepoints, summary = result
        if len(timepoints):
            point_tables.append(timepoints.assign(patient=patient, site=site))
        summaries.append({"patient": patient, "site": site, **summary})
    timepoint_columns = ["patient", "site", "day", "target_sum_mm", "change_pct", "nadir_mm"]
    timepoint_columns += ["new_lesion", "non_target_progression", "complete", "response"]
    timepoint_columns += ["pd_reason"]
    timepoints = (
        pd.concat(point_tables, ignore_index=True)[timepoint_columns]
        if point_tables
        else pd.DataFrame(columns=timepoint_columns)
    )
    response_columns = ["patient", "site", "baseline_sum_mm", "first_change_pct"]
    response_columns += ["best_change_pct", "best_response", "n_target_lesions", "n_assessments"]
    response_columns += ["first_day", "first_pd_day", "last_day"]
    responses = pd.DataFrame(summaries, columns=response_columns)
    order = {site: position for position, site in enumerate(sites)}
    responses = responses.sort_values(["patient", "site"], key=lambda s: s.map(order).fillna(s))
    return timepoints, responses.reset_index(drop=True)
