"""iRECIST figures: each progressing site's course from iUPD to confirmation or reset."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from organomics.clinical.figures import RESPONSE_COLOURS

COLOURS = {
    "iCR": RESPONSE_COLOURS["CR"],
    "iPR": RESPONSE_COLOURS["PR"],
    "iSD": RESPONSE_COLOURS["SD"],
    "iUPD": "#fc8d59",
    "iCPD": RESPONSE_COLOURS["PD"],
    "NE": RESPONSE_COLOURS["NE"],
}


def course(
    timepoints: pd.DataFrame, responses: pd.DataFrame, reference: str, compare: str
) -> plt.Figure:
    """One lane per patient and site with an iUPD: every scan coloured by its iRECIST response.

    Parameters
    ----------
    timepoints
        The iRECIST timepoint table (`organomics.clinical.irecist.assess`).
    responses
        The iRECIST response table (`iupd_day`, `pseudoprogression`).
    reference, compare
        The two site labels (lanes grouped by site, reference first).

    Returns
    -------
    matplotlib.figure.Figure
        Lanes labelled ``patient site``; an open ring marks a pseudoprogression's first reset.
        A cohort without any iUPD gives a figure that says so.
    """
    order = {reference: 0, compare: 1}
    lanes = responses[responses["iupd_day"].notna()].copy()
    lanes = lanes.sort_values(
        ["site", "iupd_day", "patient"], key=lambda s: s.map(order) if s.name == "site" else s
    )
    fig, ax = plt.subplots(figsize=(7, max(3, 0.22 * len(lanes) + 1)))
    if lanes.empty:
        ax.text(0.5, 0.5, "no site had an iUPD", ha="center", va="center")
        ax.set_axis_off()
        return fig
    keys = list(zip(lanes["patient"], lanes["site"], strict=True))
    y = {key: position for position, key in enumerate(keys)}
    keyed = zip(timepoints["patient"], timepoints["site"], strict=True)
    points = timepoints.assign(key=list(keyed))
    points = points[[key in y for key in points["key"]]]
    for (patient, site), rows in points.groupby(["patient", "site"], sort=False):
        ax.plot(rows["day"], [y[(patient, site)]] * len(rows), color="0.8", lw=1, zorder=1)
    for response, colour in COLOURS.items():
        rows = points[points["response"] == response]
        ax.scatter(
            rows["day"],
            rows["key"].map(y),
            color=colour,
            s=28,
            label=response,
            zorder=2,
            edgecolors="0.3",
            linewidths=0.3,
        )
    resets = lanes[lanes["pseudoprogression"].astype(bool)]
    ax.scatter(
        resets["reset_day"],
        [y[key] for key in zip(resets["patient"], resets["site"], strict=True)],
        facecolors="none",
        edgecolors="black",
        s=90,
        linewidths=1,
        label="reset (pseudoprogression)",
        zorder=3,
    )
    ax.set_yticks(list(y.values()), [f"{patient} {site}" for patient, site in y], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("days from treatment start")
    ax.set_title("Sites with an iUPD: confirmed (iCPD), pending (iUPD) or reset", fontsize=9)
    ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
