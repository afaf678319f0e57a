"""The cohort job: QC'd samples in, integrated + annotated + scored AnnData and tables out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import pandas as pd

from organomics.errors import InputError
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
    """Read per-sample h5ad files into one AnnData; samples without cells are reported, skipped.

    Memory: the cohort's counts are assembled in preallocated CSR arrays one sample at a time,
    so the peak is one cohort matrix plus one sample (ad.concat would hold two or three).
    """
    import h5py
    import numpy as np
    import scipy.sparse as sp
    from anndata.io import read_elem

    info = sample_table(records).set_index("sample")
    headers = []
    for path in paths:
        with h5py.File(path, "r") as f:
            var = read_elem(f["var"])
            shape = tuple(f["X"].attrs["shape"]) if "shape" in f["X"].attrs else f["X"].shape
            sample = str(read_elem(f["uns"]).get("sample", Path(path).stem)) if "uns" in f else ""
            nnz = f["X"]["data"].shape[0] if isinstance(f["X"], h5py.Group) else None
        sample = sample or Path(path).stem
        if shape[0] == 0:
            log.warning("%s: no cells after QC; the cohort continues without it", sample)
            continue
        headers.append((path, sample, var, shape[0], nnz))
    if not headers:
        raise InputError(None, "no sample has cells after QC (see results/scrna/qc.tsv)")
    genes = headers[0][2].index
    for _, _, var, _, _ in headers[1:]:
        genes = genes.intersection(var.index, sort=False)
    if len(genes) < max(len(h[2]) for h in headers):
        log.warning("genes not measured in every sample are dropped; %d genes kept", len(genes))
    n_obs = sum(h[3] for h in headers)
    total_nnz = sum(h[4] for h in headers if h[4] is not None)
    exact = all(h[4] is not None for h in headers) and all(
        h[2].index.equals(genes) for h in headers
    )
    data = np.empty(total_nnz if exact else 0, dtype=np.float32)
    indices = np.empty(total_nnz if exact else 0, dtype=np.int32)
    indptr = np.zeros(n_obs + 1, dtype=np.int64)
    pieces, obs_parts = [], []
    row = pos = 0
    for path, sample, var, n, _ in headers:
        part = ad.read_h5ad(path)
        x = part.X if sp.issparse(part.X) else sp.csr_matrix(part.X)
        x = sp.csr_matrix(x, dtype=np.float32)
        if not var.index.equals(genes):
            x = x[:, var.index.get_indexer(genes)]
        x.sum_duplicates()
        if exact:
            data[pos : pos + x.nnz] = x.data
            indices[pos : pos + x.nnz] = x.indices
        else:
            pieces.append(x)
        indptr[row + 1 : row + n + 1] = x.indptr[1:] + pos
        row, pos = row + n, pos + x.nnz
        obs = part.obs.copy()
        obs["sample"] = sample
        obs["patient"] = info.loc[sample, "patient"]
        obs["site"] = info.loc[sample, "site"]
        obs_parts.append(obs)
        var_ids = part.var.reindex(genes).get("gene_ids")
        del part, x
    if not exact:
        stacked = sp.vstack(pieces).tocsr()
        data, indices = stacked.data.astype(np.float32), stacked.indices.astype(np.int32)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(n_obs, len(genes)))
    obs = pd.concat(obs_parts)
    for column in ("sample", "patient", "site"):
        obs[column] = obs[column].astype(str).astype("category")
    var = pd.DataFrame(index=pd.Index(genes))
    if var_ids is not None:
        var["gene_ids"] = var_ids.to_numpy()
    adata = ad.AnnData(X=matrix, obs=obs, var=var)
    if not adata.obs_names.is_unique:
        adata.obs_names_make_unique()
    log.info("%d cells x %d genes from %d samples", *adata.shape, len(headers))
    return adata


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
