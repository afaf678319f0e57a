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


def small_inputs():
    """Tiny tables of every kind the figures draw: 3 patients, 2 sites, 4 genes."""
    import numpy as np

    from organomics.rnaseq import qc

    rng = np.random.default_rng(0)
    design = pd.DataFrame(
        {
            "sample": [f"P{i}_{s}" for i in range(3) for s in ("PL", "LM")],
            "patient": [f"P{i}" for i in range(3) for _ in range(2)],
            "site": ["PL", "LM"] * 3,
        }
    )
    genes = ["G1", "G2", "G3", "G4"]
    vst = pd.DataFrame(rng.normal(5, 1, (4, 6)), index=genes, columns=design["sample"])
    results = pd.DataFrame(
        {
            "gene": genes,
            "symbol": ["CD8A", "LCK", "", "B2M"],
            "baseMean": [100.0, 50.0, 10.0, 500.0],
            "log2FoldChange": [-1.5, -0.8, 0.1, 0.9],
            "log2FoldChange_shrunk": [-1.2, -0.6, 0.05, 0.7],
            "padj": [1e-4, 0.02, 0.9, 0.01],
        }
    )
    scores, explained = qc.pca(vst, 4)
    long = pd.DataFrame(
        {"gene": "CD8A", "sample": design["sample"], "value": rng.normal(3, 1, 6)}
    ).merge(design, on="sample")
    signatures = pd.DataFrame(
        {"signature": "CD8_T_cells", "sample": design["sample"], "score": rng.normal(0, 1, 6)}
    ).merge(design, on="sample")
    comparison = pd.DataFrame({"signature": ["CD8_T_cells"], "p_adj": [0.03], "n_pairs": [3]})
    table = pd.DataFrame({"term": ["A", "B"], "nes": [1.8, -2.1], "fdr": [0.01, 0.3]})
    curves = pd.DataFrame(
        {
            "term": "A",
            "position": range(4),
            "running_score": [0.1, 0.4, 0.2, 0.0],
            "hit": [1, 0, 1, 0],
        }
    )
    library = design.assign(library_size=[2e7, 3e7, 1e7, 2.5e7, 2e7, 1.5e7])
    return {
        "volcano": (results, ["CD8A"], 0.05, 0.5, "PL", "LM"),
        "ma": (results, 0.05, "PL", "LM"),
        "pca_plot": (scores, explained, design, "PL", "LM"),
        "distance_heatmap": (qc.sample_distances(vst), design, "PL", "LM"),
        "expression_heatmap": (vst, genes[:2], ["CD8A", "LCK"], design, "PL", "LM"),
        "paired_genes": (long, ["CD8A"], "PL", "LM", "log2 count"),
        "paired_signatures": (signatures, comparison, "PL", "LM"),
        "gsea_curves": (curves, table, "PL", "LM"),
        "nes_bars": (table, 5, "PL", "LM"),
        "library_sizes": (library, "PL", "LM"),
    }


def test_every_figure_function_returns_a_figure_and_writes_nothing(tmp_path, monkeypatch):
    """Plot functions return a Figure; the adapter saves it (organomics.plots.save)."""
    import inspect

    import matplotlib.pyplot as plt

    public = {
        name
        for name, function in inspect.getmembers(plots, inspect.isfunction)
        if function.__module__ == plots.__name__ and not name.startswith("_")
    }
    inputs = small_inputs()
    assert public == set(inputs)
    monkeypatch.chdir(tmp_path)
    for name, arguments in inputs.items():
        parameters = inspect.signature(getattr(plots, name)).parameters
        assert not [p for p in parameters if "path" in p or p in ("png", "pdf", "out")], name
        figure = getattr(plots, name)(*arguments)
        assert isinstance(figure, plt.Figure), name
        plt.close(figure)
    assert not list(tmp_path.iterdir())
