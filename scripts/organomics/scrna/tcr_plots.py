"""TCR figures: paired diversity and expansion, clone sizes at both sites, expansion by type."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from organomics.plots import SITE_COLOURS, paired_plot  # noqa: E402
from organomics.scrna.plots import placeholder  # noqa: E402
from organomics.scrna.tcr import PAIRED  # noqa: E402
from organomics.stats import subset_all  # noqa: E402

LABELS = {"diversity": "normalised Shannon diversity", "frac_expanded": "expanded fraction"}


def paired_measures(
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    reference: str,
    compare: str,
    min_cells: int,
    sampling: dict | None = None,
) -> plt.Figure:
    """One panel per tested measure: a box per site and a line per patient.

    Parameters
    ----------
    summary
        results/scrna/tcr_summary.tsv.
    comparison
        results/scrna/tcr_comparison.tsv (the p-values in the titles).
    reference, compare
        The two site labels.
    min_cells
        Samples below this many cells with both chains are not drawn (nor tested).
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None draws every line alike. The titles quote
        the tests over all pairs (``subset`` ``all``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    sampling = sampling or {}
    comparison = subset_all(comparison)
    if comparison.empty or "metric" not in comparison or not len(comparison["metric"]):
        return placeholder("no TCR measure to compare between sites")
    kept = summary[summary["n_cells"] >= min_cells]
    metrics = comparison["metric"].tolist()
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.6 * len(metrics), 3.4), squeeze=False)
    for ax, row in zip(axes[0], comparison.to_dict("records"), strict=True):
        metric = row["metric"]
        label = LABELS.get(metric, metric.replace("frac_expanded_", "expanded ") + " fraction")
        p_value = row.get("p_value", np.nan)
        title = f"n={row['n_pairs']} pairs" + ("" if pd.isna(p_value) else f", p={p_value:.2g}")
        paired_plot(
            ax, kept, metric, reference, compare, title=title, ylabel=label,
            days_apart=sampling.get("days_apart"), within_days=sampling.get("within_days", 30),
        )  # fmt: skip
    fig.tight_layout()
    return fig


def clone_sizes(
    cells: pd.DataFrame, shared: pd.DataFrame, reference: str, compare: str
) -> plt.Figure:
    """Per patient, each clonotype's cells at the reference vs the compare site.

    Parameters
    ----------
    cells
        results/scrna/tcr_cells.tsv.gz.
    shared
        results/scrna/tcr_shared.tsv (samples, n_shared, Morisita-Horn per patient).

    Returns
    -------
    matplotlib.figure.Figure
        Points on the axes are clonotypes seen at one site only; the area grows with the
        number of clonotypes at that point.
    """
    if shared.empty:
        return placeholder("no patient with TCR data at both sites")
    paired = cells[cells["chains"] == PAIRED]
    n = len(shared)
    columns = min(n, 4)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, row in zip(axes.flat, shared.to_dict("records"), strict=False):
        x = paired.loc[paired["sample"] == row[f"sample_{reference}"], "clonotype"].value_counts()
        y = paired.loc[paired["sample"] == row[f"sample_{compare}"], "clonotype"].value_counts()
        index = x.index.union(y.index)
        points = pd.DataFrame(
            {"x": x.reindex(index, fill_value=0), "y": y.reindex(index, fill_value=0)}
        )
        counted = points.value_counts().rename("n").reset_index()
        is_shared = (counted["x"] > 0) & (counted["y"] > 0)
        colours = np.where(is_shared, "black", "0.6")
        ax.scatter(counted["x"], counted["y"], s=8 + 12 * np.sqrt(counted["n"]), c=colours)
        ax.set_xscale("symlog", linthresh=1)
        ax.set_yscale("symlog", linthresh=1)
        ax.set_xlabel(f"cells at {reference}", color=SITE_COLOURS[0])
        ax.set_ylabel(f"cells at {compare}", color=SITE_COLOURS[1])
        ax.set_title(
            f"{row['patient']}: {row['n_shared']} shared, MH {row['morisita_horn']:.2f}",
            fontsize=9,
        )
    fig.tight_layout()
    return fig


def expansion_by_cell_type(cell_types: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Expanded fraction of each cell type's TCR cells, pooled over the samples of each site.

    Parameters
    ----------
    cell_types
        results/scrna/tcr_cell_types.tsv.

    Returns
    -------
    matplotlib.figure.Figure
        A placeholder when clonotypes were not joined to annotated cells.
    """
    types = cell_types[cell_types["annotation"] == "cell_type"] if len(cell_types) else cell_types
    if types.empty:
        return placeholder("TCR cells not joined to annotated scRNA cells (no scrna column)")
    pooled = types.groupby(["label", "site"])[["n_cells", "n_expanded_cells"]].sum()
    pooled["fraction"] = pooled["n_expanded_cells"] / pooled["n_cells"]
    wide = pooled["fraction"].unstack("site").reindex(columns=[reference, compare])
    cells = pooled["n_cells"].unstack("site").reindex(columns=[reference, compare]).fillna(0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(wide), 3.4))
    positions = np.arange(len(wide))
    for offset, site, colour in (
        (-0.2, reference, SITE_COLOURS[0]),
        (0.2, compare, SITE_COLOURS[1]),
    ):
        ax.bar(positions + offset, wide[site].fillna(0), width=0.4, color=colour, label=site)
        for pos, value, n in zip(positions, wide[site].fillna(0), cells[site], strict=True):
            ax.text(pos + offset, value, f"{int(n)}", ha="center", va="bottom", fontsize=6)
    ax.set_xticks(positions, wide.index, rotation=45, ha="right")
    ax.set_ylabel("expanded fraction of TCR cells")
    ax.set_title("clone size >= expanded_min_cells (n cells above bars)", fontsize=8)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
