"""Paired PyDESeq2 against a stored Bioconductor DESeq2 run, and design checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.rnaseq.deseq import (
    RESULT_COLUMNS,
    WARNING_COLUMNS,
    convergence_rows,
    is_benign,
    paired_deseq,
    paired_samples,
)
from organomics.rnaseq.qc import size_factors

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


def test_well_posed_fit_warns_only_about_convergence(compared):
    """8 pairs: 7 residual degrees of freedom, so no PyDESeq2 warning; the few genes whose
    dispersion fit fell back to the grid search are still listed (with their count)."""
    result, _ = compared
    rows = pd.DataFrame(result.attrs["warnings"], columns=WARNING_COLUMNS)
    assert set(rows["category"]) <= {"convergence"}
    assert (rows["n_genes"] < 0.01 * len(result)).all()


def test_few_patients_warn_in_log_and_table(caplog):
    """Issue 12 finding 7: 2 pairs leave 1 residual degree of freedom (4 samples - 3 coefficients);
    PyDESeq2's warning about it and its non-converged gene-wise dispersion fits are no longer
    silenced: they reach the log and the rows of warnings.tsv."""
    counts = pd.read_csv(DATA / "deseq2_counts.tsv", sep="\t", index_col=0)
    design = pd.read_csv(DATA / "deseq2_design.tsv", sep="\t").astype(str).iloc[:4]
    with caplog.at_level("WARNING", logger="organomics.rnaseq.deseq"):
        result = paired_deseq(counts[design["sample"]], design, "PL", "LM", n_cpus=1)
    rows = pd.DataFrame(result.attrs["warnings"], columns=WARNING_COLUMNS)
    df_rows = rows[rows["message"].str.startswith("As the residual degrees of freedom is less")]
    assert df_rows[["step", "category"]].values.tolist() == [["deseq2", "UserWarning"]]
    assert "residual degrees of freedom" in caplog.text
    convergence = rows[rows["category"] == "convergence"]
    assert len(convergence) >= 1 and (convergence["n_genes"] > 0).all()
    assert "did not converge" in caplog.text


def test_convergence_rows_count_false_flags_only():
    flags = pd.DataFrame(
        {
            "_genewise_converged": pd.array([True, False, pd.NA, False], dtype="boolean"),
            "_LFC_converged": pd.array([True, True, pd.NA, True], dtype="boolean"),
        },
        index=["G1", "G2", "G3", "G4"],
    )
    rows = convergence_rows(flags, "deseq2")
    # by hand: G2 and G4 failed the gene-wise fit, G3 (all-zero, NA) is not counted
    assert [(r["n_genes"], r["message"].split(": ")[-1]) for r in rows] == [(2, "G2, G4")]


def test_benign_warning_list_is_exact():
    message = "The size factors were fitted iteratively. They will be re-computed with the counts"
    assert is_benign(UserWarning, message)
    assert not is_benign(RuntimeWarning, message)
    assert not is_benign(UserWarning, "The dispersion trend curve fitting did not converge.")
