"""The cohort job: QC'd samples in, integrated + annotated + scored AnnData and tables out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import pandas as pd

from organomics.scrna import annotate, integrate, scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CohortParams:
    """Settings of the cohort job (config scrna.integration / scrna.comparison)."""

    integration: integrate.IntegrationParams = field(default_factory=integrate.IntegrationParams)
    state_resolution: float = 1.0
    min_cells: int = 10
    seed: int = 0


def sample_table(records: Sequence[dict]) -> pd.DataFrame:
    """sample, patient, site for every sample of the sheet, in sheet order."""
    return pd.DataFrame(list(records), columns=scores.SAMPLE_COLUMNS).astype(str)


def load_samples(paths: Sequence[str | Path], records: Sequence[dict]) -> ad.AnnData:
    """Read per-sample h5ad files, attach patient/site, drop (and report) samples without cells."""
    info = sample_table(records).set_index("sample")
    parts = []
    for path in paths:
        part = ad.read_h5ad(path)
        sample = str(part.uns.get("sample", Path(path).stem))
        if part.n_obs == 0:
            log.warning("%s: no cells after QC; the cohort continues without it", sample)
            continue
        part.obs["sample"] = sample
        part.obs["patient"] = info.loc[sample, "patient"]
        part.obs["site"] = info.loc[sample, "site"]
        part.uns = {}
        parts.append(part)
    return integrate.concatenate(parts)


def run(
    adata: ad.AnnData,
    markers: annotate.Markers,
    signatures: list[scores.Signature],
    params: CohortParams,
) -> tuple[list[str], pd.DataFrame]:
    """Integrate, annotate and score in place.

    Returns the signature names scored and the cluster table (cluster, n_cells, cell_type and
    each compartment's marker score) that shows why each cluster got its label.
    """
    integrate.integrate(adata, params.integration)
    cluster_scores = annotate.annotate_compartments(adata, markers)
    annotate.annotate_states(
        adata,
        markers,
        resolution=params.state_resolution,
        seed=params.seed,
        n_neighbors=params.integration.n_neighbors,
        harmony_key=params.integration.harmony_key,
    )
    scored = scores.score_signatures(adata, signatures, seed=params.seed)
    for column in ("sample", "patient", "site"):
        adata.obs[column] = adata.obs[column].astype("category")
    adata.uns["signatures"] = scored
    adata.uns["cell_type_order"] = markers.labels
    clusters = adata.obs["leiden"].astype(str)
    table = cluster_scores.round(4)
    table.insert(0, "cell_type", annotate.best_label(cluster_scores, markers.min_score))
    table.insert(0, "n_cells", clusters.value_counts().reindex(table.index).to_numpy())
    table.index.name = "cluster"
    table = table.reset_index()
    table = table.sort_values("cluster", key=lambda c: c.astype(int)).reset_index(drop=True)
    return scored, table


def tables(
    obs: pd.DataFrame,
    labels: list[str],
    signatures: list[scores.Signature],
    scored: list[str],
    records: Sequence[dict],
    reference: str,
    compare: str,
    min_cells: int,
) -> dict[str, pd.DataFrame]:
    """cell_types, cell_states, signature_scores and site_comparison tables from annotated obs.

    Samples without cells after QC are left out of every table (qc.tsv reports them).
    """
    present = set(obs["sample"].astype(str))
    samples = sample_table(records)
    excluded = samples.loc[~samples["sample"].isin(present), "sample"].tolist()
    if excluded:
        log.warning("samples without cells after QC, not in the cohort: %s", ", ".join(excluded))
    samples = samples[samples["sample"].isin(present)]
    cell_types = scores.composition(obs, labels, samples)
    cell_states = scores.state_composition(obs)
    signature_scores = scores.mean_scores(obs, scored)
    wanted = [s for s in signatures if s.name in scored]
    comparison = scores.site_comparison(
        signature_scores, cell_types, wanted, reference, compare, min_cells
    )
    return {
        "cell_types": cell_types,
        "cell_states": cell_states,
        "signature_scores": signature_scores,
        "site_comparison": comparison,
    }
