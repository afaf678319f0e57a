"""scRNA figures: UMAPs, marker dot plot, score violins by site, paired scores, composition."""

from __future__ import annotations

import anndata as ad
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from organomics.plots import SITE_COLOURS, paired_plot  # noqa: E402
from organomics.scrna.annotate import Markers  # noqa: E402
from organomics.scrna.scores import FRACTION, Signature  # noqa: E402
from organomics.stats import subset_all  # noqa: E402

MAX_VIOLIN_CELLS = 20_000  # per cell type and site; a seeded subsample keeps KDEs fast


def _palette(n: int) -> list:
    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def placeholder(message: str) -> plt.Figure:
    """A figure that says why it has nothing to show (a run on few genes still ends).

    Parameters
    ----------
    message
        The text shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


def umap(obs: pd.DataFrame, coords: np.ndarray, column: str, title: str, order=None) -> plt.Figure:
    """UMAP coloured by one obs column (categories in `order`, legend on the right).

    Parameters
    ----------
    obs
        The cells' obs.
    coords
        cells x 2 UMAP coordinates (obsm["X_umap"]).
    column
        The obs column giving the colours.
    title
        The figure title.
    order
        Categories in legend order (absent ones skipped); default sorted. Sites in `order`
        take the site colours.

    Returns
    -------
    matplotlib.figure.Figure
        Cells drawn in a seeded random order, so no category hides the others.
    """
    values = obs[column].astype(str).to_numpy()
    categories = [c for c in (order or sorted(set(values))) if c in set(values)]
    colours = _palette(len(categories))
    if column == "site" and len(categories) <= 2 and order:
        colours = list(SITE_COLOURS)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    size = max(0.5, min(8.0, 40_000 / max(len(values), 1)))
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(len(values))  # no category painted over all others
    colour_of = dict(zip(categories, colours, strict=False))
    ax.scatter(
        coords[shuffled, 0],
        coords[shuffled, 1],
        c=[colour_of[v] for v in values[shuffled]],
        s=size,
        linewidths=0,
        rasterized=True,
    )
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=colour_of[c], label=c) for c in categories
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    ax.set_title(title)
    return fig


def marker_dotplot(adata: ad.AnnData, markers: Markers) -> plt.Figure:
    """scanpy dot plot of each compartment's positive markers by annotated cell type.

    Parameters
    ----------
    adata
        Cells with log-normalised X on (at least) the marker genes and obs["cell_type"]
        (made categorical in place, in marker-file order).
    markers
        The marker file's content.

    Returns
    -------
    matplotlib.figure.Figure
        The dot plot, or a `placeholder` when no positive marker is measured.
    """
    import scanpy as sc

    genes = {
        name: [g for g in spec["positive"] if g in adata.var_names]
        for name, spec in markers.compartments.items()
    }
    genes = {name: gs for name, gs in genes.items() if gs}
    if not genes:
        return placeholder("no positive marker gene of any compartment is measured")
    present = [c for c in markers.labels if c in set(adata.obs["cell_type"].astype(str))]
    adata.obs["cell_type"] = pd.Categorical(adata.obs["cell_type"].astype(str), categories=present)
    plot = sc.pl.dotplot(
        adata, genes, groupby="cell_type", show=False, return_fig=True, use_raw=False
    )
    plot.make_figure()
    return plot.fig


def score_violins(
    obs: pd.DataFrame, signatures: list[str], cell_types: list[str], reference: str, compare: str
) -> plt.Figure:
    """Per-cell score distributions per cell type, the two sites side by side.

    Parameters
    ----------
    obs
        The cells' obs with ``cell_type``, ``site`` and one column per scored signature.
    signatures
        The scored signatures' names (one row of panels each).
    cell_types
        Cell types on the x axis, in order.
    reference, compare
        The two site labels (left and right violin).

    Returns
    -------
    matplotlib.figure.Figure
        At most `MAX_VIOLIN_CELLS` cells per violin (seeded subsample); a `placeholder` when
        no signature was scored.
    """
    if not signatures:
        return placeholder("no signature scored: none of their genes is measured")
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(
        len(signatures), 1, figsize=(max(6, 0.9 * len(cell_types) + 2), 3.2 * len(signatures)),
        squeeze=False,
    )  # fmt: skip
    for ax, signature in zip(axes[:, 0], signatures, strict=True):
        for i, cell_type in enumerate(cell_types):
            for offset, site, colour in ((-0.2, reference, SITE_COLOURS[0]),
                                         (0.2, compare, SITE_COLOURS[1])):  # fmt: skip
                values = obs.loc[
                    (obs["cell_type"].astype(str) == cell_type) & (obs["site"].astype(str) == site),
                    signature,
                ].to_numpy()
                if len(values) < 2 or np.ptp(values) == 0:
                    continue
                if len(values) > MAX_VIOLIN_CELLS:
                    values = rng.choice(values, MAX_VIOLIN_CELLS, replace=False)
                parts = ax.violinplot(
                    values, positions=[i + offset], widths=0.38, showextrema=False,
                    showmedians=True,
                )  # fmt: skip
                for body in parts["bodies"]:
                    body.set(facecolor=colour, alpha=0.6)
                parts["cmedians"].set_color("black")
        ax.set_xticks(range(len(cell_types)), cell_types, rotation=45, ha="right")
        ax.set_ylabel(f"{signature} score")
        ax.set_title(signature)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.6) for c in SITE_COLOURS]
    axes[0, 0].legend(handles, [reference, compare], frameon=False, loc="upper right")
    fig.tight_layout()
    return fig


def score_paired(
    scores: pd.DataFrame,
    comparison: pd.DataFrame,
    signatures: list[Signature],
    reference: str,
    compare: str,
    min_cells: int = 1,
    sampling: dict | None = None,
) -> plt.Figure:
    """Mean score per patient at each site (lines join a patient's sites), one panel per test.

    Parameters
    ----------
    scores
        signature_scores.tsv (``sample, patient, site, cell_type, signature, mean_score,
        n_cells``).
    comparison
        site_comparison.tsv; its signature rows give the panels and their p values.
    signatures
        The configured signatures (their cell_types give the panels when nothing was tested).
    reference, compare
        The two site labels.
    min_cells
        Samples with fewer cells of the cell type are not drawn (as in the tests).
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None draws every line alike. The titles quote
        the tests over all pairs (``subset`` ``all``).

    Returns
    -------
    matplotlib.figure.Figure
        The panels, or a `placeholder` when no score was compared.
    """
    sampling = sampling or {}
    comparison = subset_all(comparison)
    tested = comparison[comparison["signature"] != FRACTION]
    panels = list(tested[["cell_type", "signature"]].itertuples(index=False, name=None))
    if not panels:
        panels = [(c, s.name) for s in signatures for c in (s.cell_types or [])]
    if not panels:
        return placeholder("no signature score compared between sites")
    ncols = min(3, max(1, len(panels)))
    nrows = max(1, int(np.ceil(len(panels) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, (cell_type, signature) in zip(axes.ravel(), panels, strict=False):
        rows = scores[
            (scores["cell_type"] == cell_type)
            & (scores["signature"] == signature)
            & (scores["n_cells"] >= min_cells)
        ]
        title = f"{signature}\nin {cell_type}"
        test = tested[(tested["cell_type"] == cell_type) & (tested["signature"] == signature)]
        if len(test) and pd.notna(test["p_value"].iloc[0]):
            title += f" (p={test['p_value'].iloc[0]:.3g}, n={int(test['n_pairs'].iloc[0])})"
        if rows.empty:
            ax.set_title(title)
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            continue
        paired_plot(
            ax, rows, "mean_score", reference, compare, title=title, ylabel="mean score",
            days_apart=sampling.get("days_apart"), within_days=sampling.get("within_days", 30),
        )  # fmt: skip
    fig.tight_layout()
    return fig


def composition_bars(
    cell_types: pd.DataFrame, labels: list[str], reference: str, compare: str
) -> plt.Figure:
    """Stacked cell-type fractions per sample, grouped by patient (reference site first).

    Parameters
    ----------
    cell_types
        cell_types.tsv (``sample, patient, site, cell_type, fraction``).
    labels
        Cell types in stacking and legend order; those absent from `cell_types` are skipped.
    reference, compare
        The two site labels: within a patient, the reference sample comes first.

    Returns
    -------
    matplotlib.figure.Figure
        One stacked bar per sample.
    """
    table = cell_types.pivot_table(
        index="sample", columns="cell_type", values="fraction", aggfunc="sum", fill_value=0.0
    )
    samples = cell_types.drop_duplicates("sample").assign(
        site_order=lambda t: t["site"].map({reference: 0, compare: 1})
    )
    order = samples.sort_values(["patient", "site_order"])["sample"]
    table = table.reindex(index=[s for s in order if s in table.index])
    table = table.reindex(columns=[c for c in labels if c in table.columns])
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(table) + 3), 4.5))
    bottom = np.zeros(len(table))
    for colour, label in zip(_palette(len(table.columns)), table.columns, strict=True):
        ax.bar(range(len(table)), table[label], bottom=bottom, color=colour, label=label, width=0.8)
        bottom += table[label].to_numpy()
    ax.set_xticks(range(len(table)), table.index, rotation=90)
    ax.set_ylabel("fraction of cells")
    ax.set_ylim(0, 1)
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    fig.tight_layout()
    return fig
