"""Cohort integration: HVGs, normalisation, PCA, Harmony, neighbours, UMAP, Leiden."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import ClassVar

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from organomics.scrna import hvg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntegrationParams:
    """Cohort integration settings: config scrna.integration (its schema holds the defaults and
    their meaning), the obs column HVGs are batched by, and the run's seed (config scrna.seed)."""

    SCHEMA_SECTION: ClassVar[str] = "scrna.integration"

    n_top_genes: int = 2000
    n_pcs: int = 30
    harmony_key: str = "patient"
    batch_key: str = "sample"
    n_neighbors: int = 15
    resolution: float = 1.0
    state_resolution: float = 1.0  # Leiden resolution of the T/NK subclustering
    umap: bool = True
    seed: int = 0


def integrate(adata: ad.AnnData, params: IntegrationParams) -> ad.AnnData:
    """The whole integration on counts in X, in place, for a cohort held in memory.

    HVGs (seurat_v3 over batches), then X becomes log1p(normalised to 10,000 counts per cell)
    and counts move to layers["counts"], then embed(). The cohort job does the same steps one
    sample at a time (organomics.scrna.cohort).

    Parameters
    ----------
    adata
        Cells with raw counts in X and ``params.batch_key`` in obs.
    params
        The integration settings.

    Returns
    -------
    anndata.AnnData
        `adata` itself, embedded and clustered (see `embed`).
    """
    batches = adata.obs[params.batch_key].astype(str).to_numpy()
    variances = np.vstack([hvg.batch_variances(adata[batches == b], b) for b in np.unique(batches)])
    table = hvg.combine(variances, adata.var_names, min(params.n_top_genes, adata.n_vars))
    for column in table:
        adata.var[column] = table[column].to_numpy()
    counts = sp.csr_matrix(adata.X, dtype=np.float32)
    counts.sum_duplicates()  # also sorts indices: nothing below reorders the shared index arrays
    counts.eliminate_zeros()
    adata.layers["counts"] = counts
    # X shares the index arrays of the counts and owns only its values: one matrix less.
    adata.X = sp.csr_matrix(
        (counts.data.copy(), counts.indices, counts.indptr), shape=counts.shape, copy=False
    )
    normalise(adata)
    return embed(adata, params)


def normalise(adata: ad.AnnData) -> None:
    """X (counts) -> log1p(counts / cell total x 10,000), in place; per cell, so per sample too.

    Parameters
    ----------
    adata
        Cells with counts in X.
    """
    import scanpy as sc

    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)


def embed(adata: ad.AnnData, params: IntegrationParams) -> ad.AnnData:
    """PCA on the HVGs of log-normalised X, Harmony, neighbours, UMAP and Leiden, in place.

    X stays sparse: PCA runs on the HVG columns with implicit centring.

    Parameters
    ----------
    adata
        Log-normalised cells with var["highly_variable"].
    params
        The integration settings (n_pcs, harmony_key, n_neighbors, umap, resolution, seed).

    Returns
    -------
    anndata.AnnData
        `adata` itself with obsm ``X_pca``, ``X_pca_harmony`` (and ``X_umap``), the kNN
        graph and obs ``leiden``.
    """
    import scanpy as sc

    n_top = int(adata.var["highly_variable"].sum())
    log.info("%d cells x %d genes; %d HVGs", *adata.shape, n_top)
    n_pcs = max(2, min(params.n_pcs, n_top - 1, adata.n_obs - 1))
    sc.pp.pca(
        adata,
        n_comps=n_pcs,
        mask_var="highly_variable",
        svd_solver="arpack",
        random_state=params.seed,
    )
    log.info("PCA: %d components", n_pcs)
    harmony(adata, params.harmony_key, params.seed)
    log.info("Harmony over %s done", params.harmony_key)
    neighbors(adata, params.n_neighbors, "X_pca_harmony", params.seed)
    log.info("neighbour graph built")
    if params.umap:
        sc.tl.umap(adata, random_state=params.seed)
        log.info("UMAP done")
    leiden(adata, params.resolution, params.seed, key_added="leiden")
    log.info("Leiden: %d clusters", adata.obs["leiden"].nunique())
    return adata


class NNDescent:
    """pynndescent kNN graph as a scipy csr_matrix, for sc.pp.neighbors(transformer=...).

    scanpy 1.11.5 calls `.getnnz` on the graph, which scipy 1.17's csr_array (what pynndescent
    0.7 returns) no longer has; this wrapper hands scanpy the matrix type it expects. Settings
    are scanpy's own defaults for pynndescent (UMAP's).
    """

    def __init__(self, n_neighbors: int, n_obs: int, random_state: int = 0) -> None:
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.n_trees = min(64, 5 + round(n_obs**0.5 / 20.0))
        self.n_iters = max(5, round(np.log2(n_obs)))
        self._transformer = None

    def _make(self):
        from pynndescent import PyNNDescentTransformer

        return PyNNDescentTransformer(
            n_neighbors=self.n_neighbors,
            metric="euclidean",
            random_state=self.random_state,
            n_trees=self.n_trees,
            n_iters=self.n_iters,
        )

    def get_params(self, deep: bool = True) -> dict:
        return {"n_neighbors": self.n_neighbors, "random_state": self.random_state}

    def fit(self, x, y=None):
        self._transformer = self._make().fit(x)
        return self

    def transform(self, x):
        return sp.csr_matrix(self._transformer.transform(x))

    def fit_transform(self, x, y=None):
        # PyNNDescentTransformer.fit_transform returns the training graph and then compresses
        # the index, which builds a search tree and search graph for later queries. Nothing
        # queries it here, and on a fresh install that step alone compiles ~65 s CPU of numba
        # code (the demo's 9,178 cells); the graph returned is the same without it.
        self._transformer = self._make().fit(x, compress_index=False)
        return sp.csr_matrix(self._transformer.transform(None))


# Below this many cells scanpy computes exact (brute-force) neighbours, which work as they are.
EXACT_NEIGHBOURS_MAX = 8192


def neighbors(adata: ad.AnnData, n_neighbors: int, use_rep: str, seed: int) -> None:
    """Seeded kNN graph on an embedding, in place (scanpy's defaults; see NNDescent for large data).

    Parameters
    ----------
    adata
        The cells.
    n_neighbors
        Neighbours per cell (at most the number of cells - 1).
    use_rep
        The obsm embedding, e.g. ``X_pca_harmony``.
    seed
        Seed of the graph.
    """
    import scanpy as sc

    from organomics.scrna import nndescent_cache

    n_neighbors = min(n_neighbors, adata.n_obs - 1)
    transformer = (
        NNDescent(n_neighbors, adata.n_obs, seed) if adata.n_obs >= EXACT_NEIGHBOURS_MAX else None
    )
    cache_numba()
    nndescent_cache.install()  # pynndescent's NN-descent from numba's cache too
    with warnings.catch_warnings():
        # with another pynndescent than the copied one, its two functions that numba cannot
        # cache compile in every run as before
        warnings.filterwarnings("ignore", message=".*Cannot cache compiled function")
        sc.pp.neighbors(
            adata,
            n_neighbors=n_neighbors,
            use_rep=use_rep,
            random_state=seed,
            transformer=transformer,
        )


# Packages whose numba functions are compiled with cache=False (or no cache argument).
NUMBA_UNCACHED = ("pynndescent", "umap")


def cache_numba(packages: tuple[str, ...] = NUMBA_UNCACHED) -> int:
    """Let numba keep the compiled code of pynndescent's and UMAP's functions in its cache.

    They are compiled with cache=False, so every cohort job compiled them again: on the demo
    (9,178 cells) ~31 s CPU of the kNN step, ~15 s from the second run on. The cache holds the
    same machine code, so graphs and embeddings are unchanged (tests/scrna/test_cohort.py).
    The cache goes where numba puts it (the packages' __pycache__, or NUMBA_CACHE_DIR).
    Functions that take the distance as a numba function (a ``dist`` parameter) are left
    uncached: numba keys that argument by its address, so their cache never hit and grew by a
    file per run; `organomics.scrna.nndescent_cache` caches the NN-descent that calls them.

    Parameters
    ----------
    packages
        Top-level packages whose loaded modules' dispatchers get a cache.

    Returns
    -------
    int
        The dispatchers given a cache by this call.
    """
    import importlib
    import inspect
    import sys

    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    with warnings.catch_warnings():
        # umap warns that ParametricUMAP needs Tensorflow; scanpy's own import hides it too
        warnings.filterwarnings(
            "ignore", message="Tensorflow not installed", category=ImportWarning
        )
        for package in packages:
            importlib.import_module(package)
    enabled = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in packages:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, Dispatcher) and isinstance(obj._cache, NullCache):
                if "dist" in inspect.signature(obj.py_func).parameters:
                    # a numba function argument is keyed by its address, new in every
                    # process: the cache would never hit and would gain a file per run
                    continue
                try:
                    obj.enable_caching()
                except Exception:  # a function numba cannot cache (e.g. a closure): as before
                    continue
                enabled += 1
    return enabled


def harmony(adata: ad.AnnData, key: str, seed: int) -> None:
    """Harmony-corrected PCs in obsm["X_pca_harmony"] (plain PCs when there is one group).

    Parameters
    ----------
    adata
        Cells with obsm["X_pca"].
    key
        The obs column Harmony integrates over.
    seed
        Harmony's seed.
    """
    x = np.asarray(adata.obsm["X_pca"], dtype=np.float64)
    if adata.obs[key].nunique() < 2:
        log.info("one %s only: Harmony skipped", key)
        adata.obsm["X_pca_harmony"] = x.astype(np.float32)
        return
    import harmonypy

    meta = pd.DataFrame({key: adata.obs[key].astype(str).to_numpy()})
    result = harmonypy.run_harmony(x, meta, [key], random_state=seed, verbose=False)
    z = np.asarray(result.Z_corr)
    # harmonypy < 2 returned components x cells, 2.x returns cells x components.
    if z.shape != x.shape:
        z = z.T
    adata.obsm["X_pca_harmony"] = z.astype(np.float32)


def leiden(adata: ad.AnnData, resolution: float, seed: int, key_added: str) -> None:
    """Seeded Leiden (igraph implementation, 2 iterations) on the neighbour graph, in place.

    Parameters
    ----------
    adata
        Cells with a neighbour graph.
    resolution
        Leiden resolution.
    seed
        Leiden's seed.
    key_added
        The obs column receiving the clusters.
    """
    import scanpy as sc

    sc.tl.leiden(
        adata,
        resolution=resolution,
        random_state=seed,
        flavor="igraph",
        n_iterations=2,
        directed=False,
        key_added=key_added,
    )
