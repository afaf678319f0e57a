"""Figure helpers shared by every branch: saving PNG+PDF and paired per-patient plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mimage  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from organomics.pairing import paired_values  # noqa: E402
from organomics.tables import atomic_path  # noqa: E402

SITE_COLOURS = ("#1f77b4", "#d62728")  # reference site blue, compare site red, everywhere


PNG_DPI = 200


def save(fig: plt.Figure, png_path: str | Path, pdf_path: str | Path) -> None:
    """Write a figure as PNG (200 dpi) and PDF, each cropped to its tight bounding box and
    written atomically, then close it.

    The figure is laid out and drawn once at 200 dpi: the PNG is that drawing cropped to the
    tight bounding box, and the PDF reuses the box. ``savefig(bbox_inches="tight")`` twice
    drew the figure four times (a layout pass and a drawing per file), the most expensive part
    of every figure job. The PNG equals savefig's to within half a pixel of antialiasing (same
    size; a figure whose tight box reaches past the canvas is saved by savefig instead).

    Parameters
    ----------
    fig
        The figure a library plot function returned.
    png_path, pdf_path
        The two output files.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    original_dpi = fig.dpi
    try:
        fig.set_dpi(PNG_DPI)
        canvas.draw()
        bbox = fig.get_tightbbox(canvas.get_renderer())
        bbox = bbox.padded(matplotlib.rcParams["savefig.pad_inches"])
        # laid out now (tight_layout, constrained): without an engine savefig does not lay the
        # figure out again in a drawing pass of its own before drawing it
        fig.set_layout_engine(None)
        # savefig's pixel box for bbox_inches: its size truncated, its origin at bbox's corner
        width, height = int(bbox.width * PNG_DPI), int(bbox.height * PNG_DPI)
        left = round(bbox.x0 * PNG_DPI)
        top = round(fig.bbox.height - bbox.y0 * PNG_DPI - height)
        rgba = np.asarray(canvas.buffer_rgba())
        with atomic_path(png_path) as tmp:
            if (
                left >= 0
                and top >= 0
                and left + width <= rgba.shape[1]
                and top + height <= rgba.shape[0]
            ):
                crop = rgba[top : top + height, left : left + width]
                mimage.imsave(tmp, crop, format="png", origin="upper", dpi=PNG_DPI)
            else:  # text beyond the canvas: savefig grows the canvas to the box
                fig.savefig(tmp, format="png", dpi=PNG_DPI, bbox_inches=bbox)
    finally:
        fig.set_dpi(original_dpi)
    with atomic_path(pdf_path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches=bbox)
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
