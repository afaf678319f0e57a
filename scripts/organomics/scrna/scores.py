"""Signature scores per cell, per-sample summaries, composition and the paired LM vs PL tests."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.scrna.annotate import gene_list, load_yaml
from organomics.stats import paired_site_comparison

# anndata only for type hints: the Snakefile imports this module at parse time, in every run
# and cluster job (tests/test_parse_time.py)
if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ["sample", "patient", "site"]
CELL_TYPE_COLUMNS = [*SAMPLE_COLUMNS, "cell_type", "n_cells", "fraction"]
STATE_COLUMNS = [*SAMPLE_COLUMNS, "cell_type", "cell_state", "n_cells", "fraction"]
SCORE_COLUMNS = [*SAMPLE_COLUMNS, "cell_type", "signature", "mean_score", "n_cells"]
FRACTION = "fraction"


@dataclass(frozen=True)
class Signature:
    """A gene signature and the compartments in which sites are compared (None = all)."""

    name: str
    genes: list[str]
    cell_types: list[str] | None = None
    description: str = ""


def load_signatures(path: str | Path) -> list[Signature]:
    """Read and check a signature YAML (format: resources/scrna/signatures.yaml).

    Parameters
    ----------
    path
        The signature file (config scrna.signatures).

    Returns
    -------
    list of Signature
        In file order; a bare gene list is a signature compared in every cell type.

    Raises
    ------
    InputError
        For a missing or malformed file, a reserved name or an unknown key.
    """
    data = load_yaml(path)
    signatures = []
    for name, spec in data.items():
        if name == FRACTION:
            raise InputError(path, f"signature name '{FRACTION}' is reserved for composition")
        if isinstance(spec, list):
            spec = {"genes": spec}
        if not isinstance(spec, dict) or "genes" not in spec:
            raise InputError(path, f"{name}: needs a 'genes' list")
        unknown = set(spec) - {"genes", "cell_types", "description"}
        if unknown:
            raise InputError(path, f"{name}: unknown keys {sorted(unknown)}")
        cell_types = spec.get("cell_types")
        signatures.append(
            Signature(
                name=str(name),
                genes=gene_list(spec["genes"], path, f"{name}.genes"),
                cell_types=None
                if cell_types is None
                else gene_list(cell_types, path, f"{name}.cell_types"),
                description=str(spec.get("description", "")),
            )
        )
    if not signatures:
        raise InputError(path, "no signatures defined")
    return signatures


def control_genes(
    gene_means: pd.Series, genes: list[str], ctrl_size: int, seed: int, n_bins: int = 25
) -> pd.Index:
    """Seurat's expression-matched control genes, drawn exactly as scanpy's score_genes draws them.

    Genes are cut into n_bins expression bins; from each bin holding a signature gene, ctrl_size
    genes are sampled (numpy's global generator seeded with seed, as scanpy 1.11 does), and the
    signature genes themselves are removed. Taking the means as input lets the cohort job compute
    them one sample at a time instead of holding every gene of every cell.

    Parameters
    ----------
    gene_means
        Mean log-normalised expression of every gene over all cells (the gene pool).
    genes
        The signature's measured genes.
    ctrl_size
        Control genes drawn per bin.
    seed
        Seed of numpy's global generator.
    n_bins
        Expression bins.

    Returns
    -------
    pandas.Index
        The control genes, sorted.
    """
    gene_list = pd.Index(genes)
    np.random.seed(seed)
    pool = gene_means[np.isfinite(gene_means)]
    n_items = int(np.round(len(pool) / (n_bins - 1)))
    cuts = pool.rank(method="min") // n_items
    chosen = pd.Index([], dtype="string")
    for cut in np.unique(cuts.loc[gene_list]):
        candidates = cuts[cuts == cut].index
        if ctrl_size < len(candidates):
            candidates = candidates.to_series().sample(ctrl_size).index
        chosen = chosen.union(candidates.difference(gene_list))
    return chosen


def signature_genes(signatures: list[Signature], measured: pd.Index) -> dict[str, list[str]]:
    """Measured genes per signature (warned when some or all are missing; empty ones dropped).

    Parameters
    ----------
    signatures
        The signatures.
    measured
        The genes measured.

    Returns
    -------
    dict of str to list of str
        The measured genes of each signature with at least one.
    """
    present = {}
    for signature in signatures:
        genes = [g for g in signature.genes if g in measured]
        missing = sorted(set(signature.genes) - set(genes))
        if missing:
            log.warning("signature %s: genes not measured: %s", signature.name, ", ".join(missing))
        if not genes:
            log.warning("signature %s: no gene measured; not scored", signature.name)
            continue
        present[signature.name] = genes
    return present


def score_controls(
    signatures: list[Signature], gene_means: pd.Series, seed: int = 0
) -> dict[str, tuple[list[str], pd.Index]]:
    """Each signature's measured genes and control genes over the gene pool of gene_means.

    Parameters
    ----------
    signatures
        The signatures.
    gene_means
        Mean log-normalised expression of every gene (the pool).
    seed
        Seed of the draw.

    Returns
    -------
    dict of str to (list of str, pandas.Index)
        ``{signature: (its measured genes, its control genes)}``; signatures without a
        measured gene are left out.
    """
    controls = {}
    for name, genes in signature_genes(signatures, gene_means.index).items():
        ctrl_size = min(50, max(1, len(gene_means) - len(genes)))
        controls[name] = (genes, control_genes(gene_means, genes, ctrl_size, seed))
    return controls


def score_signatures(
    adata: ad.AnnData,
    signatures: list[Signature],
    seed: int = 0,
    controls: dict[str, tuple[list[str], pd.Index]] | None = None,
) -> list[str]:
    """Seurat/scanpy score_genes on log-normalised X for each signature, in place.

    score = mean of the signature's genes - mean of its control genes, per cell.

    Parameters
    ----------
    adata
        Log-normalised cells; an obs column per scored signature is set.
    signatures
        The signatures.
    seed
        Seed of the control draw.
    controls
        `score_controls`' output; None draws them from X's gene means. Pass them when X
        holds only a subset of the genes (the signature and control genes must be among them).

    Returns
    -------
    list of str
        The names scored.
    """
    if controls is None:
        gene_means = pd.Series(mean64(adata.X, axis=0), index=adata.var_names)
        controls = score_controls(signatures, gene_means, seed)
    scored = []
    for name, (genes, control) in controls.items():
        columns = [adata.var_names.get_indexer(g) for g in (genes, control)]
        adata.obs[name] = mean64(adata.X[:, columns[0]], 1) - mean64(adata.X[:, columns[1]], 1)
        scored.append(name)
    return scored


def mean64(x, axis: int) -> np.ndarray:
    """Means along an axis, summed in float64 as scanpy's score_genes does (X is float32).

    Parameters
    ----------
    x
        A dense or sparse matrix.
    axis
        0 for column means, 1 for row means.

    Returns
    -------
    numpy.ndarray
        One mean per row or column.
    """
    return np.asarray(x.sum(axis=axis, dtype=np.float64)).ravel() / x.shape[axis]


def _samples(obs: pd.DataFrame, samples: pd.DataFrame | None) -> pd.DataFrame:
    if samples is not None:
        return samples[SAMPLE_COLUMNS].astype(str).reset_index(drop=True)
    return obs[SAMPLE_COLUMNS].astype(str).drop_duplicates().reset_index(drop=True)


def composition(
    obs: pd.DataFrame, labels: list[str], samples: pd.DataFrame | None = None
) -> pd.DataFrame:
    """cell_types.tsv: cells and fraction per sample and label (zeros included).

    Parameters
    ----------
    obs
        The cells' obs (``sample``, ``cell_type``).
    labels
        Every cell type, in order.
    samples
        ``sample, patient, site`` of the samples to list (in this order); default those in
        obs.

    Returns
    -------
    pandas.DataFrame
        `CELL_TYPE_COLUMNS`; the fraction is empty for a sample without cells.
    """
    sample_table = _samples(obs, samples)
    counts = (
        obs.assign(cell_type=obs["cell_type"].astype(str), sample=obs["sample"].astype(str))
        .groupby(["sample", "cell_type"], observed=True)
        .size()
    )
    rows = []
    for _, s in sample_table.iterrows():
        total = int(counts.get(s["sample"], pd.Series(dtype=int)).sum())
        for label in labels:
            n = int(counts.get((s["sample"], label), 0))
            rows.append(
                {
                    **s.to_dict(),
                    "cell_type": label,
                    "n_cells": n,
                    "fraction": n / total if total else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=CELL_TYPE_COLUMNS)


def state_composition(obs: pd.DataFrame) -> pd.DataFrame:
    """cell_states.tsv: cells per sample, compartment and state; fraction within compartment.

    Parameters
    ----------
    obs
        The cells' obs (``sample, patient, site, cell_type, cell_state``).

    Returns
    -------
    pandas.DataFrame
        `STATE_COLUMNS`, compartments with states only.
    """
    table = (
        obs.assign(**{c: obs[c].astype(str) for c in [*SAMPLE_COLUMNS, "cell_type", "cell_state"]})
        .groupby([*SAMPLE_COLUMNS, "cell_type", "cell_state"], observed=True)
        .size()
        .rename("n_cells")
        .reset_index()
    )
    table = table[table["cell_type"] != table["cell_state"]]
    totals = table.groupby(["sample", "cell_type"])["n_cells"].transform("sum")
    table["fraction"] = table["n_cells"] / totals
    return table[STATE_COLUMNS].reset_index(drop=True)


def mean_scores(obs: pd.DataFrame, signatures: list[str]) -> pd.DataFrame:
    """signature_scores.tsv: mean score per sample x cell type x signature.

    Parameters
    ----------
    obs
        The cells' obs with one column per signature.
    signatures
        The scored signatures' names.

    Returns
    -------
    pandas.DataFrame
        `SCORE_COLUMNS`, groups in order of first appearance.
    """
    frame = obs[[*SAMPLE_COLUMNS, "cell_type", *signatures]].copy()
    for column in [*SAMPLE_COLUMNS, "cell_type"]:
        frame[column] = frame[column].astype(str)
    long = frame.melt(
        id_vars=[*SAMPLE_COLUMNS, "cell_type"], var_name="signature", value_name="score"
    )
    table = (
        long.groupby([*SAMPLE_COLUMNS, "cell_type", "signature"], sort=False)["score"]
        .agg(mean_score="mean", n_cells="size")
        .reset_index()
    )
    return table[SCORE_COLUMNS]


def site_comparison(
    scores: pd.DataFrame,
    fractions: pd.DataFrame,
    signatures: list[Signature],
    reference: str,
    compare: str,
    min_cells: int = 10,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired tests per patient: signature means (one BH family) and fractions (another).

    Parameters
    ----------
    scores
        signature_scores (`mean_scores`).
    fractions
        cell_types (`composition`).
    signatures
        The scored signatures (their cell_types restrict what is compared).
    reference, compare
        The two site labels.
    min_cells
        A sample's mean score enters a test only if it comes from at least this many cells.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: the ``all`` rows, then the ``simultaneous`` ones, each subset
        its own BH families); None (no collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per cell type and signature (``fraction`` for composition), with
        organomics.stats.paired_site_comparison's columns.
    """
    wanted = []
    for signature in signatures:
        rows = scores[scores["signature"] == signature.name]
        if signature.cell_types is not None:
            rows = rows[rows["cell_type"].isin(signature.cell_types)]
        wanted.append(rows)
    tested = pd.concat(wanted) if wanted else scores.iloc[:0]
    tested = tested[tested["n_cells"] >= min_cells]
    parts = []
    if not tested.empty:
        parts.append(
            paired_site_comparison(
                tested, "mean_score", ["cell_type", "signature"], reference, compare, simultaneous
            )
        )
    fractions = fractions.dropna(subset=["fraction"]).assign(signature=FRACTION)
    if not fractions.empty:
        parts.append(
            paired_site_comparison(
                fractions, "fraction", ["cell_type", "signature"], reference, compare, simultaneous
            )
        )
    if not parts:
        return pd.DataFrame(columns=["cell_type", "signature", "n_pairs"])
    table = pd.concat(parts, ignore_index=True)
    if simultaneous is not None:  # every subset's rows together, "all" first
        table = table.sort_values("subset", kind="stable", ignore_index=True)
    return table
