"""`snakemake rnaseq` on a small demo cohort and on per-sample STAR files, in a temporary folder."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import yaml

from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort
from organomics.tables import read_tsv


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("rnaseq_demo")
    cohort = DemoCohort(seed=0, n_patients=12, n_pairs=10, n_sc_pairs=1, n_genes=1500)
    write_demo(str(work / "demo"), cohort, layers=("rnaseq",))
    config = yaml.safe_load((work / "demo/config.yaml").read_text())
    # Relative paths, resolved from the working directory.
    config["samples"] = "demo/samples.tsv"
    config["rnaseq"] = {"counts": "demo/rnaseq/counts.tsv.gz", "gsea": {"permutations": 100}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    sheet = read_tsv(work / "demo/samples.tsv")
    sheet["rna"] = sheet["rna"].str.replace(str(work) + "/", "", regex=False)
    sheet.to_csv(work / "demo/samples.tsv", sep="\t", index=False)
    snakemake_runner(work, "rnaseq", "--configfile", "config.yaml")
    return work / "results/rnaseq"


def test_demo_tables(demo_run):
    results = read_tsv(demo_run / "deseq2_results.tsv").set_index("symbol")
    assert results.columns.tolist()[:1] == ["gene"]
    assert {"baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"} < set(results.columns)
    for gene in ("CD8A", "LCK", "ICOS"):
        assert results.loc[gene, "log2FoldChange"] < 0 and results.loc[gene, "padj"] < 0.05
    excluded = read_tsv(demo_run / "deseq2_excluded.tsv")
    assert excluded["sample"].tolist() == ["P11_PL"]
    # issue 12 finding 8: the same sample, with its reason, in the branch's excluded.tsv
    branch = read_tsv(demo_run / "excluded.tsv")
    assert branch[["step", "level", "item", "patient", "site"]].values.tolist() == [
        ["deseq2", "sample", "P11_PL", "P11", "PL"]
    ]
    warned = read_tsv(demo_run / "warnings.tsv")
    assert warned.columns.tolist() == ["step", "category", "message", "n_genes"]
    gsea = read_tsv(demo_run / "gsea_prerank.tsv")
    assert gsea.columns.tolist() == ["term", "nes", "pvalue", "fdr", "size", "leading_edge"]
    tcr = gsea[gsea["term"] == "T cell receptor signaling pathway (GO:0050852)"].iloc[0]
    assert tcr["nes"] < 0 and tcr["fdr"] < 0.05
    ora = read_tsv(demo_run / "ora.tsv")
    assert "antigen processing and presentation (GO:0019882)" in set(
        ora.loc[(ora["direction"] == "down") & (ora["fdr"] < 0.05), "term"]
    )
    scores = read_tsv(demo_run / "signature_scores.tsv")
    assert len(scores) == 21 and "CD8_T_cells" in scores.columns
    # the demo sheet has collection_day: the "all" rows, then the simultaneous pairs' repeat
    both = read_tsv(demo_run / "signature_comparison.tsv")
    assert both["subset"].tolist() == ["all"] * (len(both) // 2) + ["simultaneous"] * (
        len(both) // 2
    )
    comparison = both[both["subset"] == "all"].set_index("signature")
    cd8 = comparison.loc["CD8_T_cells"]
    assert cd8["n_pairs"] == 10 and cd8["median_LM"] < cd8["median_PL"]
    assert {"statistic", "p_value", "p_adj", "test"} < set(comparison.columns)
    plots = sorted(p.name for p in (demo_run / "plots").iterdir())
    assert len(plots) == 22 and "volcano.pdf" in plots and "deconvolution_paired.png" in plots


def test_demo_deconvolution_without_scrna(demo_run):
    # Only the RNA layer is configured: marker scores, no scRNA-reference fractions.
    table = read_tsv(demo_run / "deconvolution.tsv")
    assert table.columns.tolist() == ["sample", "method", "cell_type", "value", "value_type"]
    assert set(table["method"]) == {"mcp_counter"} and set(table["value_type"]) == {"score"}
    assert table["sample"].nunique() == 21
    comparison = read_tsv(demo_run / "deconvolution_comparison.tsv")
    comparison = comparison[comparison["subset"] == "all"].set_index("cell_type")
    # The demo's cytotoxic lymphocytes (CD8A, GNLY, KLRD1, ...) are lower in LM.
    cytotoxic = comparison.loc["Cytotoxic_lymphocytes"]
    assert cytotoxic["n_pairs"] == 10 and cytotoxic["median_difference"] < 0
    assert cytotoxic["p_adj"] < 0.05
    assert comparison["correction"].str.endswith("(mcp_counter)").all()


def star_file(path, counts, rng):
    lines = ["N_unmapped\t10\t10\t10", "N_multimapping\t5\t5\t5"]
    lines += ["N_noFeature\t3\t900\t20", "N_ambiguous\t1\t1\t1"]
    for gene, count in counts.items():
        sense = rng.binomial(count, 0.02)
        lines.append(f"{gene}\t{count}\t{sense}\t{count - sense}")
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


def test_star_per_sample_counts(tmp_path, snakemake_runner):
    rng = np.random.default_rng(0)
    genes = ["ENSG00000153563.16", "ENSG00000136167.14", "ENSG00000111640.15"]
    rows = []
    for patient in ("A", "B"):
        for site in ("PL", "LM"):
            sample = f"{patient}_{site}"
            counts = dict(zip(genes, rng.integers(50, 500, 3), strict=True))
            star_file(tmp_path / f"{sample}.ReadsPerGene.out.tab.gz", counts, rng)
            rows.append([sample, patient, site, f"{sample}.ReadsPerGene.out.tab.gz"])
    pd.DataFrame(rows, columns=["sample", "patient", "site", "rna"]).to_csv(
        tmp_path / "samples.tsv", sep="\t", index=False
    )
    config = {"samples": "samples.tsv", "rnaseq": {"strandedness": "reverse"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(tmp_path, "results/rnaseq/library_sizes.tsv", "--configfile", "config.yaml")
    matrix = pd.read_csv(tmp_path / "results/rnaseq/counts.tsv.gz", sep="\t", index_col=0)
    assert matrix.columns.tolist() == ["A_PL", "A_LM", "B_PL", "B_LM"]
    star = pd.read_csv(
        tmp_path / "A_LM.ReadsPerGene.out.tab.gz", sep="\t", header=None, skiprows=4, index_col=0
    )
    assert matrix["A_LM"].tolist() == star[3].tolist()
    library = read_tsv(tmp_path / "results/rnaseq/library_sizes.tsv")
    assert library["library_size"].tolist() == matrix.sum().tolist()


def test_missing_matrix_column_is_named(tmp_path, snakemake_runner):
    (tmp_path / "counts.tsv").write_text("gene\tA_PL\tA_LM\nG1\t1\t2\nG2\t3\t4\n")
    sheet = "sample\tpatient\tsite\trna\nA_PL\tA\tPL\tcounts.tsv\nA_LM\tA\tLM\tcounts.tsv\n"
    sheet += "B_PL\tB\tPL\tcounts.tsv\n"
    (tmp_path / "samples.tsv").write_text(sheet)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": "counts.tsv"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_runner(
        tmp_path, "results/rnaseq/counts.tsv.gz", "--configfile", "config.yaml", check=False
    )
    assert result.returncode != 0
    assert "missing from the count matrix: B_PL" in result.stdout + result.stderr
    assert not (tmp_path / "results/rnaseq/counts.tsv.gz").exists()
