"""Per-organ time to event: time to organ progression, duration of organ response, first organ."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from organomics.clinical.survival import kaplan_meier, median_survival
from organomics.excluded import Exclusions
from organomics.plots import SITE_COLOURS

RESPONDER = ("CR", "PR")
PER_SITE_COLUMNS = ["patient", "site", "best_response", "ttop_days", "ttop_event"]
PER_SITE_COLUMNS += ["response_onset_day", "dor_days", "dor_event"]
SUMMARY_COLUMNS = ["analysis", "site", "n", "events", "median_days", "median_ci_low"]
SUMMARY_COLUMNS += ["median_ci_high", "effect", "effect_measure", "p_value", "test", "correction"]
KM_TEST = (
    "Kaplan-Meier, 95% CI (R survival median rule); descriptive per site: the two sites are the "
    "same patients, so no log-rank between them (paired test: first_progression)"
)


def _onset(points: pd.DataFrame, first_pd_day: float) -> float:
    """Day of the first CR or PR scan before the site's first PD (NaN when none)."""
    before = points if math.isnan(first_pd_day) else points[points["day"] < first_pd_day]
    hits = before.loc[before["response"].isin(RESPONDER), "day"]
    return float(hits.min()) if len(hits) else math.nan


def organ_times(
    timepoints: pd.DataFrame, responses: pd.DataFrame, exclusions: Exclusions | None = None
) -> pd.DataFrame:
    """Time to organ progression and duration of organ response per patient and site.

    Time to organ progression (TTOP) runs from treatment start (day 0) to the site's first PD
    under RECIST 1.1 (event), else to its last scan (censored). Death without a PD at the site
    censors it at the last scan: TTOP is organ-specific, not PFS. Duration of organ response
    (DoR) runs, for a site whose best response is CR or PR, from its first CR/PR scan to its
    first PD (event) or last scan (censored).

    Parameters
    ----------
    timepoints
        The timepoint response table (patient, site, day, response).
    responses
        The organ response table (best_response, first_pd_day, last_day).
    exclusions
        When given, each evaluable patient and site without an on-treatment scan is recorded.

    Returns
    -------
    pandas.DataFrame
        patient, site, best_response, ttop_days, ttop_event (1/0), response_onset_day,
        dor_days, dor_event (empty unless the site responded); one row per evaluable patient
        and site with at least one on-treatment scan, in the order of `responses`.
    """
    groups = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    rows = []
    for response in responses.itertuples(index=False):
        points = groups.get((response.patient, response.site))
        if points is None or points.empty:
            if exclusions is not None:
                exclusions.add(
                    "patient",
                    response.patient,
                    "no on-treatment scan at this site: no time to organ progression",
                    patient=response.patient,
                    site=response.site,
                )
            continue
        first_pd = float(response.first_pd_day)
        progressed = not math.isnan(first_pd)
        end = first_pd if progressed else float(points["day"].max())
        row = {
            "patient": response.patient,
            "site": response.site,
            "best_response": response.best_response,
            "ttop_days": end,
            "ttop_event": int(progressed),
            "response_onset_day": math.nan,
            "dor_days": math.nan,
            "dor_event": math.nan,
        }
        if response.best_response in RESPONDER:
            onset = _onset(points, first_pd)
            row.update(response_onset_day=onset, dor_days=end - onset, dor_event=int(progressed))
        rows.append(row)
    table = pd.DataFrame(rows, columns=PER_SITE_COLUMNS)
    return table.astype({"ttop_event": int, "dor_event": "Int64"})


def first_progression(times: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """Which organ progresses first, per patient with times at both sites.

    Parameters
    ----------
    times
        The per-site table (`organ_times`).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        patient, pd_day_<site> and follow_up_<site> for both sites, first: the site label that
        progressed first, ``same_day``, ``neither`` (no PD at either site), or ``undetermined``
        (one site progressed after the other's follow-up had ended, so the order is unknown).
        A site without PD but scanned up to or past the other's PD day counts as later.
    """
    wide = times.pivot(index="patient", columns="site", values=["ttop_days", "ttop_event"])
    wide = wide.dropna()
    rows = []
    for patient, row in wide.iterrows():
        day = {site: row[("ttop_days", site)] for site in (reference, compare)}
        event = {site: bool(row[("ttop_event", site)]) for site in (reference, compare)}
        if event[reference] and event[compare]:
            if day[reference] == day[compare]:  # scan days are the input's own numbers
                first = "same_day"
            else:
                first = reference if day[reference] < day[compare] else compare
        elif event[reference] or event[compare]:
            site = reference if event[reference] else compare
            other = compare if site == reference else reference
            first = site if day[other] >= day[site] else "undetermined"
        else:
            first = "neither"
        record = {"patient": patient}
        for site in (reference, compare):
            record[f"pd_day_{site}"] = day[site] if event[site] else math.nan
            record[f"follow_up_{site}"] = day[site]
        record["first"] = first
        rows.append(record)
    columns = ["patient"]
    for site in (reference, compare):
        columns += [f"pd_day_{site}", f"follow_up_{site}"]
    return pd.DataFrame(rows, columns=[*columns, "first"])


def summary(times: pd.DataFrame, first: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """KM medians of TTOP and DoR per site, and the exact binomial test on the first organ.

    Parameters
    ----------
    times
        The per-site table (`organ_times`).
    first
        The per-patient table (`first_progression`).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        Rows time_to_progression and duration_of_response per site (n, events, median and 95%
        CI by R survival's rule; empty = not reached) and one first_progression row: n (patients
        with both sites), events (discordant patients), effect (share of the discordant patients
        whose compare site progressed first), exact two-sided binomial p (H0 0.5).
    """
    rows = []
    for analysis, prefix in (("time_to_progression", "ttop"), ("duration_of_response", "dor")):
        for site in (reference, compare):
            data = times[times["site"] == site].dropna(subset=[f"{prefix}_days"])
            n = len(data)
            median = low = high = math.nan
            if n:
                durations = data[f"{prefix}_days"].astype(float)
                events = data[f"{prefix}_event"].astype(int)
                median, low, high = median_survival(durations, events)
            rows.append(
                {
                    "analysis": analysis,
                    "site": site,
                    "n": n,
                    "events": int(data[f"{prefix}_event"].astype(int).sum()) if n else 0,
                    "median_days": median,
                    "median_ci_low": low,
                    "median_ci_high": high,
                    "effect": math.nan,
                    "effect_measure": "",
                    "p_value": math.nan,
                    "test": KM_TEST,
                    "correction": "",
                }
            )
    counts = first["first"].value_counts()
    reference_first, compare_first = int(counts.get(reference, 0)), int(counts.get(compare, 0))
    discordant = reference_first + compare_first
    rows.append(
        {
            "analysis": "first_progression",
            "site": f"{reference} vs {compare}",
            "n": len(first),
            "events": discordant,
            "median_days": math.nan,
            "median_ci_low": math.nan,
            "median_ci_high": math.nan,
            "effect": compare_first / discordant if discordant else math.nan,
            "effect_measure": (
                f"share of discordant patients whose {compare} progressed first "
                f"({reference} first {reference_first}, {compare} first {compare_first}, same day "
                f"{int(counts.get('same_day', 0))}, neither {int(counts.get('neither', 0))}, "
                f"undetermined {int(counts.get('undetermined', 0))})"
            ),
            "p_value": binomtest(compare_first, discordant, 0.5).pvalue if discordant else 1.0,
            "test": "exact binomial on the discordant patients (H0 = 0.5), two-sided",
            "correction": "none (one test)",
        }
    )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def plot(times: pd.DataFrame, table: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """KM curves of time to organ progression and duration of organ response, one line per site.

    Parameters
    ----------
    times
        The per-site table (`organ_times`).
    table
        The summary table (`summary`), for the medians in the legend and the test in the title.
    reference, compare
        The two site labels (coloured as everywhere).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; censored times are ticks on the curves.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    titles = {
        "ttop": "Time to organ progression",
        "dor": "Duration of organ response (CR/PR)",
    }
    analyses = {"ttop": "time_to_progression", "dor": "duration_of_response"}
    for ax, prefix in zip(axes, ("ttop", "dor"), strict=True):
        for site, colour in zip((reference, compare), SITE_COLOURS, strict=True):
            data = times[times["site"] == site].dropna(subset=[f"{prefix}_days"])
            if data.empty:
                continue
            curve = kaplan_meier(data[f"{prefix}_days"], data[f"{prefix}_event"].astype(int))
            x = np.concatenate([[0.0], curve["time"].to_numpy(float)])
            y = np.concatenate([[1.0], curve["surv_float"].to_numpy(float)])
            row = table[(table["analysis"] == analyses[prefix]) & (table["site"] == site)]
            median = row["median_days"].iloc[0]
            label = f"{site} (n = {len(data)}, median " + (
                "not reached)" if pd.isna(median) else f"{median:g} d)"
            )
            ax.step(x, y, where="post", color=colour, label=label)
            censored = curve[curve["n_event"] < curve["n_risk"]]
            censored = censored[
                censored["time"].isin(data.loc[data[f"{prefix}_event"] == 0, f"{prefix}_days"])
            ]
            ax.plot(censored["time"], censored["surv_float"], "|", color=colour, ms=7)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("days" + (" from treatment start" if prefix == "ttop" else " from response"))
        ax.set_ylabel("probability without progression at the site")
        ax.set_title(titles[prefix], fontsize=10)
        ax.legend(frameon=False, fontsize=8)
    first = table[table["analysis"] == "first_progression"].iloc[0]
    fig.suptitle(
        f"First organ to progress: {first['effect_measure'].split('(')[1].rstrip(')')}; "
        f"exact binomial p = {first['p_value']:.2g}",
        fontsize=9,
    )
    return fig
