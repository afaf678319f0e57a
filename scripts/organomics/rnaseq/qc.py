"""Sample QC for bulk RNA (library sizes, size factors, PCA, distances) and the figures' data."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from organomics.errors import InputError

log = logging.getLogger(__name__)


def size_factors(counts: pd.DataFrame) -> pd.Series:
    """DESeq2 median-of-ratios size factors (genes with a zero in any sample are ignored).

    Parameters
    ----------
    counts
        Genes x samples counts.

    Returns
    -------
    pandas.Series
        ``size_factor`` per sample.

    Raises
    ------
    InputError
        When every gene has a zero in some sample.
    """
    with np.errstate(divide="ignore"):
        logs = np.log(counts.to_numpy(dtype=float))
    usable = np.isfinite(logs).all(axis=1)
    if not usable.any():
        raise InputError(None, "every gene has a zero count in some sample; cannot normalise")
    log_means = logs[usable].mean(axis=1, keepdims=True)
    factors = np.exp(np.median(logs[usable] - log_means, axis=0))
    return pd.Series(factors, index=counts.columns, name="size_factor")


def library_table(counts: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Library size, detected genes and size factor per sample (library_sizes.tsv).

    Parameters
    ----------
    counts
        Genes x samples counts.
    design
        sample, patient, site of the samples.

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, library_size, detected_genes, size_factor (median of ratios),
        in the order of the counts' columns.
    """
    factors = size_factors(counts)
    table = pd.DataFrame(
        {
            "sample": counts.columns,
            "library_size": counts.sum(axis=0).to_numpy(),
            "detected_genes": (counts > 0).sum(axis=0).to_numpy(),
            "size_factor": factors.to_numpy(),
        }
    )
    info = design[["sample", "patient", "site"]]
    return info.merge(table, on="sample", how="right")[
        ["sample", "patient", "site", "library_size", "detected_genes", "size_factor"]
    ]


def normalized(counts: pd.DataFrame, factors: pd.Series) -> pd.DataFrame:
    """Counts divided by each sample's size factor (DESeq2 `counts(dds, normalized=TRUE)`).

    Parameters
    ----------
    counts
        Genes x samples counts.
    factors
        Size factor per sample (index = sample ids).

    Returns
    -------
    pandas.DataFrame
        Genes x samples normalised counts.
    """
    return counts.div(factors.reindex(counts.columns).to_numpy(), axis=1)


def pca(vst: pd.DataFrame, n_top: int = 500, n_components: int = 2) -> tuple[pd.DataFrame, list]:
    """PCA (SVD of centred data) on the n_top most variable genes, as DESeq2's plotPCA.

    Parameters
    ----------
    vst
        Genes x samples variance-stabilised values.
    n_top
        How many of the most variable genes to use.
    n_components
        Principal components to return.

    Returns
    -------
    (pandas.DataFrame, list of float)
        Samples x PC scores (``PC1``, ``PC2``...), and the fraction of variance of each PC.
    """
    variances = vst.var(axis=1)
    top = variances.sort_values(ascending=False).index[: min(n_top, len(vst))]
    data = vst.loc[top].T.to_numpy(dtype=float)
    data = data - data.mean(axis=0)
    u, s, _ = np.linalg.svd(data, full_matrices=False)
    k = min(n_components, len(s))
    scores = u[:, :k] * s[:k]
    # Sign convention: the largest |loading| sample is positive, so reruns give the same picture.
    for j in range(k):
        if scores[np.argmax(np.abs(scores[:, j])), j] < 0:
            scores[:, j] *= -1
    explained = (s**2 / np.sum(s**2))[:k].tolist()
    columns = [f"PC{j + 1}" for j in range(k)]
    return pd.DataFrame(scores, index=vst.columns, columns=columns), explained


def sample_distances(vst: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distances between samples on VST values (DESeq2 vignette's heatmap).

    Parameters
    ----------
    vst
        Genes x samples variance-stabilised values.

    Returns
    -------
    pandas.DataFrame
        Samples x samples distances (zero diagonal).
    """
    data = vst.T.to_numpy(dtype=float)
    squared = (data**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * data @ data.T, 0))
    np.fill_diagonal(distance, 0.0)
    return pd.DataFrame(distance, index=vst.columns, columns=vst.columns)


def heatmap_genes(
    results: pd.DataFrame,
    measured: Iterable[str],
    by_label: Mapping[str, str],
    wanted: Sequence[str],
    n_top: int,
) -> list[str]:
    """The genes of the expression heatmap: the top DE genes, then the wanted ones.

    Parameters
    ----------
    results
        The DESeq2 results table, sorted by padj (``gene``, ``padj``).
    measured
        Gene ids with values to draw (the VST's index).
    by_label
        Label (symbol or gene id) -> gene id, from :func:`genesets.gene_labels`.
    wanted
        Labels to add after the top genes (genes of interest, then signature genes).
    n_top
        How many genes with a padj to take from the top of `results`.

    Returns
    -------
    list of str
        Gene ids, each once, in that order.

    Raises
    ------
    InputError
        When no gene is left to draw.
    """
    top = results.dropna(subset=["padj"]).head(n_top)["gene"].tolist()
    named = [by_label[label] for label in wanted if label in by_label]
    measured = set(measured)
    genes = [gene for gene in dict.fromkeys(top + named) if gene in measured]
    if not genes:
        raise InputError(None, "no gene to draw in the heatmap")
    return genes


def genes_of_interest_values(
    counts: pd.DataFrame,
    factors: pd.Series,
    by_label: Mapping[str, str],
    genes_of_interest: Sequence[str],
    design: pd.DataFrame,
) -> tuple[pd.DataFrame, list[str]]:
    """log2(normalised count + 1) of the genes of interest, one row per gene and sample.

    Parameters
    ----------
    counts
        Genes x samples counts.
    factors
        Size factor per sample.
    by_label
        Label (symbol or gene id) -> gene id, from :func:`genesets.gene_labels`.
    genes_of_interest
        Labels (config ``rnaseq.genes_of_interest``); those not in the counts are logged.
    design
        sample, patient, site of the samples.

    Returns
    -------
    (pandas.DataFrame, list of str)
        gene (the label), sample, value, patient, site; and the labels found, in order.
    """
    norm = np.log2(normalized(counts, factors) + 1)
    chosen = [(label, by_label[label]) for label in genes_of_interest if label in by_label]
    missing = [label for label in genes_of_interest if label not in by_label]
    if missing:
        log.warning("genes of interest not in the counts: %s", ", ".join(missing))
    long = pd.concat(
        [
            pd.DataFrame(
                {"gene": label, "sample": norm.columns, "value": norm.loc[gene].to_numpy()}
            )
            for label, gene in chosen
        ]
        or [pd.DataFrame(columns=["gene", "sample", "value"])]
    ).merge(design, on="sample")
    return long, [label for label, _ in chosen]
