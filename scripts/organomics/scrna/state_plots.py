"""CD8 and NK state figures: UMAP of the states, programme dot plot, paired state fractions."""

from __future__ import annotations

import anndata as ad
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from organomics.plots import paired_plot  # noqa: E402
from organomics.scrna.plots import placeholder, umap  # noqa: E402
from organomics.scrna.states import UNASSIGNED, StateProgrammes  # noqa: E402
from organomics.stats import subset_all  # noqa: E402

OTHER_CELLS = "other cells"


def umap_states(
    obs: pd.DataFrame, coords: np.ndarray, cells: pd.DataFrame, states: StateProgrammes
) -> plt.Figure:
    """UMAP of every cell coloured by its CD8/NK state (other cell types in one colour).

    Parameters
    ----------
    obs
        The cohort's obs (cell names as index).
    coords
        cells x 2 UMAP coordinates, in obs order.
    cells
        state_cells.tsv (cell, state).
    states
        The state programmes (legend order).

    Returns
    -------
    matplotlib.figure.Figure
    """
    state = cells.set_index("cell")["state"].reindex(obs.index.astype(str)).fillna(OTHER_CELLS)
    frame = pd.DataFrame({"state": state.to_numpy()}, index=obs.index)
    order = [s for ct in states.programmes for s in states.programmes[ct]]
    return umap(frame, coords, "state", "CD8 and NK states", [*order, UNASSIGNED, OTHER_CELLS])


def state_dotplot(subset: ad.AnnData, states: StateProgrammes) -> plt.Figure:
    """scanpy dot plot of each state's programme genes by assigned state.

    Parameters
    ----------
    subset
        The CD8/NK cells' programme genes (log-normalised) with obs["state"].
    states
        The state programmes.

    Returns
    -------
    matplotlib.figure.Figure
        The dot plot, or a `placeholder` when no programme gene or no cell is there.
    """
    import scanpy as sc

    genes = {
        state: [g for g in programme if g in subset.var_names]
        for by_state in states.programmes.values()
        for state, programme in by_state.items()
    }
    genes = {state: gs for state, gs in genes.items() if gs}
    present = set(subset.obs["state"].astype(str)) if subset.n_obs else set()
    order = [s for s in [*genes, UNASSIGNED] if s in present]
    if not genes or not order:
        return placeholder("no CD8 or NK cell with a measured programme gene")
    subset = subset.copy()
    subset.obs["state"] = pd.Categorical(subset.obs["state"].astype(str), categories=order)
    plot = sc.pl.dotplot(subset, genes, groupby="state", show=False, return_fig=True,
                         use_raw=False)  # fmt: skip
    plot.make_figure()
    return plot.fig


def state_fractions(
    table: pd.DataFrame,
    tests: pd.DataFrame,
    reference: str,
    compare: str,
    min_cells: int,
    sampling: dict | None = None,
) -> plt.Figure:
    """Per state, the fraction of its compartment per patient at both sites (paired lines).

    Parameters
    ----------
    table
        states.tsv.
    tests
        state_tests.tsv (p_adj in the panel titles).
    reference, compare
        Site labels.
    min_cells
        comparison.min_cells (samples below it are not drawn, as they are not tested).
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None draws every line alike. The titles quote
        the tests over all pairs (``subset`` ``all``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = table[table["n_compartment"] >= min_cells]
    groups = list(table.groupby(["cell_type", "state"], sort=False))
    if not groups:
        return placeholder(f"no sample has {min_cells} CD8 or NK cells")
    sampling = sampling or {}
    tests = subset_all(tests)
    keyed = tests[tests["measure"] == "fraction"].set_index(["cell_type", "state"])
    ncols = min(4, len(groups))
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 3 * nrows), squeeze=False)
    for ax, ((cell_type, state), part) in zip(axes.ravel(), groups, strict=False):
        p = keyed["p_adj"].get((cell_type, state), np.nan)
        paired_plot(ax, part, "fraction", reference, compare,
                    f"{state}\np_adj={p:.2g}", f"fraction of {cell_type}",
                    days_apart=sampling.get("days_apart"),
                    within_days=sampling.get("within_days", 30))  # fmt: skip
    for ax in axes.ravel()[len(groups) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig
