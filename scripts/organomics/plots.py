"""Figure helpers shared by every branch: saving PNG+PDF and paired per-patient plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from organomics.pairing import paired_values  # noqa: E402
from organomics.tables import atomic_path  # noqa: E402

SITE_COLOURS = ("#1f77b4", "#d62728")  # reference site blue, compare site red, everywhere


def save(fig: plt.Figure, png_path: str | Path, pdf_path: str | Path) -> None:
    """Write a figure as PNG (200 dpi) and PDF, each atomically, then close it.

    Parameters
    ----------
    fig
        The figure a library plot function returned.
    png_path, pdf_path
        The two output files.
    """
    for path, options in ((png_path, {"dpi": 200}), (pdf_path, {})):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), bbox_inches="tight", **options)
    plt.close(fig)


def paired_plot(
    ax: plt.Axes,
    long_table: pd.DataFrame,
    value: str,
    reference: str,
    compare: str,
    title: str = "",
    ylabel: str = "",
    days_apart: Mapping[str, int] | None = None,
    within_days: int = 30,
) -> None:
    """Draw a box per site plus one grey line per paired patient joining its two sites.

    Parameters
    ----------
    ax
        The axes to draw on.
    long_table
        Rows with ``patient``, ``site`` and `value` (several per patient and site averaged).
    value
        The measure's column.
    reference, compare
        The two site labels (x positions 0 and 1).
    title, ylabel
        Axis texts (`ylabel` defaults to `value`).
    days_apart
        Patient -> days between its two biopsies (`organomics.pairing.days_between`). Given,
        a simultaneous pair's line (``|days| <= within_days``) is solid dark grey and ends with
        its days apart, the others are dotted; None draws every line alike.
    within_days
        config pairs.simultaneous_days.
    """
    wide = long_table.pivot_table(index="patient", columns="site", values=value, aggfunc="mean")
    wide = wide.reindex(columns=[reference, compare])
    paired, _ = paired_values(long_table, value, reference, compare)
    for patient, row in paired.iterrows():
        ends = [row[reference], row[compare]]
        if days_apart is None:
            ax.plot([0, 1], ends, color="0.6", lw=0.8, zorder=1)
            continue
        gap = days_apart.get(patient)
        simultaneous = gap is not None and abs(gap) <= within_days
        style = {"color": "0.3", "ls": "-"} if simultaneous else {"color": "0.6", "ls": ":"}
        ax.plot([0, 1], ends, lw=0.8, zorder=1, **style)
        if simultaneous:  # labelling all lines would bury the few simultaneous ones
            ax.annotate(f"{gap:+d} d", (1, ends[1]), xytext=(4, 0), textcoords="offset points",
                        fontsize=5, color=style["color"], va="center")  # fmt: skip
    data = [wide[reference].dropna(), wide[compare].dropna()]
    boxes = ax.boxplot(data, positions=[0, 1], widths=0.4, showfliers=False, patch_artist=True)
    for patch, colour in zip(boxes["boxes"], SITE_COLOURS, strict=True):
        patch.set(facecolor=colour, alpha=0.25)
    for position, (values, colour) in enumerate(zip(data, SITE_COLOURS, strict=True)):
        ax.scatter([position] * len(values), values, color=colour, s=14, zorder=2)
    ax.set_xticks([0, 1], [reference, compare])
    ax.set_xlim(-0.5, 1.5)
    ax.set_title(title)
    ax.set_ylabel(ylabel or value)
