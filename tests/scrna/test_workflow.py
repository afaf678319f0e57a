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


def test_states_ratio_and_composition(workflow_run):
    cells = pd.read_csv(workflow_run / "results/scrna/state_cells.tsv.gz", sep="\t")
    assert list(cells.columns[:7]) == [
        "cell", "sample", "patient", "site", "cell_type", "state", "max_z"
    ]  # fmt: skip
    assert set(cells["cell_type"]) <= {"T_CD8", "NK"}
    adata = ad.read_h5ad(workflow_run / "results/scrna/adata.h5ad", backed="r")
    assert set(cells["cell"]) == set(adata.obs_names[adata.obs["cell_type"].isin(["T_CD8", "NK"])])
    states = _table(workflow_run, "states.tsv")
    assert np.allclose(states.dropna().groupby(["sample", "cell_type"])["fraction"].sum(), 1.0)
    # recount states.tsv from the per-cell table
    counts = cells.groupby(["sample", "cell_type", "state"]).size()
    for row in states[states["n_cells"] > 0].itertuples():
        assert counts[(row.sample, row.cell_type, row.state)] == row.n_cells
    ratio = _table(workflow_run, "state_ratio.tsv")
    expected = (ratio["n_numerator"] + 0.5) / (ratio["n_denominator"] + 0.5)
    assert np.allclose(ratio["ratio"], expected)
    tests = _table(workflow_run, "state_tests.tsv")
    assert {"fraction", "log2_ratio"} == set(tests["measure"])
    assert (tests["n_pairs"] <= 3).all()
    composition = _table(workflow_run, "composition.tsv")
    assert (composition["primary"] == "propeller").all()
    assert {"cell_type", "state"} == set(composition["level"])
    # the Wilcoxon column equals site_comparison.tsv's fraction test of the same cell type
    site = _table(workflow_run, "site_comparison.tsv")
    site = site[site["signature"] == "fraction"].set_index("cell_type")["p_value"]
    types = composition[composition["level"] == "cell_type"].set_index("group")
    shared = types.index.intersection(site.index)
    assert np.allclose(types.loc[shared, "wilcoxon_p_value"], site[shared])
    plots = workflow_run / "results/scrna/plots"
    for name in ("umap_states", "state_dotplot", "state_fractions"):
        for ext in ("png", "pdf"):
            assert (plots / f"{name}.{ext}").stat().st_size > 1000


def _paired_chain_cells(path: Path) -> set[str]:
    """Barcodes with an eligible TRA and an eligible TRB contig, read with the csv module
    (independent of organomics.scrna.tcr; the count does not depend on the tie-breaking)."""
    import csv
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="," if ".csv" in path.name else "\t"))
    chains: dict[str, set[str]] = {}
    for row in rows:
        if "barcode" in row:
            cell, chain, cdr3 = row["barcode"], row["chain"], row["cdr3_nt"]
            flags = (row["is_cell"], row["high_confidence"], row["productive"])
            ok = all(flag.lower() == "true" for flag in flags)
        else:
            cell, chain, cdr3 = row["cell_id"], row["locus"], row["junction"]
            ok = row["productive"] == "T"
        if ok and cdr3 not in ("", "None"):
            chains.setdefault(cell, set()).add(chain)
    return {cell for cell, found in chains.items() if {"TRA", "TRB"} <= found}


def test_tcr_clonotypes_joined_and_shared(workflow_run):
    sheet = pd.read_csv(workflow_run / "samples.tsv", sep="\t").dropna(subset=["tcr"])
    summary = _table(workflow_run, "tcr_summary.tsv").set_index("sample")
    assert sorted(summary.index) == sorted(sheet["sample"])  # P05_PL has no tcr file
    for row in sheet.itertuples():
        assert summary.at[row.sample, "n_cells"] == len(_paired_chain_cells(workflow_run / row.tcr))
    # the demo's design: clonotypes shared at both sites of every patient, and a CD8 effector
    # clone expanded in PL (40% of effector CD8 cells) but rare in LM (6%)
    shared = _table(workflow_run, "tcr_shared.tsv")
    assert len(shared) == 3 and (shared["n_shared"] >= 1).all()
    assert summary["n_annotated"].gt(0).all()
    cd8 = summary.pivot_table(index="patient", columns="site", values="frac_expanded_T_CD8")
    assert (cd8["PL"] > cd8["LM"]).all()
    cells = pd.read_csv(workflow_run / "results/scrna/tcr_cells.tsv.gz", sep="\t")
    annotated = cells[cells["annotated"]]
    # only simulated T cells carry a TCR: their annotation is (almost always) a T cell type
    assert annotated["cell_type"].isin(["T_CD8", "T_CD4"]).mean() > 0.9
    comparison = _table(workflow_run, "tcr_comparison.tsv").set_index("metric")
    assert comparison.loc["diversity", "n_pairs"] == 3
    plots = workflow_run / "results/scrna/plots"
    for name in ("tcr_paired", "tcr_clone_sizes", "tcr_expansion"):
        assert (plots / f"{name}.png").stat().st_size > 1000


def test_tcr_without_scrna_runs_alone_and_bad_files_stop_the_parse(tmp_path, snakemake_runner):
    data = Path(__file__).parent / "data" / "tcr"
    sheet = "sample\tpatient\tsite\ttcr\n"
    sheet += f"P1_PL\tP1\tPL\t{data / 'cellranger_filtered_contig_annotations.csv'}\n"
    sheet += f"P1_LM\tP1\tLM\t{data / 'airr_rearrangement_tra_trb.tsv'}\n"
    (tmp_path / "samples.tsv").write_text(sheet)
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\n")
    config = ("--configfile", str(tmp_path / "config.yaml"))
    result = snakemake_runner(tmp_path, "scrna", "-n", *config)
    assert "scrna_tcr" in result.stdout and "scrna_tcr_plots" in result.stdout
    assert "scrna_qc" not in result.stdout and "scrna_cohort" not in result.stdout
    (tmp_path / "bad.tsv").write_text("a\tb\n1\t2\n")
    bad = sheet.replace(str(data / "airr_rearrangement_tra_trb.tsv"), "bad.tsv")
    (tmp_path / "samples.tsv").write_text(bad)
    result = snakemake_runner(tmp_path, "scrna", "-n", *config, check=False)
    assert result.returncode != 0
    message = "bad.tsv: not a Cell Ranger filtered_contig_annotations.csv"
    assert message in result.stdout + result.stderr
