"""The cached copy of pynndescent's NN-descent: same graph as pynndescent's, and cacheable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numba.core import types
from pynndescent import PyNNDescentTransformer
from pynndescent import distances as pynnd_dist
from pynndescent import pynndescent_ as pynndescent_module

from organomics.scrna import nndescent_cache


def knn_graph(points: np.ndarray):
    """scanpy's route through pynndescent (organomics.scrna.integrate.NNDescent's settings)."""
    transformer = PyNNDescentTransformer(
        n_neighbors=15, metric="euclidean", random_state=0, n_trees=10, n_iters=12
    )
    return transformer.fit_transform(points).tocsr()


def test_copied_source_is_the_installed_pynndescent():
    # pyproject pins pynndescent==0.7.0; a new version must be copied again (install refuses)
    assert nndescent_cache.matches_pynndescent()


def test_same_graph_as_pynndescent(monkeypatch):
    """Neighbour indices and distances bit for bit equal to pynndescent's own functions, on real
    cells: the 50 PCs of the 700 PBMCs (10x Genomics' 68k PBMC) that scanpy ships."""
    import h5py
    import scanpy

    # an old-format h5ad (obsm one compound dataset): read with h5py, as anndata warns on it
    with h5py.File(Path(scanpy.__file__).parent / "datasets" / "10x_pbmc68k_reduced.h5ad") as h5:
        points = np.ascontiguousarray(h5["obsm"]["X_pca"], dtype=np.float32)
    assert points.shape == (700, 50)
    monkeypatch.setattr(pynndescent_module, "nn_descent", nndescent_cache.ORIGINAL_NN_DESCENT)
    reference = knn_graph(points)
    assert nndescent_cache.install()
    assert pynndescent_module.nn_descent is nndescent_cache.nn_descent
    ours = knn_graph(points)
    assert np.array_equal(ours.indptr, reference.indptr)
    assert np.array_equal(ours.indices, reference.indices)
    assert np.array_equal(ours.data, reference.data)  # the same float32 distances
    # the cacheable condition numba checks: no numba function (keyed by address) among the
    # argument types, no dynamic globals (numba.get_num_threads) in the compiled code
    signatures = nndescent_cache.nn_descent_squared_euclidean.signatures
    assert signatures
    for signature in signatures:
        assert not any(isinstance(t, types.Dispatcher) for t in signature)
        overload = nndescent_cache.nn_descent_squared_euclidean.overloads[signature]
        assert not overload.library.has_dynamic_globals


def test_other_distances_take_pynndescents_own_function(monkeypatch):
    calls = []
    monkeypatch.setattr(
        nndescent_cache, "ORIGINAL_NN_DESCENT", lambda *a, **k: calls.append(a[4]) or "own"
    )
    data = np.zeros((3, 2), dtype=np.float32)
    state = np.zeros(3, dtype=np.int64)
    assert nndescent_cache.nn_descent(data, 2, state, 2, pynnd_dist.manhattan) == "own"
    assert calls == [pynnd_dist.manhattan]


@pytest.mark.parametrize("matches", [True, False])
def test_install_only_over_the_copied_source(monkeypatch, matches):
    monkeypatch.setattr(pynndescent_module, "nn_descent", nndescent_cache.ORIGINAL_NN_DESCENT)
    monkeypatch.setattr(nndescent_cache, "matches_pynndescent", lambda: matches)
    assert nndescent_cache.install() is matches
    expected = nndescent_cache.nn_descent if matches else nndescent_cache.ORIGINAL_NN_DESCENT
    assert pynndescent_module.nn_descent is expected
