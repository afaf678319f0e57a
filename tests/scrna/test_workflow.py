"""`snakemake scrna` on a small demo: 3 pairs (h5 + mtx) and one sample that loses every cell."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml

from organomics.demo import scrna as demo
from organomics.demo.cohort import DemoCohort


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("scrna_workflow")
    cohort = DemoCohort(n_patients=6, n_pairs=4, n_sc_pairs=3, n_cells=300)
    sheet, block = demo.write(work / "data", "data", cohort)
    rows = [
        {"sample": s, "patient": s.split("_")[0], "site": s.split("_")[1], **v}
        for s, v in sheet.items()
    ]
    # P05_PL (unpaired, h5ad with counts in a layer): every count mitochondrial -> no cell kept.
    genes = pd.read_csv(demo.RESOURCES / "demo_genes.tsv", sep="\t")["gene_symbol"]
    counts = np.zeros((40, len(genes)), dtype=np.float32)
    counts[:, :13] = np.random.default_rng(0).poisson(20, size=(40, 13))
    lost = ad.AnnData(
        X=sp.csr_matrix(counts.shape, dtype=np.float32), var=pd.DataFrame(index=genes)
    )
    lost.layers["counts"] = sp.csr_matrix(counts)
    lost.write_h5ad(work / "data/P05_PL.h5ad")
    rows.append({"sample": "P05_PL", "patient": "P05", "site": "PL", "scrna": "data/P05_PL.h5ad"})
    pd.DataFrame(rows).to_csv(work / "samples.tsv", sep="\t", index=False)
    block["integration"].update(n_top_genes=500)
    block["pseudobulk"] = {"min_pairs": 3}
    block["comparison"] = {"min_cells": 5}  # 300-cell samples hold few NK cells
    config = {"samples": "samples.tsv", "scrna": block}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(work, "scrna", "--configfile", str(work / "config.yaml"))
    return work


def _table(work: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(work / "results/scrna" / name, sep="\t")


def test_qc_reports_the_sample_without_cells(workflow_run):
    qc = _table(workflow_run, "qc.tsv").set_index("sample")
    assert qc.loc["P05_PL", "n_cells_raw"] == 40
    assert qc.loc["P05_PL", "n_cells_kept"] == 0
    assert "no cells after QC" in qc.loc["P05_PL", "status"]
    assert (qc.drop("P05_PL")["n_cells_kept"] > 200).all()
    log = (workflow_run / "logs/scrna/cohort.log").read_text()
    assert "P05_PL: no cells after QC" in log
    assert "P05_PL" not in set(_table(workflow_run, "cell_types.tsv")["sample"])
    removed = [c for c in qc.columns if c.startswith("removed_")]
    assert (qc[removed].sum(axis=1) == qc["n_cells_raw"] - qc["n_cells_kept"]).all()
    # P05_PL's counts lie in 13 genes (< min_genes 100): the first filter removes all 40.
    assert qc.loc["P05_PL", "removed_min_genes"] == 40


def test_excluded_lists_samples_and_profiles_left_out(workflow_run):
    excluded = _table(workflow_run, "excluded.tsv").fillna("")
    qc = excluded[excluded["step"] == "qc"]
    assert qc["item"].tolist() == ["P05_PL"]
    assert qc["reason"].iloc[0] == "no cells after QC: 40 cells read, removed 40 by min_genes"
    # Every (sample, cell type) below pseudobulk.min_cells (10) is listed with its count.
    groups = (
        ad.read_h5ad(workflow_run / "results/scrna/adata.h5ad", backed="r")
        .obs.groupby(["sample", "cell_type"], observed=True)
        .size()
    )
    below = {f"{s} {c}" for (s, c), n in groups.items() if 0 < n < 10}
    pseudobulk = excluded[excluded["step"] == "pseudobulk"]
    listed = set(pseudobulk.loc[pseudobulk["level"] == "sample cell type", "item"])
    assert below <= listed
    log = (workflow_run / "logs/scrna/pseudobulk.log").read_text()
    assert all(item in log for item in below)


def test_tables_and_the_studys_direction(workflow_run):
    comparison = _table(workflow_run, "site_comparison.tsv")
    assert list(comparison.columns[:5]) == [
        "cell_type",
        "signature",
        "n_pairs",
        "n_unpaired",
        "median_PL",
    ]
    tests = comparison.set_index(["cell_type", "signature"])
    for key in (("T_CD8", "effector_CD8"), ("NK", "NK_cytotoxicity")):
        assert tests.loc[key, "n_pairs"] == 3
        assert tests.loc[key, "median_LM"] < tests.loc[key, "median_PL"]
    assert tests.loc[("T_CD8", "fraction"), "median_difference"] < 0
    cell_types = _table(workflow_run, "cell_types.tsv")
    sums = cell_types.groupby("sample")["fraction"].sum()
    assert np.allclose(sums, 1.0)
    scores = _table(workflow_run, "signature_scores.tsv")
    assert list(scores.columns) == [
        "sample", "patient", "site", "cell_type", "signature", "mean_score", "n_cells"
    ]  # fmt: skip
    adata = ad.read_h5ad(workflow_run / "results/scrna/adata.h5ad", backed="r")
    assert {"cell_type", "cell_state", "effector_CD8", "NK_cytotoxicity"} <= set(adata.obs)
    assert "counts" in adata.layers and "X_umap" in adata.obsm


def test_pseudobulk_and_plots(workflow_run):
    summary = _table(workflow_run, "pseudobulk_summary.tsv").set_index("cell_type")
    assert summary.loc["T_CD8", "status"] == "tested"
    de = _table(workflow_run, "pseudobulk_de/T_CD8.tsv")
    # The demo's 10x files carry Ensembl ids (demo_genes.tsv): each result keeps its gene's id.
    ids = pd.read_csv(demo.RESOURCES / "demo_genes.tsv", sep="\t").set_index("gene_symbol")
    assert de["gene_id"].tolist() == ids.loc[de["gene"], "gene_id"].tolist()
    assert list(de.columns) == [
        "gene", "gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj",
        "log2FoldChange_shrunk",
    ]  # fmt: skip
    plots = workflow_run / "results/scrna/plots"
    for name in ("umap_cell_type", "umap_site", "umap_patient", "marker_dotplot",
                 "score_violins", "score_paired", "composition"):  # fmt: skip
        for ext in ("png", "pdf"):
            assert (plots / f"{name}.{ext}").stat().st_size > 1000


def test_unknown_matrix_format_fails_before_any_job(tmp_path, snakemake_runner):
    (tmp_path / "m.loom").write_text("")
    sheet = "sample\tpatient\tsite\tscrna\nP1_PL\tP1\tPL\tm.loom\n"
    (tmp_path / "samples.tsv").write_text(sheet)
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\n")
    result = snakemake_runner(
        tmp_path, "scrna", "-n", "--configfile", str(tmp_path / "config.yaml"), check=False
    )
    assert result.returncode != 0
    assert "unknown single-cell matrix format" in result.stdout + result.stderr
