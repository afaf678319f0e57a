"""Per-sample cell QC: metrics, fixed and MAD-based limits, scrublet doublets, the qc.tsv row."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import anndata as ad
import numpy as np
import pandas as pd

from organomics.scrna.numba_warmup import compile_qc_kernels

log = logging.getLogger(__name__)

QC_COLUMNS = [
    "sample",
    "n_cells_raw",
    "n_cells_kept",
    "median_genes",
    "median_pct_mt",
    "doublet_rate",
    "status",
    # Cells each filter removed, applied in this order (a cell counts once, at its first
    # failing filter): the five add up to n_cells_raw - n_cells_kept.
    "removed_min_genes",
    "removed_max_pct_mt",
    "removed_min_counts",
    "removed_mad",
    "removed_doublets",
]

# scrublet simulates doublets and runs a PCA on them; below this many cells it is meaningless.
MIN_CELLS_SCRUBLET = 50
# Score cut-off used when scrublet cannot place one (unimodal histogram, or no scikit-image).
FALLBACK_DOUBLET_THRESHOLD = 0.25


@dataclass(frozen=True)
class QCLimits:
    """Cell filters of one sample: config scrna.qc (its schema holds the defaults and their
    meaning) plus the run's seed (config scrna.seed, for scrublet)."""

    SCHEMA_SECTION: ClassVar[str] = "scrna.qc"

    min_genes: int = 200
    max_pct_mt: float = 20.0
    min_counts: int = 0
    mad_outliers: bool = False
    n_mads: float = 5.0
    doublets: bool = True
    remove_doublets: bool = True
    expected_doublet_rate: float = 0.06
    doublet_threshold: float | None = None
    mt_prefix: str = "MT-"
    seed: int = 0


def median_absolute_deviation_outlier(values: np.ndarray, n_mads: float) -> np.ndarray:
    """Where a value lies more than n_mads scaled MADs from the median (either side).

    Parameters
    ----------
    values
        One value per cell.
    n_mads
        How many MADs (scaled by 1.4826, so that they estimate a standard deviation) count as
        an outlier.

    Returns
    -------
    numpy.ndarray
        Boolean, True for an outlier; all False when the MAD is 0.
    """
    values = np.asarray(values, dtype=float)
    median = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - median))
    if mad == 0:
        return np.zeros(values.shape, dtype=bool)
    return np.abs(values - median) > n_mads * mad


def qc_metrics(adata: ad.AnnData, mt_prefix: str = "MT-") -> None:
    """Add n_genes_by_counts, total_counts and pct_counts_mt to adata.obs, in place.

    Parameters
    ----------
    adata
        One sample's cells with counts in X.
    mt_prefix
        Prefix of mitochondrial gene symbols (case-insensitive); the log warns when no gene
        has it.
    """
    import scanpy as sc

    adata.var["mt"] = adata.var_names.str.upper().str.startswith(mt_prefix.upper())
    if not adata.var["mt"].any():
        # Ensembl-keyed matrices or another species' prefix: % mito would be 0 for every cell.
        log.warning(
            "no gene symbol starts with mt_prefix %r: every cell has 0%% mitochondrial counts "
            "and the max_pct_mt filter removes nothing",
            mt_prefix,
        )
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt"], percent_top=None, log1p=False, inplace=True)


def _scrublet(adata: ad.AnnData, limits: QCLimits) -> None:
    """scanpy's scrublet; its automatic threshold needs a bimodal score histogram (and skimage)."""
    import scanpy as sc

    # Exact neighbours: from 8,192 cells scanpy 1.11.5 switches to pynndescent, whose csr_array
    # graph lacks `.getnnz` under scipy 1.17 and crashes; exact kNN on 30 PCs stays cheap.
    kwargs = dict(
        expected_doublet_rate=limits.expected_doublet_rate,
        random_state=limits.seed,
        verbose=False,
        use_approx_neighbors=False,
    )
    try:
        sc.pp.scrublet(adata, threshold=limits.doublet_threshold, **kwargs)
    except (ValueError, RuntimeError) as error:
        if limits.doublet_threshold is not None:
            raise
        log.warning(
            "scrublet could not set a threshold automatically (%s); using %.2f",
            error,
            FALLBACK_DOUBLET_THRESHOLD,
        )
        sc.pp.scrublet(adata, threshold=FALLBACK_DOUBLET_THRESHOLD, **kwargs)


def run_qc(adata: ad.AnnData, sample: str, limits: QCLimits) -> tuple[ad.AnnData, dict]:
    """Filter one sample's cells.

    Filters apply in order (min_genes, max_pct_mt, min_counts, MAD outliers, doublets); a cell
    counts as removed by the first one it fails.

    Parameters
    ----------
    adata
        The sample's cells with raw counts in X (QC metrics are added to its obs).
    sample
        The sample's id.
    limits
        The QC settings.

    Returns
    -------
    (anndata.AnnData, dict)
        The kept cells (counts in X, obs with the QC metrics and doublet columns, var
        ``gene_ids``) and the sample's qc.tsv row (`QC_COLUMNS`).
    """
    compile_qc_kernels()  # concurrent sample jobs compile scanpy's kernels once, not each
    n_raw = adata.n_obs
    qc_metrics(adata, limits.mt_prefix)
    obs = adata.obs
    removed = {}
    keep = np.ones(n_raw, dtype=bool)
    for name, passes in (
        ("removed_min_genes", obs["n_genes_by_counts"].to_numpy() >= limits.min_genes),
        ("removed_max_pct_mt", obs["pct_counts_mt"].to_numpy() <= limits.max_pct_mt),
        ("removed_min_counts", obs["total_counts"].to_numpy() >= limits.min_counts),
    ):
        removed[name] = int((keep & ~passes).sum())
        keep &= passes
    n_fixed = int(keep.sum())
    if limits.mad_outliers and keep.any():
        outlier = np.zeros(n_raw, dtype=bool)
        for column in ("total_counts", "n_genes_by_counts"):
            values = np.log1p(obs[column].to_numpy()[keep])
            outlier[keep] |= median_absolute_deviation_outlier(values, limits.n_mads)
        # Mitochondrial fraction: only high values are a sign of damaged cells.
        pct = obs["pct_counts_mt"].to_numpy()[keep]
        high = median_absolute_deviation_outlier(pct, limits.n_mads) & (pct > np.median(pct))
        outlier[keep] |= high
        keep &= ~outlier
    removed["removed_mad"] = n_fixed - int(keep.sum())
    log.info(
        "%s: %d cells, %d pass fixed limits, %d after MAD outliers",
        sample,
        n_raw,
        n_fixed,
        int(keep.sum()),
    )
    kept = adata[keep].copy()
    kept.obs["doublet_score"] = np.nan
    kept.obs["predicted_doublet"] = False
    doublet_rate = np.nan
    removed["removed_doublets"] = 0
    if limits.doublets and kept.n_obs >= MIN_CELLS_SCRUBLET:
        _scrublet(kept, limits)
        predicted = kept.obs["predicted_doublet"].astype(bool).to_numpy()
        doublet_rate = float(predicted.mean())
        log.info(
            "%s: scrublet calls %d doublets (%.1f%%)", sample, predicted.sum(), 100 * doublet_rate
        )
        if limits.remove_doublets:
            kept = kept[~predicted].copy()
            removed["removed_doublets"] = int(predicted.sum())
        kept.uns.pop("scrublet", None)
    elif limits.doublets:
        log.warning(
            "%s: only %d cells after QC; doublet detection skipped (needs %d)",
            sample,
            kept.n_obs,
            MIN_CELLS_SCRUBLET,
        )
    status = "ok" if kept.n_obs > 0 else "no cells after QC; excluded from the cohort"
    if kept.n_obs == 0:
        log.warning("%s: no cells pass QC; the cohort continues without this sample", sample)
    row = {
        "sample": sample,
        "n_cells_raw": n_raw,
        "n_cells_kept": kept.n_obs,
        "median_genes": float(np.median(kept.obs["n_genes_by_counts"])) if kept.n_obs else np.nan,
        "median_pct_mt": float(np.median(kept.obs["pct_counts_mt"])) if kept.n_obs else np.nan,
        "doublet_rate": doublet_rate,
        "status": status,
        **removed,
    }
    kept.obs["predicted_doublet"] = kept.obs["predicted_doublet"].astype(bool)
    kept.var = kept.var[["gene_ids"]] if "gene_ids" in kept.var else kept.var.iloc[:, :0]
    return kept, row


def qc_table(rows: list[dict]) -> pd.DataFrame:
    """The cohort qc.tsv from per-sample rows, in sheet order.

    Parameters
    ----------
    rows
        The samples' rows (`run_qc`).

    Returns
    -------
    pandas.DataFrame
        `QC_COLUMNS`.
    """
    return pd.DataFrame(rows, columns=QC_COLUMNS)


def exclude_empty_samples(table: pd.DataFrame, records: list[dict], exclusions) -> list[str]:
    """Record each sample without cells after QC in `exclusions` (step "qc").

    Parameters
    ----------
    table
        qc.tsv (QC_COLUMNS).
    records
        sample, patient, site of every sample (sample_records("scrna")).
    exclusions
        organomics.excluded.Exclusions of the step.

    Returns
    -------
    list of str
        The excluded samples, in sheet order.
    """
    info = {r["sample"]: r for r in records}
    empty = table.loc[table["n_cells_kept"] == 0]
    for _, row in empty.iterrows():
        counts = {
            c.removeprefix("removed_"): int(row[c]) for c in QC_COLUMNS if c.startswith("removed_")
        }
        why = ", ".join(f"{n} by {name}" for name, n in counts.items() if n)
        record = info.get(row["sample"], {})
        exclusions.add(
            "sample",
            row["sample"],
            f"no cells after QC: {int(row['n_cells_raw'])} cells read, removed {why or 'none'}",
            record.get("patient", ""),
            record.get("site", ""),
        )
    return empty["sample"].tolist()
