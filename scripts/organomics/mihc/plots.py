"""mIHC figures: paired per-phenotype plots, stacked composition bars, spatial scatter."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.plots import paired_plot


def _p_label(comparison: pd.DataFrame, keys: dict) -> str:
    if comparison is None or comparison.empty:
        return ""
    label = ""
    for subset in ("all", "simultaneous"):
        row = comparison
        if "subset" in comparison.columns:
            row = row[row["subset"].astype(str) == subset]
        elif subset == "simultaneous":
            break
        for key, value in keys.items():
            row = row[row[key] == value]
        if row.empty or pd.isna(row["p_value"].iloc[0]):
            continue
        p, q = row["p_value"].iloc[0], row["p_adj"].iloc[0]
        if subset == "all":
            label = f"p={p:.2g}, q={q:.2g}"
        else:  # the sensitivity test on the pairs sampled close together
            label += f"\n{int(row['n_pairs'].iloc[0])} simultaneous: p={p:.2g}, q={q:.2g}"
    return label


def paired_panels(
    table: pd.DataFrame,
    value: str,
    facet: str,
    reference: str,
    compare: str,
    comparison: pd.DataFrame | None = None,
    ylabel: str = "",
    region: str = "all",
    sampling: Mapping | None = None,
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
        p and q are written under each panel, and those of the simultaneous pairs when the
        table has a ``subset`` column. None writes none.
    ylabel
        The y-axis label (default `value`).
    region
        The region whose rows are plotted.
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None or no days draws every line alike.

    Returns
    -------
    matplotlib.figure.Figure
        The grid of panels; "no data" in a panel whose facet has no row.
    """
    sampling = sampling or {}
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
            paired_plot(
                ax, subset, value, reference, compare, title=str(name), ylabel=ylabel,
                days_apart=sampling.get("days_apart"), within_days=sampling.get("within_days", 30),
            )  # fmt: skip
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


COMPARTMENT_COLOURS = {
    "core": (0.55, 0.35, 0.6, 1.0),
    "margin": (0.95, 0.75, 0.3, 1.0),
    "stroma": (0.75, 0.85, 0.75, 1.0),
    "": (0.85, 0.85, 0.85, 1.0),
}


def margin_map(
    points: Sequence[pd.DataFrame], titles: Sequence[str], highlight: str | None = None
) -> plt.Figure:
    """Cells of one sample per site coloured by compartment, one phenotype class on top.

    Parameters
    ----------
    points
        One table per panel with ``x``, ``y`` (µm), ``label`` (composition class) and
        ``compartment`` (points/{sample}.parquet).
    titles
        The panel titles (the samples' ids), in `points` order.
    highlight
        A composition class drawn on top in black (e.g. CD8_T); None draws none.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per table, image orientation (y downwards).
    """
    n = max(1, len(points))
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 5.0), squeeze=False)
    for ax, frame, title in zip(axes.flat, points, titles, strict=False):
        if frame.empty or "compartment" not in frame:
            ax.text(0.5, 0.5, "no compartments", ha="center", va="center", transform=ax.transAxes)
            continue
        for name, colour in COMPARTMENT_COLOURS.items():
            cells = frame[frame["compartment"].fillna("") == name]
            if len(cells):
                ax.scatter(
                    cells["x"], cells["y"], s=3, color=colour, lw=0, label=name or "no compartment"
                )
        if highlight is not None:
            cells = frame[frame["label"] == highlight]
            ax.scatter(cells["x"], cells["y"], s=5, color="black", lw=0, label=highlight)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.invert_yaxis()
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
    axes.flat[-1].legend(bbox_to_anchor=(1.01, 1), loc="upper left", markerscale=4, fontsize=8)
    fig.tight_layout()
    return fig


def neighbourhood_heatmaps(
    neighbourhood: pd.DataFrame, records: Sequence[dict], reference: str, compare: str
) -> plt.Figure:
    """Median log2_ratio per ordered phenotype pair at each site and the paired difference.

    Parameters
    ----------
    neighbourhood
        neighbourhood.tsv (region ``all`` rows are drawn).
    records
        ``sample``, ``patient`` and ``site`` of each sample.
    reference, compare
        The two site labels.

    Returns
    -------
    matplotlib.figure.Figure
        One row per radius: median at `reference`, at `compare` (over samples) and the median
        paired difference compare - reference (over patients with both), rows from, columns to.
    """
    ids = pd.DataFrame(list(records))[["sample", "patient", "site"]].astype(str)
    table = neighbourhood[neighbourhood["region"].astype(str) == "all"]
    table = table.assign(sample=table["sample"].astype(str)).merge(ids, on="sample")
    radii = sorted(table["radius_um"].unique()) or [np.nan]
    names = list(dict.fromkeys(table["from_phenotype"]))
    fig, axes = plt.subplots(len(radii), 3, figsize=(13, 4.0 * len(radii)), squeeze=False)
    for row, radius in zip(axes, radii, strict=True):
        at = table[table["radius_um"] == radius]
        per_site = at.pivot_table(
            index=["patient", "site"],
            columns=["from_phenotype", "to_phenotype"],
            values="log2_ratio",
            aggfunc="mean",
        )
        panels = []
        for site in (reference, compare):
            values = at[at["site"] == site].groupby(["from_phenotype", "to_phenotype"])
            panels.append((f"{site}, r = {radius:g} µm", values["log2_ratio"].median()))
        if {reference, compare} <= set(per_site.index.get_level_values("site")):
            difference = per_site.xs(compare, level="site") - per_site.xs(reference, level="site")
            panels.append((f"{compare} − {reference} (paired median)", difference.median()))
        else:
            panels.append((f"{compare} − {reference}: no pairs", pd.Series(dtype=float)))
        for ax, (title, series) in zip(row, panels, strict=True):
            grid = np.full((len(names), len(names)), np.nan)
            for (a, b), value in series.items():
                grid[names.index(a), names.index(b)] = value
            limit = np.nanmax(np.abs(grid)) if np.isfinite(grid).any() else 1.0
            image = ax.imshow(grid, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
            ax.set_yticks(range(len(names)), names, fontsize=8)
            ax.set_xlabel("to")
            ax.set_ylabel("from")
            ax.set_title(title, fontsize=10)
            fig.colorbar(image, ax=ax, shrink=0.8, label="log2 observed / expected")
    fig.tight_layout()
    return fig


def immune_counts(immune: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Samples per immune phenotype class at each site, one panel per classified phenotype.

    Parameters
    ----------
    immune
        immune_phenotype.tsv.
    reference, compare
        The two site labels.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars (inflamed, excluded, desert) per site.
    """
    classes = ["inflamed", "excluded", "desert"]
    colours = {"inflamed": "#c0392b", "excluded": "#e6a23c", "desert": "#7f8c8d"}
    phenotypes = list(dict.fromkeys(immune["phenotype"])) or [""]
    fig, axes = plt.subplots(1, len(phenotypes), figsize=(4.5 * len(phenotypes), 4), squeeze=False)
    for ax, phenotype in zip(axes.flat, phenotypes, strict=True):
        chosen = immune[immune["phenotype"] == phenotype]
        for k, name in enumerate(classes):
            heights = [
                int(((chosen["site"] == site) & (chosen["immune_phenotype"] == name)).sum())
                for site in (reference, compare)
            ]
            ax.bar(np.arange(2) + (k - 1) * 0.27, heights, 0.27, color=colours[name], label=name)
        ax.set_xticks(range(2), [reference, compare])
        ax.set_ylabel("samples")
        ax.set_title(f"{phenotype} immune phenotype" if phenotype else "no classified samples")
    axes.flat[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig
