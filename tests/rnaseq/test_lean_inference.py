"""LeanInference shrinks LFCs exactly as PyDESeq2's DefaultInference, keeping only diagonals."""

from __future__ import annotations

import numpy as np
import pytest
from pydeseq2.default_inference import DefaultInference

from organomics.rnaseq.lean_inference import DiagonalOnly, LeanInference


@pytest.fixture(scope="module")
def problem():
    """6 patients x 2 sites, ~ patient + site design (p = 7), 12 genes of NB counts."""
    rng = np.random.default_rng(5)
    patients = np.repeat(np.arange(6), 2)
    design = np.zeros((12, 7))
    design[:, 0] = 1.0
    for patient in range(1, 6):
        design[patients == patient, patient] = 1.0
    design[1::2, 6] = 1.0  # site
    mean = rng.uniform(20, 400, 12)
    counts = rng.negative_binomial(5, 5 / (5 + np.outer(np.ones(12), mean)))
    arguments = dict(
        design_matrix=design,
        counts=counts.astype(float),
        size=np.full(12, 5.0),
        offset=np.zeros(12),
        prior_no_shrink_scale=15.0,
        prior_scale=1.0,
        optimizer="L-BFGS-B",
        shrink_index=6,
    )
    return arguments


def test_same_lfcs_and_diagonals_as_default_inference(problem):
    lfcs, hessians, converged = DefaultInference(n_cpus=1).lfc_shrink_nbinom_glm(**problem)
    lean_lfcs, diagonals, lean_converged = LeanInference(n_cpus=1).lfc_shrink_nbinom_glm(**problem)
    np.testing.assert_array_equal(lean_lfcs, lfcs)
    np.testing.assert_array_equal(lean_converged, converged)
    assert len(diagonals) == len(hessians) == 12
    for full, kept in zip(hessians, diagonals, strict=True):
        for i in range(7):
            assert kept[i, i] == full[i, i]  # what DeseqStats.lfc_shrink reads for the SE


def test_off_diagonal_entries_are_refused():
    with pytest.raises(IndexError, match="only the diagonal"):
        DiagonalOnly(np.ones(3))[0, 1]
