"""Signature scores per cell, per-sample summaries, composition and the paired LM vs PL tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.scrna.annotate import gene_list, load_yaml
from organomics.stats import paired_site_comparison

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
    """Read and check a signature YAML (format: resources/scrna/signatures.yaml)."""
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


def score_signatures(adata: ad.AnnData, signatures: list[Signature], seed: int = 0) -> list[str]:
    """scanpy score_genes on log-normalised X for each signature; obs column per signature.

    Returns the names scored; a signature with none of its genes measured is skipped (warned).
    """
    import scanpy as sc

    scored = []
    for signature in signatures:
        present = [g for g in signature.genes if g in adata.var_names]
        missing = sorted(set(signature.genes) - set(present))
        if missing:
            log.warning("signature %s: genes not measured: %s", signature.name, ", ".join(missing))
        if not present:
            log.warning("signature %s: no gene measured; not scored", signature.name)
            continue
        sc.tl.score_genes(
            adata,
            present,
            score_name=signature.name,
            random_state=seed,
            use_raw=False,
            ctrl_size=min(50, max(1, adata.n_vars - len(present))),
        )
        scored.append(signature.name)
    return scored


def _samples(obs: pd.DataFrame, samples: pd.DataFrame | None) -> pd.DataFrame:
    if samples is not None:
        return samples[SAMPLE_COLUMNS].astype(str).reset_index(drop=True)
    return obs[SAMPLE_COLUMNS].astype(str).drop_duplicates().reset_index(drop=True)


def composition(
    obs: pd.DataFrame, labels: list[str], samples: pd.DataFrame | None = None
) -> pd.DataFrame:
    """cell_types.tsv: cells and fraction per sample and label (zeros included)."""
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
    """cell_states.tsv: cells per sample, compartment and state; fraction within compartment."""
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
    """signature_scores.tsv: mean score per sample x cell type x signature."""
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
) -> pd.DataFrame:
    """Paired tests per patient: signature means (one BH family) and fractions (another).

    A sample's mean score enters a test only if it comes from at least min_cells cells.
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
                tested, "mean_score", ["cell_type", "signature"], reference, compare
            )
        )
    fractions = fractions.dropna(subset=["fraction"]).assign(signature=FRACTION)
    if not fractions.empty:
        parts.append(
            paired_site_comparison(
                fractions, "fraction", ["cell_type", "signature"], reference, compare
            )
        )
    if not parts:
        return pd.DataFrame(columns=["cell_type", "signature", "n_pairs"])
    return pd.concat(parts, ignore_index=True)
