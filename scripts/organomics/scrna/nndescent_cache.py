"""pynndescent's NN-descent for squared-Euclidean data, compiled once into numba's on-disk cache."""

# pynndescent's `nn_descent` is compiled again by every cohort job (~12 s CPU on the demo, ~18 s
# at paper scale): numba will not cache it, for two reasons. It calls `numba.get_num_threads()`,
# a ctypes pointer ("dynamic globals"); and it takes the distance as an argument, and numba keys
# a cached function by its argument types, where a numba function's type holds its address, new
# in every process (so the cache never hits, and grows by a file per run).
# `nn_descent_internal` and `nn_descent_threads` below are pynndescent 0.7.0's `nn_descent_internal`
# and `nn_descent` (pynndescent/pynndescent_.py; BSD 2-Clause License, Copyright (c) 2018, Leland
# McInnes), changed only to take the thread count as `n_threads`; `nn_descent_squared_euclidean`
# fixes the distance to the one `metric="euclidean"` uses, so its compiled code, callees included,
# can be cached. `install` swaps the wrapper `nn_descent` in only when pynndescent's own source
# is the one copied (SOURCE_SHA256); the thread count passed is the one pynndescent reads itself,
# so the graph is the same (tests/scrna/test_nndescent_cache.py).

from __future__ import annotations

import hashlib
import inspect
import logging

import numba
import numpy as np
import pynndescent.pynndescent_ as pynndescent_module
from pynndescent.pynndescent_ import (
    EMPTY_GRAPH,
    build_candidates_owner,
    deheap_sort,
    init_random,
    init_rp_tree,
    make_heap,
    process_candidates,
    pynnd_dist,
)

log = logging.getLogger(__name__)

# sha256 of inspect.getsource() of pynndescent 0.7.0's two functions, as copied here
SOURCE_SHA256 = {
    "nn_descent_internal": "7b26b9d5d389be1a0948158db135f417ab7b146f797b62a0e470ee169854d3a6",
    "nn_descent": "89a4b1ff198779632460f67bd6b68dbe99e7f6d93be6173370e30deff0f11cf7",
}


@numba.njit()
def nn_descent_internal(
    current_graph,
    data,
    n_neighbors,
    rng_state,
    max_candidates=50,
    dist=pynnd_dist.euclidean,
    n_iters=10,
    delta=0.001,
    verbose=False,
    kernel=0,
    n_threads=1,
):
    n_vertices = data.shape[0]
    block_size = 16384
    n_blocks = n_vertices // block_size

    # Pre-allocate update arrays for efficiency
    # Estimate max updates: each candidate pair can generate one update
    max_updates_per_thread = (
        int(
            (max_candidates**2 + max_candidates * (max_candidates - 1) / 2) * block_size / n_threads
        )
        + 1024
    )
    update_array = np.empty((n_threads, max_updates_per_thread, 3), dtype=np.float32)
    n_updates_per_thread = np.zeros(n_threads, dtype=np.int32)
    # Each update is written to at most two destination blocks.
    if n_threads > 1:
        sorted_updates = np.empty((n_threads, 2 * max_updates_per_thread, 3), dtype=np.float32)
    else:
        sorted_updates = np.empty((1, 1, 3), dtype=np.float32)
    block_offsets = np.zeros((n_threads, n_threads + 1), dtype=np.int64)

    # Candidate workspace, reused across iterations; build_candidates_owner only
    # resets the rows it wrote on the previous iteration.
    new_candidate_indices = np.full((n_vertices, max_candidates), -1, dtype=np.int32)
    new_candidate_priority = np.full((n_vertices, max_candidates), np.inf, dtype=np.float32)
    old_candidate_indices = np.full((n_vertices, max_candidates), -1, dtype=np.int32)
    old_candidate_priority = np.full((n_vertices, max_candidates), np.inf, dtype=np.float32)
    active = np.ones(n_vertices, dtype=np.uint8)
    # Cross-block reverse edges, bucketed by owning thread (at most one per edge).
    reverse_dst = np.empty(n_vertices * n_neighbors, dtype=np.int32)
    reverse_src = np.empty(n_vertices * n_neighbors, dtype=np.int32)
    bucket_bounds = np.zeros((n_threads, n_threads + 1), dtype=np.int64)

    for n in range(n_iters):
        if verbose:
            print("\t", n + 1, " / ", n_iters)

        new_candidate_neighbors, old_candidate_neighbors = build_candidates_owner(
            current_graph,
            max_candidates,
            rng_state,
            n_threads,
            new_candidate_indices,
            new_candidate_priority,
            old_candidate_indices,
            old_candidate_priority,
            active,
            reverse_dst,
            reverse_src,
            bucket_bounds,
        )

        c = process_candidates(
            data,
            dist,
            current_graph,
            new_candidate_neighbors,
            old_candidate_neighbors,
            n_blocks,
            block_size,
            n_threads,
            update_array,
            n_updates_per_thread,
            sorted_updates,
            block_offsets,
            kernel,
        )

        if c <= delta * n_neighbors * data.shape[0]:
            if verbose:
                print("\tStopping threshold met -- exiting after", n + 1, "iterations")
            return


@numba.njit()
def nn_descent_threads(
    data,
    n_neighbors,
    rng_state,
    max_candidates=50,
    dist=pynnd_dist.euclidean,
    n_iters=10,
    delta=0.001,
    init_graph=EMPTY_GRAPH,
    rp_tree_init=True,
    leaf_array=None,
    low_memory=True,
    verbose=False,
    kernel=0,
    n_threads=1,
):
    if init_graph[0].shape[0] == 1:  # EMPTY_GRAPH
        current_graph = make_heap(data.shape[0], n_neighbors)

        if rp_tree_init:
            init_rp_tree(data, dist, current_graph, leaf_array, n_threads=n_threads)

        init_random(n_neighbors, data, current_graph, dist, rng_state)
    elif init_graph[0].shape[0] == data.shape[0] and init_graph[0].shape[1] == n_neighbors:
        current_graph = init_graph
    else:
        raise ValueError("Invalid initial graph specified!")

    nn_descent_internal(
        current_graph,
        data,
        n_neighbors,
        rng_state,
        max_candidates=max_candidates,
        dist=dist,
        n_iters=n_iters,
        delta=delta,
        verbose=verbose,
        kernel=kernel,
        n_threads=n_threads,
    )

    return deheap_sort(current_graph[0], current_graph[1])


@numba.njit(cache=True)
def nn_descent_squared_euclidean(
    data,
    n_neighbors,
    rng_state,
    max_candidates,
    n_iters,
    delta,
    init_graph,
    rp_tree_init,
    leaf_array,
    low_memory,
    verbose,
    kernel,
    n_threads,
):
    """`nn_descent_threads` with pynndescent's squared Euclidean distance (cacheable)."""
    return nn_descent_threads(
        data,
        n_neighbors,
        rng_state,
        max_candidates=max_candidates,
        dist=pynnd_dist.squared_euclidean,
        n_iters=n_iters,
        delta=delta,
        init_graph=init_graph,
        rp_tree_init=rp_tree_init,
        leaf_array=leaf_array,
        low_memory=low_memory,
        verbose=verbose,
        kernel=kernel,
        n_threads=n_threads,
    )


ORIGINAL_NN_DESCENT = pynndescent_module.nn_descent
NN_DESCENT_SIGNATURE = inspect.signature(ORIGINAL_NN_DESCENT.py_func)


def nn_descent(*args, **kwargs):
    """pynndescent's `nn_descent`: the cached copy for squared Euclidean, else pynndescent's.

    Parameters
    ----------
    *args, **kwargs
        As pynndescent.pynndescent_.nn_descent.

    Returns
    -------
    tuple
        The sorted neighbour indices and distances, as pynndescent's.
    """
    bound = NN_DESCENT_SIGNATURE.bind(*args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    if given.pop("dist") is not pynnd_dist.squared_euclidean or given["leaf_array"] is None:
        return ORIGINAL_NN_DESCENT(*args, **kwargs)
    return nn_descent_squared_euclidean(**given, n_threads=numba.get_num_threads())


def matches_pynndescent() -> bool:
    """Whether the installed pynndescent's two functions are the source copied here.

    Returns
    -------
    bool
        True when both sources hash to SOURCE_SHA256.
    """
    for name, digest in SOURCE_SHA256.items():
        original = (
            ORIGINAL_NN_DESCENT if name == "nn_descent" else pynndescent_module.nn_descent_internal
        )
        source = inspect.getsource(original.py_func)
        if hashlib.sha256(source.encode()).hexdigest() != digest:
            return False
    return True


def install() -> bool:
    """Make pynndescent's NNDescent call the cached copy (its Python code calls `nn_descent`).

    Returns
    -------
    bool
        True when installed; False (pynndescent's own functions stay, compiled every run) when
        the installed pynndescent's source differs from the copy.
    """
    if pynndescent_module.nn_descent is nn_descent:
        return True
    if not matches_pynndescent():
        log.info("pynndescent's nn_descent is not the copied 0.7.0 source: compiled every run")
        return False
    pynndescent_module.nn_descent = nn_descent
    return True
