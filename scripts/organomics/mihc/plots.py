"""mIHC figures: paired per-phenotype plots, stacked composition bars, spatial scatter."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.plots import paired_plot


def _p_label(comparison: pd.DataFrame, keys: dict) -> str:
    if comparison is None or comparison.empty:
        return ""
    row = comparison
    for key, value in keys.items():
        row = row[row[key] == value]
    if row.empty or pd.isna(row["p_value"].iloc[0]):
        return ""
    return f"p={row['p_value'].iloc[0]:.2g}, q={row['p_adj'].iloc[0]:.2g}"


def paired_panels(
    table: pd.DataFrame,
    value: str,
    facet: str,
    reference: str,
    compare: str,
    comparison: pd.DataFrame | None = None,
    ylabel: str = "",
    region: str = "all",
) -> plt.Figure:
    """One paired box/line panel per `facet` value (e.g. phenotype), for one region.

    Parameters
    ----------
    table
        Long table with ``patient``, ``site``, ``region``, `facet` and `value` columns.
    value
        The measure plotted (e.g. ``fraction``, ``median_distance_um``).
    facet
        The column whose values get one panel each, in order of first appearance.
    reference, compare
        The two site labels (left and right box).
    comparison
        The paired tests of `table` (``p_value``, ``p_adj`` by `facet` and ``region``); their
        p and q are written under each panel. None writes none.
    ylabel
        The y-axis label (default `value`).
    region
        The region whose rows are plotted.

    Returns
    -------
    matplotlib.figure.Figure
        The grid of panels; "no data" in a panel whose facet has no row.
    """
    data = table[table["region"] == region]
    facets = list(dict.fromkeys(data[facet])) or ["(none)"]
    ncols = min(4, len(facets))
    nrows = math.ceil(len(facets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.2 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, facets, strict=False):
        subset = data[data[facet] == name]
        label = _p_label(comparison, {facet: name, "region": region})
        if subset.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        else:
            paired_plot(ax, subset, value, reference, compare, title=str(name), ylabel=ylabel)
        if label:
            ax.set_xlabel(label, fontsize=8)
    for ax in list(axes.flat)[len(facets) :]:
        ax.set_visible(False)
    fig.suptitle(f"{ylabel or value} by site (region: {region})")
    fig.tight_layout()
    return fig


def composition_bars(composition: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Stacked bars of exclusive phenotype classes per sample, reference site first.

    Parameters
    ----------
    composition
        composition.tsv (``sample, patient, site, region, class, fraction``); region ``all``
        is plotted.
    reference, compare
        The two site labels: reference samples left of a line, compare samples right of it,
        each ordered by patient.

    Returns
    -------
    matplotlib.figure.Figure
        One stacked bar per sample, classes in order of first appearance (``other`` grey).
    """
    data = composition[composition["region"] == "all"]
    wide = data.pivot_table(index="sample", columns="class", values="fraction", aggfunc="sum")
    classes = list(dict.fromkeys(data["class"]))
    wide = wide.reindex(columns=classes).fillna(0.0)
    order = data.drop_duplicates("sample").copy()
    order["rank"] = order["site"].map({reference: 0, compare: 1}).fillna(2)
    order = order.sort_values(["rank", "patient"])
    wide = wide.reindex(order["sample"])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.22 * len(wide) + 2), 4.0))
    colours = plt.get_cmap("tab10")(np.arange(len(classes)) % 10)
    bottom = np.zeros(len(wide))
    for colour, name in zip(colours, classes, strict=True):
        if name == "other":
            colour = (0.85, 0.85, 0.85, 1.0)
        ax.bar(
            np.arange(len(wide)), wide[name], bottom=bottom, color=colour, label=name, width=0.85
        )
        bottom += wide[name].to_numpy()
    ax.set_xticks(np.arange(len(wide)), wide.index, rotation=90, fontsize=6)
    n_ref = int((order["site"] == reference).sum())
    if 0 < n_ref < len(wide):
        ax.axvline(n_ref - 0.5, color="black", lw=0.8)
    ax.set_ylabel("fraction of cells")
    ax.set_title(f"Cell composition per sample ({reference} left, {compare} right)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def spatial_scatter(
    points: Sequence[pd.DataFrame],
    titles: Sequence[str],
    classes: Sequence[str] = (),
) -> plt.Figure:
    """Cell positions of one sample per site, coloured by composition class (`classes` order).

    Parameters
    ----------
    points
        One table per panel with ``x``, ``y`` (µm) and ``label`` (the cell's composition class),
        as the per-sample job writes them (points/{sample}.parquet).
    titles
        The panel titles (the samples' ids), in `points` order.
    classes
        Composition classes in colour order; labels not listed follow in order of appearance.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per table, image orientation (y downwards), ``other`` cells grey and drawn
        first.
    """
    labels = list(dict.fromkeys([*classes, *(label for p in points for label in p["label"])]))
    palette = dict(zip(labels, plt.get_cmap("tab10")(np.arange(len(labels)) % 10), strict=True))
    if "other" in palette:
        palette["other"] = (0.8, 0.8, 0.8, 1.0)
    n = max(1, len(points))
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 5.0), squeeze=False)
    for ax, frame, title in zip(axes.flat, points, titles, strict=False):
        if frame.empty:
            ax.text(0.5, 0.5, "no coordinates", ha="center", va="center", transform=ax.transAxes)
        # Draw "other" first so the phenotyped cells stay visible on top.
        for label in sorted(labels, key=lambda name: name != "other"):
            cells = frame[frame["label"] == label]
            ax.scatter(cells["x"], cells["y"], s=2, color=palette[label], label=label, lw=0)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.invert_yaxis()  # image coordinates: y grows downwards
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
    if labels:
        axes.flat[-1].legend(bbox_to_anchor=(1.01, 1), loc="upper left", markerscale=4, fontsize=8)
    fig.tight_layout()
    return fig
