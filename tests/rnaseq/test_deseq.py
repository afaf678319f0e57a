"""Paired PyDESeq2 against a stored Bioconductor DESeq2 run, and design checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.rnaseq.deseq import RESULT_COLUMNS, paired_deseq, paired_samples, size_factors

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def compared():
    counts = pd.read_csv(DATA / "deseq2_counts.tsv", sep="\t", index_col=0)
    design = pd.read_csv(DATA / "deseq2_design.tsv", sep="\t")
    # One unpaired sample must be excluded, leaving exactly the model R fitted.
    counts["P09_PL"] = counts["P01_PL"]
    design = pd.concat(
        [design, pd.DataFrame([{"sample": "P09_PL", "patient": "P09", "site": "PL"}])]
    )
    result = paired_deseq(counts, design, "PL", "LM", n_cpus=1)
    reference = pd.read_csv(DATA / "deseq2_reference.tsv", sep="\t", index_col=0)
    return result, result.set_index("gene").join(reference, rsuffix="_R")


def test_columns_and_unpaired_exclusion(compared):
    result, _ = compared
    assert result.columns.tolist() == RESULT_COLUMNS
    assert result.attrs["excluded_patients"] == ["P09"]
    assert "P09_PL" not in result.attrs["samples"]


def test_lfc_matches_bioconductor(compared):
    _, joined = compared
    both = joined[["log2FoldChange", "log2FoldChange_R"]].dropna()
    assert len(both) == 1500
    assert np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1] > 0.99
    assert (both.iloc[:, 0] - both.iloc[:, 1]).abs().median() < 0.01
    np.testing.assert_allclose(joined["baseMean"], joined["baseMean_R"], rtol=1e-6)


def test_padj_matches_bioconductor(compared):
    _, joined = compared
    both = joined[["padj", "padj_R"]].dropna()
    # Independent filtering may drop a few more low-count genes in PyDESeq2 (threshold search).
    assert len(both) > 0.95 * len(joined)
    assert np.corrcoef(-np.log10(both["padj"]), -np.log10(both["padj_R"]))[0, 1] > 0.99
    assert ((both["padj"] < 0.05) == (both["padj_R"] < 0.05)).mean() > 0.98
    assert joined.loc["LCK", "log2FoldChange"] < -0.5 and joined.loc["LCK", "padj_R"] < 0.05


def test_shrunk_lfc_is_smaller(compared):
    result, _ = compared
    ok = result.dropna(subset=["log2FoldChange", "log2FoldChange_shrunk"])
    assert (ok["log2FoldChange_shrunk"].abs() <= ok["log2FoldChange"].abs() + 1e-6).mean() > 0.95


def test_no_pairs_names_patients():
    design = pd.DataFrame(
        {"sample": ["A_PL", "B_LM", "C_PL"], "patient": ["A", "B", "C"], "site": ["PL", "LM", "PL"]}
    )
    with pytest.raises(InputError, match=r"not full rank.*PL only: A, C; LM only: B"):
        paired_samples(design, "PL", "LM")


def test_missing_sample_column():
    design = pd.DataFrame({"sample": ["A_PL", "A_LM"], "patient": ["A", "A"], "site": ["PL", "LM"]})
    counts = pd.DataFrame({"A_PL": [1, 2]}, index=["G1", "G2"])
    with pytest.raises(InputError, match="missing from the counts: A_LM"):
        paired_deseq(counts, design, "PL", "LM")


def test_size_factors_by_hand():
    counts = pd.DataFrame({"a": [10, 20, 0], "b": [20, 40, 5], "c": [40, 80, 1]})
    # Geometric means of the two zero-free genes: 20 and 40 -> ratios a .5, b 1, c 2.
    np.testing.assert_allclose(size_factors(counts), [0.5, 1.0, 2.0])


def test_fitting_stages_go_to_the_log_not_stderr(caplog, capfd):
    counts = pd.read_csv(DATA / "deseq2_counts.tsv", sep="\t", index_col=0)
    design = pd.read_csv(DATA / "deseq2_design.tsv", sep="\t")
    with caplog.at_level("INFO", logger="organomics.rnaseq.deseq"):
        paired_deseq(counts, design, "PL", "LM", n_cpus=1)
    messages = caplog.text
    for stage in ("Fitting size factors...", "Fitting dispersions...", "Fitting LFCs..."):
        assert f"PyDESeq2: {stage}" in messages, stage
    assert "PyDESeq2: ... done in" in messages
    printed = capfd.readouterr()
    assert "Fitting" not in printed.err and "control genes" not in printed.out
