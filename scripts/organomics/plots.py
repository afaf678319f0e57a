"""Figure helpers shared by every branch: saving PNG+PDF and paired per-patient plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

SITE_COLOURS = ("#1f77b4", "#d62728")  # reference site blue, compare site red, everywhere


def save(fig: plt.Figure, png_path: str | Path, pdf_path: str | Path) -> None:
    """Write the figure as PNG (200 dpi) and PDF, then close it."""
    for path in (png_path, pdf_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=200, bbox_inches="tight")
    fig.savefig(pdf_path, bbox_inches="tight")
    plt.close(fig)


def paired_plot(
    ax: plt.Axes,
    long_table: pd.DataFrame,
    value: str,
    reference: str,
    compare: str,
    title: str = "",
    ylabel: str = "",
) -> None:
    """Box per site plus one grey line per patient joining its two sites."""
    wide = long_table.pivot_table(index="patient", columns="site", values=value, aggfunc="mean")
    wide = wide.reindex(columns=[reference, compare])
    for _, row in wide.dropna().iterrows():
        ax.plot([0, 1], [row[reference], row[compare]], color="0.6", lw=0.8, zorder=1)
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
