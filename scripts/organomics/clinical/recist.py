"""Per-organ RECIST 1.1: each site's own lesions give its timepoint and best overall response."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions

log = logging.getLogger(__name__)

RANK = {"CR": 4, "PR": 3, "SD": 2, "PD": 1, "NE": 0}
# Every threshold is compared in exact integer arithmetic on sums in hundredths of a mm, the
# measurements' resolution: 90 -> 63 mm is exactly -30% (PR) and 15.4 -> 20.4 mm exactly +5 mm,
# where raw floats (63 / 90 = 0.7000000000000001, 20.4 - 15.4 = 4.999999999999998) misfire.
PD_PERCENT = 120  # sum at least 20% above the nadir ...
PD_ABSOLUTE = 500  # ... and at least 5 mm (500 hundredths) above it
PR_PERCENT = 70  # sum at most 70% of baseline (a 30% decrease)
NODE_NORMAL = 1000  # a nodal target under 10 mm (1000 hundredths) short axis is normal


def hundredths(diameter_mm: float) -> int:
    """A diameter in mm as integer hundredths of a mm, rounded half away from zero.

    Parameters
    ----------
    diameter_mm
        The measurement in mm (finite).

    Returns
    -------
    int
        round(100 * diameter_mm), computed on the number's shortest decimal form so that 7.7
        gives 770 and 0.125 gives 13 (never 12 through binary representation error).
    """
    return int((Decimal(repr(float(diameter_mm))) * 100).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class Options:
    """Optional RECIST refinements, off by default.

    Config clinical.confirmation_days, clinical.min_sd_days and the confirmation knobs
    clinical.confirmation_max_ne, confirmation_accept_sd and confirmation_before_pd (see
    `confirmed`); the defaults are the schema's (workflow/schemas/clinical.schema.yaml).
    """

    SCHEMA_SECTION: ClassVar[str] = "clinical"

    confirmation_days: int | None = None
    min_sd_days: int | None = None
    # The other knobs of admiralonco's confirmed BOR (derive_param_confirmed_bor); they act only
    # with confirmation_days. None/True keep the permissive rule used before they existed.
    confirmation_max_ne: int | None = None
    confirmation_accept_sd: bool | None = None
    confirmation_before_pd: bool = True


def organ_to_site(organ_sites: dict[str, list[str]]) -> dict[str, str]:
    """Map each configured organ (lower case) to its site; an organ in two sites is an error.

    Parameters
    ----------
    organ_sites
        Site label -> organs (config clinical.organ_sites).

    Returns
    -------
    dict
        Organ (stripped, lower case) -> site label.

    Raises
    ------
    organomics.errors.InputError
        An organ listed under two sites.
    """
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
    lesions: pd.DataFrame,
    organ_sites: dict[str, list[str]],
    path: str | Path | None = None,
    exclusions: Exclusions | None = None,
    log_level: int = logging.WARNING,
) -> pd.DataFrame:
    """Keep the lesions of configured organs and add their `site`.

    Parameters
    ----------
    lesions
        The checked lesion table (organs already stripped and lower case).
    organ_sites
        Site label -> organs (config clinical.organ_sites).
    path
        The lesion input, named in errors.
    exclusions
        When given, every lesion of an organ not in `organ_sites` is recorded with its organ.
    log_level
        Level of the per-organ message about the lesions left out: a warning by default; a
        caller that only checks the input (where the same input is read again later) may
        lower it.

    Returns
    -------
    pandas.DataFrame
        The lesions of configured organs with a `site` column. A configured organ that no lesion
        has is an error (a misspelling would otherwise empty a site); lesions of other organs are
        left out and, per organ, named in the log with their count.
    """
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
    known = lesions["organ"].isin(mapping)
    ignored = lesions[~known].drop_duplicates(["patient", "lesion"])
    configured = ", ".join(sorted(mapping))
    for organ, group in ignored.groupby("organ", sort=True):
        log.log(
            log_level,
            "organ %r is not in clinical.organ_sites (%s): %d lesions of %d patients ignored",
            organ,
            configured,
            len(group),
            group["patient"].nunique(),
        )
        if exclusions is not None:
            for _, row in group.iterrows():
                exclusions.add(
                    "lesion",
                    row["lesion"],
                    f"organ {organ!r} is not in clinical.organ_sites ({configured})",
                    patient=row["patient"],
                )
    sited = lesions[known].copy()
    sited["site"] = sited["organ"].map(mapping)
    return sited


def _timepoint(
    day: float,
    rows: pd.DataFrame,
    targets: pd.DataFrame,
    non_targets: list[str],
    baseline_sum: int,
    nadir: int,
) -> dict:
    """Response of one site at one follow-up day; sums in integer hundredths of a mm."""
    at_day = rows[rows["day"] == day]
    measured = at_day[at_day["role"] == "target"].set_index("lesion")["size"]
    complete = set(targets.index) <= set(measured.index)
    target_sum = int(measured.reindex(targets.index).fillna(0).sum())
    new_lesion = bool(new_lesion_present(at_day).any())
    statuses = at_day[at_day["role"] == "non_target"].set_index("lesion")["status"]
    non_target_pd = bool((statuses == "progression").any())
    # A partial sum can only grow when the missing lesions are added, so it may still prove PD.
    sum_pd = 100 * target_sum >= PD_PERCENT * nadir and target_sum - nadir >= PD_ABSOLUTE
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
        sizes = measured.reindex(targets.index)
        nodal = targets["nodal"]
        targets_gone = bool((sizes[~nodal] == 0).all() and (sizes[nodal] < NODE_NORMAL).all())
        non_targets_gone = all(statuses.get(lesion) == "absent" for lesion in non_targets)
        if targets_gone and non_targets_gone:
            response = "CR"
        elif 100 * target_sum <= PR_PERCENT * baseline_sum:
            response = "PR"
        else:
            response = "SD"
    change = 100.0 * (target_sum - baseline_sum) / baseline_sum if complete else np.nan
    return {
        "day": day,
        "target_sum_mm": target_sum / 100 if complete else np.nan,
        "change_pct": change,
        "nadir_mm": nadir / 100,
        "new_lesion": new_lesion,
        "non_target_progression": non_target_pd,
        "complete": complete,
        "response": response,
        "pd_reason": "+".join(reasons),
        "target_sum": target_sum,
    }


def new_lesion_present(rows: pd.DataFrame) -> pd.Series:
    """Which rows are new lesions still there: role `new`, not recorded absent nor at 0 mm.

    Parameters
    ----------
    rows
        Lesion rows with role, status and `size` (integer hundredths of a mm, may be missing).

    Returns
    -------
    pandas.Series
        Boolean per row. A new lesion recorded `absent` (or measured 0 mm) has resolved.
    """
    new = rows["role"] == "new"
    if not new.any():
        return new
    size = rows["size"] if "size" in rows.columns else pd.Series(pd.NA, index=rows.index)
    gone = (rows["status"] == "absent") | size.eq(0).fillna(False).astype(bool)
    return new & ~gone


def confirmed(responses: list[str], days: list[float], position: int, options: Options) -> bool:
    """Whether the CR or PR at `position` is confirmed by a later assessment.

    The rules of admiralonco's derive_param_confirmed_bor: a CR needs a later CR, a PR a later
    CR or PR, at least `confirmation_days` on. With `confirmation_accept_sd` set (True or
    False), every assessment in between must be CR or NE for a CR, and CR, PR, SD or NE for a
    PR, no PR may follow a CR in the confirmation period, and at most one SD (True) or none
    (False) may sit between a PR and its confirmation; None accepts any assessment in between
    (the rule before these knobs). `confirmation_max_ne` caps the NE assessments in between
    (None: no cap). With `confirmation_before_pd` the confirming assessment must precede any PD.

    Parameters
    ----------
    responses
        The site's timepoint responses (CR, PR, SD, PD, NE) in day order.
    days
        Their days.
    position
        Index of the CR or PR to confirm.
    options
        confirmation_days (must be set) and the confirmation knobs.

    Returns
    -------
    bool
        True when some later assessment confirms it under every rule.
    """
    response = responses[position]
    confirms = {"CR"} if response == "CR" else {"CR", "PR"}
    strict = options.confirmation_accept_sd is not None
    allowed = {"CR", "NE"} if response == "CR" else {"CR", "PR", "SD", "NE"}
    max_sd = 1 if options.confirmation_accept_sd else 0
    n_ne = n_sd = 0
    seen_cr = False
    for later in range(position + 1, len(responses)):
        other = responses[later]
        if other == "PD" and options.confirmation_before_pd:
            return False  # PR, PD, PR is not a confirmed PR
        pr_after_cr = strict and response == "PR" and seen_cr and other == "PR"
        far_enough = days[later] >= days[position] + options.confirmation_days
        if other in confirms and far_enough and not pr_after_cr:
            return True
        # Not the confirmation: it sits between the response and any later one.
        if strict and (other not in allowed or pr_after_cr):
            return False
        n_ne += other == "NE"
        if options.confirmation_max_ne is not None and n_ne > options.confirmation_max_ne:
            return False
        n_sd += other == "SD"
        if strict and n_sd > max_sd:
            return False
        seen_cr = seen_cr or other == "CR"
    return False


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
            responses = [other["response"] for other in records]
            days = [other["day"] for other in records]
            if not confirmed(responses, days, position, options):
                response = "SD"
        if response == "SD" and options.min_sd_days and point["day"] < options.min_sd_days:
            response = "NE"
        if RANK[response] > RANK[best]:
            best = response
    return best, first_pd_day


def not_evaluable(rows: pd.DataFrame) -> str | None:
    """Why one patient's lesions at one site give no RECIST response, or None when they do.

    Parameters
    ----------
    rows
        The patient's lesion rows at the site, with `size` (integer hundredths of a mm).

    Returns
    -------
    str or None
        The reason: no lesion tracked from baseline, no target lesion at baseline, or a baseline
        target sum of 0 mm (percent changes from it are undefined).
    """
    tracked = rows[(rows["role"] != "new") & (rows["day"] <= 0)]
    if tracked.empty:
        return "no lesion assessed at baseline (day <= 0) at this site"
    baseline = tracked.sort_values("day").groupby("lesion").tail(1)
    targets = baseline[baseline["role"] == "target"]
    if targets.empty:
        return "no target lesion at baseline (only non-target lesions)"
    if int(targets["size"].sum()) <= 0:
        names = ", ".join(sorted(targets["lesion"]))
        return f"baseline target sum is 0 mm (targets {names}); percent change is undefined"
    return None


def _with_sizes(rows: pd.DataFrame) -> pd.DataFrame:
    """Add `size`: each diameter in integer hundredths of a mm (missing stays missing)."""
    sizes = [np.nan if pd.isna(value) else hundredths(value) for value in rows["diameter_mm"]]
    return rows.assign(size=pd.array(sizes, dtype="Int64"))


def assess_site(rows: pd.DataFrame, options: Options) -> tuple[pd.DataFrame, dict] | None:
    """Timepoint responses and best response of one patient at one site; None if not evaluable.

    Parameters
    ----------
    rows
        One patient's lesion rows at one site.
    options
        Confirmation and minimum-SD settings.

    Returns
    -------
    tuple or None
        (timepoint table, summary dict), or None when `not_evaluable` gives a reason.
    """
    rows = _with_sizes(rows)
    if not_evaluable(rows) is not None:
        return None
    tracked = rows[(rows["role"] != "new") & (rows["day"] <= 0)]
    baseline = tracked.sort_values("day").groupby("lesion").tail(1).set_index("lesion")
    targets = baseline[baseline["role"] == "target"][["size", "nodal"]]
    non_targets = baseline.index[baseline["role"] == "non_target"].tolist()
    baseline_sum = int(targets["size"].sum())
    nadir = baseline_sum
    points = []
    for day in sorted(rows.loc[rows["day"] > 0, "day"].unique()):
        point = _timepoint(day, rows, targets, non_targets, baseline_sum, nadir)
        points.append(point)
        if point["complete"]:
            nadir = min(nadir, point["target_sum"])
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
        "baseline_sum_mm": baseline_sum / 100,
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
    lesions: pd.DataFrame,
    reference: str,
    compare: str,
    options: Options,
    exclusions: Exclusions | None = None,
    patients: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All patients and sites: (timepoint table, organ response table).

    Parameters
    ----------
    lesions
        Lesion rows with a `site` column (assign_sites).
    reference, compare
        The two site labels (each patient's rows: reference first).
    options
        Confirmation and minimum-SD settings.
    exclusions
        When given, every patient not evaluable at a site is recorded with the reason.
    patients
        All patients of the input (default: those in `lesions`), so that a patient whose lesions
        are all elsewhere is recorded too.

    Returns
    -------
    tuple of pandas.DataFrame
        A patient is evaluable at a site when it has a target lesion there at baseline with a
        sum above 0 mm; others are left out of both tables (and recorded in `exclusions`).
    """
    point_tables, summaries = [], []
    everyone = sorted(set(patients if patients is not None else lesions["patient"]))
    groups = dict(iter(lesions.groupby(["patient", "site"], sort=True)))
    for patient in everyone:
        for site in (reference, compare):
            rows = groups.get((patient, site))
            reason = "no lesion at this site" if rows is None else not_evaluable(_with_sizes(rows))
            if reason is not None:
                if exclusions is not None:
                    exclusions.add("patient", patient, reason, patient=patient, site=site)
                continue
            timepoints, summary = assess_site(rows, options)
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
    order = {reference: 0, compare: 1}
    responses = responses.sort_values(["patient", "site"], key=lambda s: s.map(order).fillna(s))
    return timepoints, responses.reset_index(drop=True)
