"""seurat_v3 highly variable genes, one batch (sample) at a time, combined as scanpy does."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

LOESS_SPANS = (0.3, 0.5, 0.8)  # scanpy's default span first

HVG_COLUMNS = [
    "highly_variable",
    "highly_variable_rank",
    "highly_variable_nbatches",
    "variances_norm",
    "means",
    "variances",
]


def batch_variances(counts: ad.AnnData, name: str = "") -> np.ndarray:
    """One batch's seurat_v3 normalised variance per gene.

    This is exactly the per-batch row scanpy computes with batch_key: a batch's value depends on
    its own cells only, so a cohort never has to be in memory at once to select its HVGs.

    Parameters
    ----------
    counts
        The batch's cells with raw counts in X.
    name
        The batch's name, for the log.

    Returns
    -------
    numpy.ndarray
        float64 normalised variance per gene (zeros for a batch of fewer than two cells).
    """
    import scanpy as sc

    if counts.n_obs < 2:
        return np.zeros(counts.n_vars)  # scanpy's loess needs two cells; a 1-cell batch ranks last

    def variances(span: float) -> np.ndarray:
        table = sc.pp.highly_variable_genes(
            counts,
            flavor="seurat_v3",
            n_top_genes=min(2, counts.n_vars),
            check_values=False,
            span=span,
            inplace=False,
        )
        return table["variances_norm"].to_numpy(dtype=np.float64)

    # Small batches can make the loess mean-variance fit singular; a wider span fixes it.
    for span in LOESS_SPANS[:-1]:
        try:
            return variances(span)
        except ValueError as error:
            log.warning("%s: seurat_v3 loess fit failed with span %.1f (%s); retrying",
                        name, span, error)  # fmt: skip
    return variances(LOESS_SPANS[-1])


def combine(
    norm_variances: np.ndarray,
    genes: pd.Index,
    n_top_genes: int,
    sums: np.ndarray | None = None,
    squares: np.ndarray | None = None,
    n_obs: int | None = None,
) -> pd.DataFrame:
    """HVG table from the batches' normalised variances, as scanpy's seurat_v3.

    Ranks within each batch; a gene's rank is its median among the batches where it is in the
    top n_top_genes; genes are ordered by that rank, then by how many batches selected it.

    Parameters
    ----------
    norm_variances
        batches x genes normalised variances (`batch_variances` stacked).
    genes
        The genes (columns of `norm_variances`).
    n_top_genes
        How many genes are highly variable.
    sums, squares, n_obs
        Optional per-gene count sums and sums of squares over all `n_obs` cells, giving the
        ``means`` and ``variances`` columns.

    Returns
    -------
    pandas.DataFrame
        `HVG_COLUMNS` by gene (``means``/``variances`` only with the sums).
    """
    # The same numpy calls as scanpy 1.11 (_highly_variable_genes_seurat_v3), so ties break alike.
    ranked = np.argsort(np.argsort(-norm_variances, axis=1), axis=1).astype(np.float32)
    n_batches_high = np.sum((ranked < n_top_genes).astype(int), axis=0)
    ranked[ranked >= n_top_genes] = np.nan
    median_rank = np.ma.median(np.ma.masked_invalid(ranked), axis=0).filled(np.nan)
    table = pd.DataFrame(
        {
            "highly_variable_rank": median_rank,
            "highly_variable_nbatches": n_batches_high,
            "variances_norm": np.mean(norm_variances, axis=0),
        },
        index=genes,
    )
    order = (
        table[["highly_variable_rank", "highly_variable_nbatches"]]
        .sort_values(
            ["highly_variable_rank", "highly_variable_nbatches"],
            ascending=[True, False],
            na_position="last",
        )
        .index
    )
    table.insert(0, "highly_variable", table.index.isin(order[: int(n_top_genes)]))
    if sums is not None and squares is not None and n_obs:
        means = sums / n_obs
        table["means"] = means
        table["variances"] = (squares - n_obs * means**2) / max(n_obs - 1, 1)
    return table
