"""Cohort job: gene alignment, and its one-sample-at-a-time passes against scanpy in memory."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from organomics.scrna import annotate, cohort, hvg, integrate, scores, store

RECORDS = [
    {"sample": "A_PL", "patient": "A", "site": "PL"},
    {"sample": "A_LM", "patient": "A", "site": "LM"},
    {"sample": "B_PL", "patient": "B", "site": "PL"},
]


def _write(parts, tmp_path):
    paths = []
    for name, part in parts:
        part.uns["sample"] = name
        part.write_h5ad(tmp_path / f"{name}.h5ad")
        paths.append(tmp_path / f"{name}.h5ad")
    return paths


def test_samples_align_genes_and_skip_empty(make_adata, tmp_path, caplog):
    a = make_adata([[1, 0, 2], [0, 3, 0]], ["CD3D", "NKG7", "LYZ"], cells=["a1", "a2"])
    b = make_adata([[5, 4, 9]], ["LYZ", "CD3D", "XIST"], cells=["b1"])  # other order, extra gene
    empty = make_adata(np.zeros((0, 3)), ["CD3D", "NKG7", "LYZ"], cells=[])
    paths = _write((("A_PL", a), ("A_LM", b), ("B_PL", empty)), tmp_path)
    with caplog.at_level(logging.WARNING):
        samples, genes = cohort.scan_samples(paths, RECORDS)
    assert "B_PL: no cells after QC" in caplog.text
    assert list(genes) == ["CD3D", "LYZ"]
    assert [(s.sample, s.patient, s.site, s.n_cells) for s in samples] == [
        ("A_PL", "A", "PL", 2),
        ("A_LM", "A", "LM", 1),
    ]
    counts = [cohort.read_counts(s, genes).X.toarray().tolist() for s in samples]
    assert counts == [[[1, 2], [0, 0]], [[4, 5]]]
    # log-normalised by hand: log1p(count / cell total over the shared genes x 10,000)
    adata = cohort.load_normalised(samples, genes, pd.Index(["LYZ"]))
    expected = np.log1p(np.array([2 / 3, 0, 5 / 9]) * 1e4)
    assert np.allclose(adata.X.toarray().ravel(), expected, rtol=1e-6)
    assert adata.obs["site"].astype(str).tolist() == ["PL", "PL", "LM"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Three samples of overdispersed counts (300 genes, a few cell-type programmes)."""
    rng = np.random.default_rng(7)
    genes = [f"G{i}" for i in range(300)]
    base = rng.gamma(0.4, 2.0, len(genes))
    parts = []
    for record, n in zip(RECORDS, (180, 150, 120), strict=True):
        programme = rng.integers(0, 3, n)
        rate = base * np.where(np.arange(len(genes)) % 3 == programme[:, None], 6.0, 1.0)
        x = rng.poisson(rate * rng.gamma(2.0, 0.5, rate.shape)).astype(np.float32)
        cells = [f"{record['sample']}_{i}" for i in range(n)]
        parts.append((record["sample"], ad.AnnData(sp.csr_matrix(x), obs=pd.DataFrame(index=cells),
                                                   var=pd.DataFrame(index=genes))))  # fmt: skip
    paths = _write(parts, tmp_path_factory.mktemp("simulated"))
    whole = ad.concat([p for _, p in parts])
    whole.obs["sample"] = np.repeat([r["sample"] for r in RECORDS], [p.n_obs for _, p in parts])
    return paths, whole


def test_hvgs_per_sample_equal_scanpys_batched_seurat_v3(simulated):
    paths, whole = simulated
    reference = sc.pp.highly_variable_genes(
        whole, flavor="seurat_v3", n_top_genes=50, batch_key="sample", inplace=False
    )
    samples, genes = cohort.scan_samples(paths, RECORDS)
    stats = cohort.gene_statistics(samples, genes)
    table = stats.hvg_table(50)
    for column in hvg.HVG_COLUMNS:
        assert np.allclose(table[column].astype(float), reference[column].astype(float),
                           equal_nan=True), column  # fmt: skip
    assert table["highly_variable"].sum() == 50


def test_streamed_load_scores_and_output_equal_the_in_memory_cohort(simulated, tmp_path):
    paths, whole = simulated
    markers = annotate.Markers({"A": {"positive": ["G0", "G3"], "negative": []}})
    signatures = [scores.Signature("sig", ["G1", "G4", "G7"])]
    params = cohort.CohortParams(integration=integrate.IntegrationParams(n_top_genes=40))
    loaded = cohort.load(paths, RECORDS, markers, signatures, params)
    # in memory, the scanpy way: normalise everything, score_genes on every gene
    full = whole.copy()
    integrate.normalise(full)
    sc.tl.score_genes(full, ["G1", "G4", "G7"], score_name="sig", random_state=0, use_raw=False)
    lean = loaded.adata
    assert {"G0", "G3", "G1", "G4", "G7"} <= set(lean.var_names) and lean.n_vars < 300
    assert lean.var["highly_variable"].sum() == 40
    assert np.allclose(lean.X.toarray(), full[:, lean.var_names].X.toarray(), rtol=1e-6)
    assert np.allclose(loaded.gene_means, np.asarray(full.X.mean(axis=0)).ravel(), rtol=1e-6)
    scores.score_signatures(lean, signatures, 0, loaded.controls)
    assert np.allclose(lean.obs["sig"], full.obs["sig"], atol=1e-6)
    lean.obsm["X_test"] = np.arange(lean.n_obs * 2, dtype=np.float32).reshape(-1, 2)
    out = tmp_path / "adata.h5ad"
    store.write_cohort(out, lean, loaded.var, loaded.blocks())
    back = ad.read_h5ad(out)
    assert back.shape == whole.shape and list(back.obs_names) == list(whole.obs_names)
    assert np.array_equal(back.layers["counts"].toarray(), whole.X.toarray())
    assert np.allclose(back.X.toarray(), full.X.toarray(), rtol=1e-6)
    assert np.array_equal(back.obsm["X_test"], lean.obsm["X_test"])
    assert back.var["highly_variable"].sum() == 40
    subset = store.read_genes(out, ["G3", "G0"])
    assert np.allclose(subset.X.toarray(), full[:, ["G3", "G0"]].X.toarray(), rtol=1e-6)
    blocks = list(store.iter_rows(out, "layers/counts", rows=100))
    assert [start for start, _ in blocks] == [0, 100, 200, 300, 400]
    assert np.array_equal(sp.vstack([b for _, b in blocks]).toarray(), whole.X.toarray())


def test_cache_numba_gives_pynndescent_and_umap_a_cache():
    """cache_numba: pynndescent's kNN and UMAP's functions (compiled with cache=False) get numba's
    on-disk cache, once. Same machine code, so the same graph: the demo's cohort tables stayed
    byte-identical to a run before the change (tests/test_demo_unchanged.py pins them). Those
    taking the distance as a numba function (`dist`) stay uncached: numba keys it by address,
    so their cache never hit and gained a file in every run (26 files each after 26 runs)."""
    from numba.core.caching import NullCache
    from pynndescent import pynndescent_
    from pynndescent import utils as pynndescent_utils
    from umap import umap_

    integrate.cache_numba()
    # pynndescent 0.7 declares these cache=False; umap's fuzzy_simplicial_set helper has no cache
    for dispatcher in (pynndescent_utils.build_candidates_owner, umap_.smooth_knn_dist):
        assert not isinstance(dispatcher._cache, NullCache)
    for dispatcher in (pynndescent_.generate_leaf_updates, pynndescent_.init_rp_tree):
        assert isinstance(dispatcher._cache, NullCache)
    assert integrate.cache_numba() == 0  # nothing left to enable on a second call


def test_nndescent_graph_is_pynndescents_without_building_a_search_index(monkeypatch):
    """NNDescent.fit_transform: the same kNN graph as PyNNDescentTransformer.fit_transform (what
    scanpy would call), bit for bit, on real cells (the 50 PCs of the 700 PBMCs scanpy ships),
    without `NNDescent.prepare`, the search tree and graph that only queries need (on a fresh
    install it compiled ~65 s CPU of numba code in the demo's cohort job)."""
    import h5py
    from pynndescent import NNDescent as PyNNDescentIndex
    from pynndescent import PyNNDescentTransformer

    with h5py.File(
        sc.__path__[0] + "/datasets/10x_pbmc68k_reduced.h5ad"
    ) as h5:  # old-format h5ad: obsm is one compound dataset
        points = np.ascontiguousarray(h5["obsm"]["X_pca"], dtype=np.float32)
    wrapper = integrate.NNDescent(n_neighbors=15, n_obs=points.shape[0], random_state=0)
    reference = PyNNDescentTransformer(
        n_neighbors=15,
        metric="euclidean",
        random_state=0,
        n_trees=wrapper.n_trees,
        n_iters=wrapper.n_iters,
    ).fit_transform(points)

    def prepare(self, *args, **kwargs):
        raise AssertionError("the search index was built")

    monkeypatch.setattr(PyNNDescentIndex, "prepare", prepare)
    ours = wrapper.fit_transform(points)
    assert isinstance(ours, sp.csr_matrix)
    assert ours.shape == (700, 700)
    assert np.array_equal(ours.indptr, reference.indptr)
    assert np.array_equal(ours.indices, reference.indices)
    assert np.array_equal(ours.data, reference.data)
