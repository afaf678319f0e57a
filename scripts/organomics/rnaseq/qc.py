"""Sample QC for bulk RNA: library sizes, size factors, PCA of the most variable VST genes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from organomics.rnaseq.deseq import size_factors


def library_table(counts: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """sample, patient, site, library_size, detected_genes, size_factor (median of ratios)."""
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
    """Counts divided by each sample's size factor (DESeq2 `counts(dds, normalized=TRUE)`)."""
    return counts.div(factors.reindex(counts.columns).to_numpy(), axis=1)


def pca(vst: pd.DataFrame, n_top: int = 500, n_components: int = 2) -> tuple[pd.DataFrame, list]:
    """PCA (SVD of centred data) on the n_top most variable genes, as DESeq2's plotPCA.

    Returns (sample x PC scores, fraction of variance per PC).
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
    """Euclidean distances between samples on VST values (DESeq2 vignette's heatmap)."""
    data = vst.T.to_numpy(dtype=float)
    squared = (data**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * data @ data.T, 0))
    np.fill_diagonal(distance, 0.0)
    return pd.DataFrame(distance, index=vst.columns, columns=vst.columns)
