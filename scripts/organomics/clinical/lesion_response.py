"""Lesion-level view: each target lesion's change, response timing and mixed progression at PD."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.clinical.recist import (
    PD_ABSOLUTE,
    PD_PERCENT,
    PR_PERCENT,
    hundredths,
)
from organomics.plots import SITE_COLOURS

RESPONDER = ("CR", "PR")
LESION_COLUMNS = ["patient", "lesion", "organ", "site", "nodal", "baseline_mm", "n_scans"]
LESION_COLUMNS += ["best_change_pct", "best_day", "responded", "first_response_day"]
LESION_COLUMNS += ["site_response_day", "with_site", "synchronous_with_site", "other_site"]
LESION_COLUMNS += ["other_site_response_day", "with_other_site", "synchronous_with_other_site"]
LESION_COLUMNS += ["first_pd_day", "state_at_first_pd"]
MIXED_COLUMNS = ["patient", "first_pd_day", "pd_sites", "n_measured", "n_growing"]
MIXED_COLUMNS += ["n_shrinking", "n_stable", "mixed", "growing_lesions", "shrinking_lesions"]


def lesion_state(size: int, baseline: int, nadir: int) -> str:
    """A target lesion's state at one scan, by the RECIST thresholds applied to the lesion alone.

    Parameters
    ----------
    size, baseline, nadir
        Its diameter now, at baseline and its smallest earlier diameter (baseline included), in
        integer hundredths of a mm (recist.hundredths).

    Returns
    -------
    str
        ``growing`` (>= 20% and >= 5 mm above its nadir), ``shrinking`` (<= 70% of its baseline,
        i.e. at least 30% smaller) or ``stable``; exact integer comparisons as in recist.py.
    """
    if 100 * size >= PD_PERCENT * nadir and size - nadir >= PD_ABSOLUTE:
        return "growing"
    if baseline > 0 and 100 * size <= PR_PERCENT * baseline:
        return "shrinking"
    return "stable"


def _site_response_day(points: pd.DataFrame | None, best: str | None, first_pd: float) -> float:
    """First CR/PR scan day before the site's first PD when its best response is CR/PR."""
    if points is None or best not in RESPONDER:
        return math.nan
    before = points if math.isnan(first_pd) else points[points["day"] < first_pd]
    days = before.loc[before["response"].isin(RESPONDER), "day"]
    return float(days.min()) if len(days) else math.nan


def lesion_table(
    lesions: pd.DataFrame,
    timepoints: pd.DataFrame,
    responses: pd.DataFrame,
    reference: str,
    compare: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per target lesion: best change, first response, its synchrony with both sites; mixed PD.

    Parameters
    ----------
    lesions
        The checked lesion table with `site` (recist.assign_sites).
    timepoints
        The timepoint response table.
    responses
        The organ response table (evaluable patients and sites, best_response, first_pd_day).
    reference, compare
        The two site labels.

    Returns
    -------
    tuple of pandas.DataFrame
        (lesions, mixed). `lesions`: LESION_COLUMNS, one row per baseline target lesion of an
        evaluable patient and site. Best change and response use the scans up to and including
        the site's first PD, as for the site; a lesion responded when it is at least 30% below
        its baseline (integer hundredths). with_site / with_other_site: the lesion and that site
        both responded; synchronous_*: and on the same scan day. state_at_first_pd: the lesion
        at the patient's first PD at any site (``growing``, ``shrinking``, ``stable``, ``not
        measured``). `mixed`: per patient with a PD, the counts at that scan; mixed when some
        lesions grow while others shrink.
    """
    best = responses.set_index(["patient", "site"])
    points = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    targets = lesions[lesions["role"] == "target"]
    rows, mixed_rows = [], []
    for patient, patient_rows in targets.groupby("patient", sort=True):
        sites = [s for s in (reference, compare) if (patient, s) in best.index]
        pd_days = {s: float(best.loc[(patient, s), "first_pd_day"]) for s in sites}
        response_day = {
            s: _site_response_day(
                points.get((patient, s)), best.loc[(patient, s), "best_response"], pd_days[s]
            )
            for s in sites
        }
        known = [day for day in pd_days.values() if not math.isnan(day)]
        patient_pd = min(known) if known else math.nan
        states = {}
        for lesion, history in patient_rows.groupby("lesion", sort=True):
            site = history["site"].iloc[0]
            if site not in sites:
                continue
            history = history.dropna(subset=["diameter_mm"]).sort_values("day")
            before = history[history["day"] <= 0]
            if before.empty:
                continue
            baseline = hundredths(before["diameter_mm"].iloc[-1])
            on = history[history["day"] > 0]
            sizes = [
                (float(d), hundredths(v)) for d, v in zip(on["day"], on["diameter_mm"], strict=True)
            ]
            cut = pd_days[site]
            counted = [(d, s) for d, s in sizes if math.isnan(cut) or d <= cut]
            changes = [(100.0 * (s - baseline) / baseline, d) for d, s in counted if baseline]
            best_change, best_day = min(changes) if changes else (math.nan, math.nan)
            hits = [d for d, s in counted if baseline and 100 * s <= PR_PERCENT * baseline]
            first_hit = hits[0] if hits else math.nan
            state = "not measured"
            nadir = baseline
            for day, size in sizes:
                if day == patient_pd:  # scan days are the input's own numbers
                    state = lesion_state(size, baseline, nadir)
                    break
                nadir = min(nadir, size)
            states[lesion] = state
            other = compare if site == reference else reference
            other_day = response_day.get(other, math.nan)
            responded = bool(hits)
            rows.append(
                {
                    "patient": patient,
                    "lesion": lesion,
                    "organ": history["organ"].iloc[0],
                    "site": site,
                    "nodal": bool(history["nodal"].iloc[0]),
                    "baseline_mm": baseline / 100,
                    "n_scans": len(counted),
                    "best_change_pct": best_change,
                    "best_day": best_day,
                    "responded": responded,
                    "first_response_day": first_hit,
                    "site_response_day": response_day[site],
                    "with_site": responded and not math.isnan(response_day[site]),
                    "synchronous_with_site": responded and first_hit == response_day[site],
                    "other_site": other if other in sites else "",
                    "other_site_response_day": other_day,
                    "with_other_site": responded and not math.isnan(other_day),
                    "synchronous_with_other_site": responded and first_hit == other_day,
                    "first_pd_day": patient_pd,
                    "state_at_first_pd": state if not math.isnan(patient_pd) else "",
                }
            )
        if not math.isnan(patient_pd) and states:
            counts = pd.Series(list(states.values())).value_counts()
            growing = sorted(k for k, v in states.items() if v == "growing")
            shrinking = sorted(k for k, v in states.items() if v == "shrinking")
            mixed_rows.append(
                {
                    "patient": patient,
                    "first_pd_day": patient_pd,
                    "pd_sites": ",".join(s for s in sites if pd_days[s] == patient_pd),
                    "n_measured": int(len(states) - counts.get("not measured", 0)),
                    "n_growing": len(growing),
                    "n_shrinking": len(shrinking),
                    "n_stable": int(counts.get("stable", 0)),
                    "mixed": bool(growing and shrinking),
                    "growing_lesions": ",".join(growing),
                    "shrinking_lesions": ",".join(shrinking),
                }
            )
    return (
        pd.DataFrame(rows, columns=LESION_COLUMNS),
        pd.DataFrame(mixed_rows, columns=MIXED_COLUMNS),
    )


def waterfall(table: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Best % change of every target lesion, sorted, bars coloured by organ.

    Parameters
    ----------
    table
        The lesion table (`lesion_table`).
    reference, compare
        The two site labels: the organs of the reference site in blues, the compare site's in
        reds (the site colours of every figure), others grey.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per lesion with a change, with the +20% and -30% lines.
    """
    data = table.dropna(subset=["best_change_pct"]).sort_values("best_change_pct", ascending=False)
    organs = data[["organ", "site"]].drop_duplicates().sort_values(["site", "organ"])
    shades = {reference: plt.cm.Blues, compare: plt.cm.Reds}
    colours = {}
    for site, group in organs.groupby("site"):
        for index, organ in enumerate(group["organ"]):
            if len(group) == 1:
                base = SITE_COLOURS[0] if site == reference else SITE_COLOURS[1]
                colours[organ] = base if site in (reference, compare) else "0.6"
            else:
                colours[organ] = shades.get(site, plt.cm.Greys)(0.45 + 0.5 * index / len(group))
    fig, ax = plt.subplots(figsize=(max(6, 0.05 * len(data)), 4))
    x = np.arange(len(data))
    ax.bar(x, data["best_change_pct"], width=1.0, color=data["organ"].map(colours).tolist())
    for level, style in ((20, "--"), (-30, ":")):
        ax.axhline(level, color="0.3", lw=0.8, ls=style)
    ax.axhline(0, color="black", lw=0.6)
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colours[row.organ], label=f"{row.organ} ({row.site})")
        for row in organs.itertuples()
    ]
    ax.legend(handles=handles, frameon=False, fontsize=8)
    ax.set_xticks([])
    ax.set_xlabel(f"target lesions (n = {len(data)})")
    ax.set_ylabel("best change in diameter (%)")
    ax.set_title("Lesion-level best response (dashed +20%, dotted -30%)")
    return fig
