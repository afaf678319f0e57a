"""Signature refitting: NNLS on constructed mixtures, hand-computed exposures and cosines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.wes.sbs96 import SBS96
from organomics.wes.signatures import (
    DEFAULT_FIT,
    Settings,
    cohort_signatures,
    read_signatures,
    refit,
    refit_sample,
    sample_rng,
)

REPO = Path(__file__).resolve().parents[2]
COSMIC = REPO / "resources" / "wes" / "COSMIC_v3.4_SBS_GRCh38_exome.tsv.gz"


@pytest.fixture(scope="module")
def cosmic():
    return read_signatures(str(COSMIC), DEFAULT_FIT)


def test_bundled_cosmic_matrix_in_sbs96_order(cosmic):
    assert list(cosmic.index) == SBS96 and list(cosmic.columns) == DEFAULT_FIT
    assert np.allclose(cosmic.sum(), 1)
    # the file's own numbers (rows are alphabetical there): SBS4 at A[C>A]A is 0.0277602738...
    assert cosmic.at["A[C>A]A", "SBS4"] == pytest.approx(0.0277602738111901, rel=1e-12)
    everything = read_signatures(str(COSMIC))
    assert everything.shape == (96, 86)


def test_unknown_signature_and_missing_class_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no signature SBS999"):
        read_signatures(str(COSMIC), ["SBS1", "SBS999"])
    table = pd.DataFrame({"Type": SBS96[:-1], "S": [1.0] * 95})
    table.to_csv(tmp_path / "short.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=r"lacks T\[T>G\]T"):
        read_signatures(str(tmp_path / "short.tsv"))


def test_known_mixture_is_recovered_exactly(cosmic):
    # counts built as S @ h: the six columns are linearly independent, so least squares has
    # the one exact solution h, and NNLS (h >= 0 already) returns it
    matrix = cosmic.to_numpy()
    assert np.linalg.matrix_rank(matrix) == 6
    truth = np.array([30.0, 60.0, 120.0, 60.0, 15.0, 15.0])
    assert np.allclose(refit(matrix @ truth, matrix), truth / truth.sum(), atol=1e-9)


def test_disjoint_signatures_hand_computed():
    # signature A is 1/48 on the first 48 classes, B 1/48 on the last 48: NNLS fits each block
    # by its mean, so the coefficient of A is the block's sum. Counts: 30 in class 0, 1 in each
    # of the 48 classes of B -> coefficients (30, 48), exposures 30/78 and 48/78.
    matrix = np.zeros((96, 2))
    matrix[:48, 0] = matrix[48:, 1] = 1 / 48
    counts = np.zeros(96)
    counts[0], counts[48:] = 30, 1
    fit = refit_sample(counts, matrix, 200, 0.95, np.random.default_rng(0))
    assert fit["exposure"] == pytest.approx([30 / 78, 48 / 78], rel=1e-12)
    # reconstruction: 30/48 on block A, 1 on block B; cos = sqrt(66.75 / 948) (by hand:
    # dot = 30 * 30/48 + 48 = 66.75 = |reconstruction|^2, |counts|^2 = 900 + 48)
    assert fit["cosine"] == pytest.approx(np.sqrt(66.75 / 948), rel=1e-12)
    assert 0 <= fit["ci_low"][0] <= 30 / 78 <= fit["ci_high"][0] <= 1


def test_bootstrap_interval_covers_the_truth_and_is_reproducible(cosmic):
    matrix = cosmic.to_numpy()
    truth = np.array([0.1, 0.2, 0.4, 0.2, 0.05, 0.05])
    counts = np.random.default_rng(7).multinomial(3000, matrix @ truth)
    first = refit_sample(counts, matrix, 300, 0.95, sample_rng(0, "S1"))
    again = refit_sample(counts, matrix, 300, 0.95, sample_rng(0, "S1"))
    assert np.array_equal(first["ci_low"], again["ci_low"])
    assert np.all(first["ci_low"] <= truth) and np.all(truth <= first["ci_high"])
    other = refit_sample(counts, matrix, 300, 0.95, sample_rng(0, "S2"))
    assert not np.array_equal(first["ci_low"], other["ci_low"])  # each sample its own stream


def test_cohort_tables_and_exclusions(cosmic):
    matrix = cosmic.to_numpy()
    rng = np.random.default_rng(3)
    samples, rows = [], []
    for patient, (n_pl, n_lm) in {"P1": (200, 200), "P2": (150, 10), "P3": (120, 180)}.items():
        for site, n, apobec in (("PL", n_pl, 0.05), ("LM", n_lm, 0.3)):
            mix = np.array([0.15, apobec, 0.4, 0.3, apobec, 0.0])
            counts = rng.multinomial(n, matrix @ (mix / mix.sum()))
            samples.append({"sample": f"{patient}_{site}", "patient": patient, "site": site})
            rows.append({"sample": f"{patient}_{site}", **dict(zip(SBS96, counts, strict=True))})
    sbs96 = pd.DataFrame(rows)
    settings = Settings(n_boot=50)
    tables = cohort_signatures(sbs96, samples, cosmic, settings, "PL", "LM")
    table = tables["signatures"]
    assert list(table.columns) == [
        "sample", "patient", "site", "signature", "exposure", "ci_low", "ci_high",
        "n_mutations", "cosine",
    ]  # fmt: skip
    assert len(table) == 5 * 6  # P2_LM has 10 SNVs, below min_mutations 20
    assert table.groupby("sample")["exposure"].sum().to_numpy() == pytest.approx(1.0)
    assert table.set_index("sample").loc["P1_PL", "n_mutations"].iloc[0] == 200
    excluded = tables["excluded"].table()
    assert excluded[["level", "item"]].values.tolist() == [["sample", "P2_LM"], ["patient", "P2"]]
    assert "10 SNVs in sbs96.tsv" in excluded["reason"].iloc[0]
    comparison = tables["comparison"].set_index("signature")
    assert (
        comparison["n_pairs"].tolist() == [2] * 6 and comparison["n_unpaired"].tolist() == [1] * 6
    )
    by_site = tables["by_site"].set_index(["site", "signature"])
    assert (
        by_site.loc[("PL", "SBS4"), "n_samples"] == 3
        and by_site.loc[("LM", "SBS4"), "n_samples"] == 2
    )
    pl = table[(table["site"] == "PL") & (table["signature"] == "SBS4")]["exposure"]
    assert by_site.loc[("PL", "SBS4"), "mean_exposure"] == pytest.approx(pl.mean())
