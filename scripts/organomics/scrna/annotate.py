"""Marker-based annotation: clusters into broad compartments, then T/NK subclusters into states."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from organomics.errors import InputError

# anndata is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)
if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger(__name__)

OTHER = "other"


@dataclass
class Markers:
    """A marker file: compartments (positive/negative genes), T/NK states, minimum score."""

    compartments: dict[str, dict[str, list[str]]]
    states: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    min_score: float = 0.25

    @property
    def labels(self) -> list[str]:
        """Cell types in order: the compartments, then OTHER."""
        return [*self.compartments, OTHER]


def gene_list(value, path, where) -> list[str]:
    """A marker file's gene list, checked.

    Parameters
    ----------
    value
        The YAML value.
    path
        The marker file (for errors).
    where
        The key holding the list (for errors), e.g. ``compartments.T_CD8.positive``.

    Returns
    -------
    list of str
        The gene symbols.

    Raises
    ------
    InputError
        When the value is not a list of non-empty strings.
    """
    if not isinstance(value, list) or not all(isinstance(g, str) and g for g in value):
        raise InputError(path, f"{where}: expected a list of gene symbols, got {value!r}")
    return list(value)


def load_markers(path: str | Path) -> Markers:
    """Read and check a marker YAML (format: resources/scrna/markers.yaml).

    Parameters
    ----------
    path
        The marker file (config scrna.markers).

    Returns
    -------
    Markers
        Compartments with positive and negative genes, T/NK states, min_score (0.25 when the
        file sets none).

    Raises
    ------
    InputError
        For a missing or malformed file, naming the key.
    """
    data = load_yaml(path)
    compartments = data.get("compartments")
    if not isinstance(compartments, dict) or not compartments:
        raise InputError(path, "needs a non-empty 'compartments' mapping")
    parsed: dict[str, dict[str, list[str]]] = {}
    for name, spec in compartments.items():
        if name == OTHER:
            raise InputError(path, f"compartment '{OTHER}' is reserved for unassigned clusters")
        if not isinstance(spec, dict) or "positive" not in spec:
            raise InputError(path, f"compartments.{name}: needs a 'positive' gene list")
        unknown = set(spec) - {"positive", "negative"}
        if unknown:
            raise InputError(path, f"compartments.{name}: unknown keys {sorted(unknown)}")
        parsed[str(name)] = {
            "positive": gene_list(spec["positive"], path, f"compartments.{name}.positive"),
            "negative": gene_list(spec.get("negative", []) or [], path, f"{name}.negative")
            if spec.get("negative")
            else [],
        }
    states = data.get("states") or {}
    if not isinstance(states, dict):
        raise InputError(path, "'states' must map a compartment to {state: [genes]}")
    parsed_states: dict[str, dict[str, list[str]]] = {}
    for compartment, spec in states.items():
        if compartment not in parsed:
            raise InputError(path, f"states.{compartment}: not a compartment")
        if not isinstance(spec, dict) or not spec:
            raise InputError(path, f"states.{compartment}: expected {{state: [genes]}}")
        parsed_states[compartment] = {
            str(s): gene_list(g, path, f"states.{compartment}.{s}") for s, g in spec.items()
        }
    min_score = data.get("min_score", 0.25)
    if not isinstance(min_score, int | float):
        raise InputError(path, f"min_score must be a number, got {min_score!r}")
    return Markers(parsed, parsed_states, float(min_score))


def load_yaml(path: str | Path) -> dict:
    """A YAML file's top-level mapping.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    dict
        Its content.

    Raises
    ------
    InputError
        When the file is missing, not YAML or not a mapping.
    """
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise InputError(path, "expected a YAML mapping at the top level")
    return data


def indicator(groups: pd.Series) -> tuple[sp.csr_matrix, pd.Index]:
    """Sparse groups x cells 0/1 matrix for a categorical labelling, and the group labels.

    Parameters
    ----------
    groups
        One label per cell.

    Returns
    -------
    (scipy.sparse.csr_matrix, pandas.Index)
        float32 matrix with a 1 where the cell (column) is in the group (row), and the groups'
        labels, sorted.
    """
    codes, labels = pd.factorize(groups.astype(str), sort=True)
    n = len(codes)
    matrix = sp.csr_matrix(
        (np.ones(n, dtype=np.float32), (codes, np.arange(n))), shape=(len(labels), n)
    )
    return matrix, pd.Index(labels)


def group_stats(adata: ad.AnnData, groups: pd.Series, genes: list[str]) -> tuple[pd.DataFrame, ...]:
    """Per group: fraction of cells with X > 0 and mean X for each gene.

    Parameters
    ----------
    adata
        Cells with X (counts or log-normalised values).
    groups
        One label per cell (e.g. the clusters).
    genes
        Genes wanted; those not measured are skipped, repeats once.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Detection fraction and mean, each genes x groups.
    """
    present = [g for g in dict.fromkeys(genes) if g in adata.var_names]
    g, labels = indicator(groups)
    sizes = np.asarray(g.sum(axis=1)).ravel()
    x = adata[:, present].X
    x = sp.csr_matrix(x) if not sp.issparse(x) else x.tocsr()
    detected = (x > 0).astype(np.float32)
    frac = np.asarray((g @ detected).todense()) / sizes[:, None]
    mean = np.asarray((g @ x).todense()) / sizes[:, None]
    return (
        pd.DataFrame(frac.T, index=present, columns=labels),
        pd.DataFrame(mean.T, index=present, columns=labels),
    )


def compartment_scores(
    detection: pd.DataFrame, compartments: dict[str, dict[str, list[str]]]
) -> pd.DataFrame:
    """Score of each group for each compartment: mean detection of its positive markers minus
    that of its negative markers.

    Parameters
    ----------
    detection
        genes x groups detection fractions (`group_stats`).
    compartments
        ``{name: {"positive": [...], "negative": [...]}}``.

    Returns
    -------
    pandas.DataFrame
        groups x compartments; NaN for a compartment none of whose positive markers is
        measured (logged).
    """
    scores = {}
    for name, spec in compartments.items():
        positive = [g for g in spec["positive"] if g in detection.index]
        negative = [g for g in spec["negative"] if g in detection.index]
        if not positive:
            log.warning("compartment %s: none of its positive markers is measured", name)
            scores[name] = pd.Series(np.nan, index=detection.columns)
            continue
        score = detection.loc[positive].mean(axis=0)
        if negative:
            score = score - detection.loc[negative].mean(axis=0)
        scores[name] = score
    return pd.DataFrame(scores, index=detection.columns)


def best_label(scores: pd.DataFrame, min_score: float) -> pd.Series:
    """Highest-scoring compartment per group, OTHER when nothing reaches min_score.

    Parameters
    ----------
    scores
        groups x compartments (`compartment_scores`).
    min_score
        The lowest score that names a compartment.

    Returns
    -------
    pandas.Series
        The label of each group.
    """
    filled = scores.fillna(-np.inf)
    labels = filled.idxmax(axis=1)
    return labels.where(filled.max(axis=1) >= min_score, OTHER)


def annotate_compartments(
    adata: ad.AnnData, markers: Markers, cluster_key: str = "leiden"
) -> pd.DataFrame:
    """Set obs["cell_type"] from the clusters' marker scores, in place.

    Parameters
    ----------
    adata
        Log-normalised cells with their clusters in obs.
    markers
        The marker file's content (`load_markers`).
    cluster_key
        The obs column with the clusters.

    Returns
    -------
    pandas.DataFrame
        clusters x compartments scores (why each cluster got its label).
    """
    genes = [
        g for spec in markers.compartments.values() for g in spec["positive"] + spec["negative"]
    ]
    detection, _ = group_stats(adata, adata.obs[cluster_key], genes)
    scores = compartment_scores(detection, markers.compartments)
    labels = best_label(scores, markers.min_score)
    for cluster, label in labels.items():
        log.info("cluster %s -> %s (%s)", cluster, label, scores.loc[cluster].round(2).to_dict())
    cell_type = adata.obs[cluster_key].astype(str).map(labels).to_numpy()
    adata.obs["cell_type"] = pd.Categorical(cell_type, categories=markers.labels)
    return scores


def _zscore_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Each gene (row) centred and scaled across groups; constant genes give 0."""
    sd = table.std(axis=1, ddof=0).replace(0, np.nan)
    return table.sub(table.mean(axis=1), axis=0).div(sd, axis=0).fillna(0.0)


def _reassign(
    detection: pd.DataFrame, compartments: dict[str, dict[str, list[str]]], min_score: float
) -> pd.Series:
    """Compartment per T/NK subcluster.

    Absolute detection decides which compartments are plausible (positive markers reach
    min_score); the relative (z-scored across subclusters) positive-minus-negative score picks
    among them. NK cells carry CD3 transcripts, so absolute scores alone confuse NK with T.
    """
    positive_only = {
        n: {"positive": s["positive"], "negative": []} for n, s in compartments.items()
    }
    absolute = compartment_scores(detection, positive_only)
    relative = compartment_scores(_zscore_rows(detection), compartments)
    relative = relative.where(absolute >= min_score)
    fallback = best_label(absolute, -np.inf)
    chosen = relative.fillna(-np.inf).idxmax(axis=1)
    return chosen.where(relative.notna().any(axis=1), fallback)


def annotate_states(
    adata: ad.AnnData,
    markers: Markers,
    resolution: float = 1.0,
    seed: int = 0,
    n_neighbors: int = 15,
    n_pcs: int = 20,
    harmony_key: str = "patient",
) -> None:
    """Re-cluster the compartments with states (T/NK) and set obs["cell_state"], in place.

    T/NK states differ in few genes that the cohort's PCs barely see, so the T/NK cells get
    their own PCA (cohort HVGs + marker genes) and Harmony before neighbours and Leiden. The
    subclusters also re-assign cells among those compartments (a broad cluster can mix CD4 and
    CD8 T cells). Only the T/NK rows of X are copied (sparse), never the counts.

    Parameters
    ----------
    adata
        Annotated cells (`annotate_compartments`); obs["cell_type"] may change, obs
        ``cell_state`` and ``subcluster`` are set.
    markers
        The marker file's content, with its states.
    resolution
        Leiden resolution of the subclustering (config scrna.integration.state_resolution).
    seed
        Seed of PCA, Harmony, neighbours and Leiden.
    n_neighbors
        Neighbours of the subset's kNN graph.
    n_pcs
        Principal components of the subset (fewer when it has fewer genes or cells).
    harmony_key
        The obs column Harmony integrates over.
    """
    import scanpy as sc

    from organomics.scrna.integrate import harmony, leiden, neighbors

    state_types = list(markers.states)
    cell_type = adata.obs["cell_type"].astype(str)
    state = cell_type.copy()
    mask = cell_type.isin(state_types).to_numpy()
    n = int(mask.sum())
    if not state_types or n < 3:
        adata.obs["cell_state"] = pd.Categorical(state)
        return
    import anndata as ad

    sub = ad.AnnData(
        X=adata.X[mask],
        obs=adata.obs.loc[mask, [harmony_key]].copy(),
        var=pd.DataFrame(index=adata.var_names),
    )
    # Genes: the cohort's seurat_v3 HVGs plus the T/NK marker and state genes (HVGs re-picked
    # on the subset by dispersion let low-count noise genes in at 10^5 cells).
    panel = {g for spec in markers.compartments.values() for g in spec["positive"]}
    panel |= {g for states in markers.states.values() for gs in states.values() for g in gs}
    use = sub.var_names.isin(list(panel))
    if "highly_variable" in adata.var:
        use |= adata.var["highly_variable"].to_numpy(dtype=bool)
    sc.pp.pca(
        sub,
        n_comps=max(2, min(n_pcs, int(use.sum()) - 1, n - 1)),
        mask_var=use,
        svd_solver="arpack",
        random_state=seed,
    )
    harmony(sub, harmony_key, seed)
    neighbors(sub, n_neighbors, "X_pca_harmony", seed)
    leiden(sub, resolution, seed, key_added="subcluster")
    del sub.X
    subclusters = sub.obs["subcluster"].astype(str)
    view = adata[mask]
    sub_markers = {t: markers.compartments[t] for t in state_types}
    genes = [g for spec in sub_markers.values() for g in spec["positive"] + spec["negative"]]
    state_genes = [g for states in markers.states.values() for gs in states.values() for g in gs]
    detection, _ = group_stats(view, subclusters, genes)
    broad = _reassign(detection, sub_markers, markers.min_score)
    _, mean = group_stats(view, subclusters, state_genes)
    z_all = _zscore_rows(mean)
    # States are relative within a compartment (NK cells would swamp the CD8 effector genes),
    # so genes are z-scored across that compartment's subclusters when it has several.
    z_within = {}
    for compartment in set(broad):
        members = broad.index[broad == compartment]
        z_within[compartment] = _zscore_rows(mean[members]) if len(members) > 1 else z_all[members]
    sub_state = {}
    for cluster in broad.index:
        compartment = broad[cluster]
        candidates = markers.states[compartment]
        z = z_within[compartment]
        scored = {
            name: float(z.loc[[g for g in gs if g in z.index], cluster].mean())
            if any(g in z.index for g in gs)
            else -np.inf
            for name, gs in candidates.items()
        }
        sub_state[cluster] = max(scored, key=scored.get)
        log.info("T/NK subcluster %s -> %s / %s", cluster, compartment, sub_state[cluster])
    new_type = cell_type.to_numpy().copy()
    new_type[mask] = subclusters.map(broad).to_numpy()
    state = state.to_numpy().copy()
    state[mask] = subclusters.map(sub_state).to_numpy()
    adata.obs["cell_type"] = pd.Categorical(new_type, categories=markers.labels)
    subcluster = np.full(adata.n_obs, "", dtype=object)
    subcluster[mask] = subclusters.to_numpy()
    adata.obs["subcluster"] = pd.Categorical(subcluster)
    adata.obs["cell_state"] = pd.Categorical(state)
