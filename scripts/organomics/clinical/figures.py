"""Clinical figures: paired waterfall, spider, swimmer, response rates and Kaplan-Meier curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from organomics.plots import SITE_COLOURS

RESPONSE_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#fee08b", "PD": "#d73027", "NE": "0.7"}


def waterfall(responses: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Best % change of each site's target sum, patients ordered by the reference site.

    Parameters
    ----------
    responses
        The organ response table (`best_change_pct` per patient and site).
    reference, compare
        The two site labels (bars left and right, coloured as everywhere).

    Returns
    -------
    matplotlib.figure.Figure
        One pair of bars per patient (a site without a value is drawn at 0), with the +20% and
        -30% RECIST lines.
    """
    wide = responses.pivot(index="patient", columns="site", values="best_change_pct")
    wide = wide.reindex(columns=[reference, compare]).sort_values(
        [reference, compare], ascending=False, na_position="first"
    )
    fig, ax = plt.subplots(figsize=(max(6, 0.18 * len(wide)), 4))
    x = np.arange(len(wide))
    for offset, site, colour in (
        (-0.2, reference, SITE_COLOURS[0]),
        (0.2, compare, SITE_COLOURS[1]),
    ):
        ax.bar(x + offset, wide[site].fillna(0), width=0.4, color=colour, label=site)
    for level, style in ((20, "--"), (-30, ":")):
        ax.axhline(level, color="0.3", lw=0.8, ls=style)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, wide.index, rotation=90, fontsize=6)
    ax.set_ylabel("best change in target sum (%)")
    ax.set_title("Organ-specific best response (dashed +20%, dotted -30%)")
    ax.legend(frameon=False)
    return fig


def spider(
    timepoints: pd.DataFrame, responses: pd.DataFrame, reference: str, compare: str
) -> plt.Figure:
    """% change from baseline over time, one panel per site, lines coloured by best response.

    Parameters
    ----------
    timepoints
        The timepoint response table (`day`, `change_pct` per patient and site).
    responses
        The organ response table (each line's colour is the patient's best response there).
    reference, compare
        The two site labels (left and right panel).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    best = responses.set_index(["patient", "site"])["best_response"]
    for ax, site in zip(axes, (reference, compare), strict=True):
        for patient, rows in timepoints[timepoints["site"] == site].groupby("patient"):
            rows = rows.dropna(subset=["change_pct"])
            colour = RESPONSE_COLOURS[best.get((patient, site), "NE")]
            ax.plot([0, *rows["day"]], [0, *rows["change_pct"]], color=colour, lw=0.9, marker=".")
        ax.axhline(20, color="0.3", lw=0.8, ls="--")
        ax.axhline(-30, color="0.3", lw=0.8, ls=":")
        ax.set_title(site)
        ax.set_xlabel("days from treatment start")
    axes[0].set_ylabel("change in target sum from baseline (%)")
    handles = [plt.Line2D([], [], color=c, label=r) for r, c in RESPONSE_COLOURS.items()]
    axes[1].legend(handles=handles, frameon=False, fontsize=8)
    return fig


def swimmer(
    responses: pd.DataFrame, reference: str, compare: str, patients: pd.DataFrame | None
) -> plt.Figure:
    """Time on study per patient with each site's first PD marked (and PFS when known).

    Parameters
    ----------
    responses
        The organ response table (`last_day`, `first_pd_day`).
    reference, compare
        The two site labels (circle and square markers).
    patients
        The patient table (`read_patients`): bars show PFS; None: bars end at the last scan.

    Returns
    -------
    matplotlib.figure.Figure
    """
    span = responses.groupby("patient")["last_day"].max()
    if patients is not None:
        span = patients.set_index("patient")["pfs_days"].reindex(span.index).fillna(span)
    span = span.sort_values()
    fig, ax = plt.subplots(figsize=(7, max(4, 0.16 * len(span))))
    y = {patient: position for position, patient in enumerate(span.index)}
    ax.barh(list(y.values()), span.to_numpy(), color="0.85")
    markers = ((reference, SITE_COLOURS[0], "o"), (compare, SITE_COLOURS[1], "s"))
    for site, colour, marker in markers:
        rows = responses[(responses["site"] == site) & responses["first_pd_day"].notna()]
        ax.scatter(
            rows["first_pd_day"],
            rows["patient"].map(y),
            color=colour,
            marker=marker,
            s=18,
            label=f"PD in {site}",
            zorder=3,
        )
    ax.set_yticks(list(y.values()), list(y), fontsize=6)
    ax.set_xlabel("days" + (" (bar = PFS)" if patients is not None else " (bar = last scan)"))
    ax.legend(frameon=False, fontsize=8)
    return fig


def rate_bars(rates: pd.DataFrame) -> plt.Figure:
    """ORR and DCR per site with Clopper-Pearson 95% CIs.

    Parameters
    ----------
    rates
        The response rates table (`organomics.clinical.rates.response_rates`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(5, 4))
    width = 0.38
    for position, row in enumerate(rates.itertuples()):
        for shift, metric in ((-width / 2, "orr"), (width / 2, "dcr")):
            value = getattr(row, metric)
            low, high = getattr(row, f"{metric}_ci_low"), getattr(row, f"{metric}_ci_high")
            ax.bar(
                position + shift,
                value,
                width,
                color=SITE_COLOURS[position % 2],
                alpha=0.55 if metric == "orr" else 0.95,
                yerr=[[value - low], [high - value]],
                capsize=3,
            )
            ax.text(position + shift, high + 0.02, metric.upper(), ha="center", fontsize=8)
    ax.set_xticks(
        range(len(rates)),
        [f"{s}\n(n = {n})" for s, n in zip(rates["site"], rates["n"], strict=True)],
    )
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("proportion of patients (95% CI)")
    return fig


def kaplan_meier(
    patients: pd.DataFrame, groups: pd.Series, grouping: str, table: pd.DataFrame
) -> plt.Figure:
    """PFS and OS curves by group, log-rank p in each panel title.

    Parameters
    ----------
    patients
        The patient table (`read_patients`).
    groups
        Group label per patient (index: patient).
    grouping
        The grouping's name, as in `table`.
    table
        The survival table (`km_table`), source of the log-rank p.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (PFS, OS); a panel says so when no patient has a group or there is one group.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, endpoint in zip(axes, ("pfs", "os"), strict=True):
        data = patients.set_index("patient")[[f"{endpoint}_days", f"{endpoint}_event"]]
        data = data.join(groups.rename("group"), how="inner").dropna()
        for group, subset in data.groupby("group"):
            KaplanMeierFitter(label=f"{group} (n = {len(subset)})").fit(
                subset[f"{endpoint}_days"], subset[f"{endpoint}_event"]
            ).plot_survival_function(ax=ax, ci_show=False)
        p_value = table.loc[
            (table["endpoint"] == endpoint) & (table["grouping"] == grouping), "logrank_p"
        ]
        if data.empty:
            title = f"{endpoint.upper()} by {grouping}: no patient with a group"
        elif p_value.empty or pd.isna(p_value.iloc[0]):
            title = f"{endpoint.upper()} by {grouping} (one group, no log-rank test)"
        else:
            title = f"{endpoint.upper()} by {grouping}, log-rank p = {p_value.iloc[0]:.2g}"
        ax.set_title(title)
        ax.set_xlabel("days")
        ax.set_ylabel("probability")
    return fig
