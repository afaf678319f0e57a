"""Bulk RNA figures: which genes the volcano names, whatever the id type."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from organomics.rnaseq import plots  # noqa: E402


def labels_on(figure) -> list[str]:
    return sorted(text.get_text() for text in figure.axes[0].texts)


def test_volcano_names_genes_of_interest_by_symbol_or_ensembl_id():
    """Issue 12 finding 1: genes of interest given as symbols or as the matrix's Ensembl ids are
    labelled with their symbol; the all-zero _PAR_Y twin (no padj) is not drawn."""
    results = pd.DataFrame(
        {
            "gene": ["ENSG00000153563.16", "ENSG00000120217.14", "ENSG00000120217.14_PAR_Y", "X1"],
            "symbol": ["CD8A", "CD274", "CD274", ""],
            "log2FoldChange": [-1.5, 0.8, float("nan"), 0.1],
            "padj": [1e-4, 0.02, float("nan"), 0.9],
        }
    )
    figure = plots.volcano(results, ["CD274", "ENSG00000153563.16", "X1"], 0.05, 0.5, "PL", "LM")
    # by hand: CD274 by symbol, CD8A by its id, X1 (no symbol) by its id
    assert labels_on(figure) == ["CD274", "CD8A", "X1"]
