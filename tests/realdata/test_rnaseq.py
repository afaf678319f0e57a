"""Bulk RNA branch end to end on real counts: GEUVADIS (Ensembl ids) and salmon quant.sf files.

Each run is the workflow on a tiny cohort in a temporary directory. LFCs and baseMeans are
checked against stored Bioconductor DESeq2 runs on the same counts (run_deseq2.R, Debian
r-bioc-deseq2 1.38.3); salmon gene counts against R's rowsum + round and a by-hand sum here.
Patients and sites are assigned by us (the data have neither): GEUVADIS female samples are "PL"
and male samples "LM", paired in file order; salmon hESC/iPS samples "PL", fibroblasts and the
second iPS "LM". Sources and subsetting: tests/realdata/data/rnaseq/PROVENANCE.md.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from organomics.tables import read_tsv

DATA = Path(__file__).parent / "data" / "rnaseq"
REPO = Path(__file__).resolve().parents[2]
# RPS4Y1 (chrY), KDM5D (chrY): expressed in male samples only, so strongly "up in LM"
RPS4Y1, KDM5D = "ENSG00000129824", "ENSG00000012817"
# two real ids of the subset (with symbols) that get a GENCODE-style _PAR_Y twin (all-zero
# row) in the versioned matrix
PAR_TWINS = ["ENSG00000120217", "ENSG00000206503"]  # CD274, HLA-A


def symbol_table():
    table = pd.read_csv(REPO / "resources/rnaseq/ensembl_to_symbol.tsv.gz", sep="\t", dtype=str)
    return table.drop_duplicates("ensembl_id").set_index("ensembl_id")["symbol"]


def geuvadis_matrix(variant: str) -> pd.DataFrame:
    """The stored GEUVADIS counts with ids as `variant` writes them."""
    counts = pd.read_csv(DATA / "geuvadis_counts.tsv.gz", sep="\t", index_col=0)
    if variant == "ensembl":
        return counts
    if variant == "versioned_par_y":
        # GENCODE ids: a version on every id, and _PAR_Y rows (zero counts, as quantifiers
        # report the Y copies of pseudoautosomal genes) after their X copies
        versioned = counts.copy()
        versioned.index = [f"{gene}.{1 + i % 17}" for i, gene in enumerate(counts.index)]
        twins = versioned.loc[[i for i in versioned.index if i.split(".")[0] in PAR_TWINS]]
        twins = twins * 0
        twins.index = [f"{gene}_PAR_Y" for gene in twins.index]
        return pd.concat([versioned, twins])
    if variant == "symbols":
        by_symbol = counts.rename(index=symbol_to_ensembl(counts.index, inverse=True))
        return by_symbol.loc[list(symbol_to_ensembl(counts.index))]
    raise ValueError(variant)


def symbol_to_ensembl(ids, inverse: bool = False) -> dict[str, str]:
    """Symbol -> Ensembl id of the genes in `ids` with a symbol of their own (id -> symbol when
    `inverse`): the symbol-keyed matrix keeps those."""
    symbols = pd.Series(list(ids), index=list(ids)).map(symbol_table()).dropna()
    symbols = symbols[~symbols.duplicated(keep=False)]
    return symbols.to_dict() if inverse else {v: k for k, v in symbols.items()}


def run_geuvadis(workdir: Path, runner, variant: str) -> Path:
    matrix = geuvadis_matrix(variant)
    matrix.index.name = "gene_id"
    matrix.to_csv(workdir / "counts.tsv.gz", sep="\t")
    design = read_tsv(DATA / "geuvadis_design.tsv")
    design.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "rnaseq": {
            "counts": "counts.tsv.gz",
            "genes_of_interest": ["RPS4Y1", "KDM5D", "CD274", "HLA-A"],
            "gsea": {"permutations": 1000, "min_size": 5, "max_size": 500},
        },
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    runner(workdir, "rnaseq", "--configfile", "config.yaml")
    return workdir / "results/rnaseq"


@pytest.fixture(scope="module", params=["ensembl", "versioned_par_y", "symbols"])
def geuvadis(request, tmp_path_factory, snakemake_runner):
    workdir = tmp_path_factory.mktemp(f"geuvadis_{request.param}")
    return request.param, run_geuvadis(workdir, snakemake_runner, request.param)


def results_by_ensembl(variant: str, results: pd.DataFrame) -> pd.DataFrame:
    """deseq2_results.tsv indexed by the plain Ensembl id (the key of the R reference)."""
    if variant == "symbols":
        stored = pd.read_csv(DATA / "geuvadis_counts.tsv.gz", sep="\t", index_col=0).index
        to_id = symbol_to_ensembl(stored)
        return results.assign(ensembl=results["gene"].map(to_id)).set_index("ensembl")
    plain = results[~results["gene"].str.endswith("_PAR_Y")]
    return plain.assign(ensembl=plain["gene"].str.split(".").str[0]).set_index("ensembl")


def test_geuvadis_lfc_matches_bioconductor(geuvadis):
    """Issue 12 finding 1: Ensembl ids (plain, versioned, _PAR_Y) and symbols run end to end
    and give Bioconductor DESeq2's LFCs (stored run on the same counts and design)."""
    variant, out = geuvadis
    results = results_by_ensembl(variant, read_tsv(out / "deseq2_results.tsv"))
    reference = read_tsv(DATA / "deseq2_geuvadis.tsv").set_index("gene")
    joined = results.join(reference, rsuffix="_R", how="inner").dropna(
        subset=["log2FoldChange", "log2FoldChange_R"]
    )
    expected = 300 if variant != "symbols" else len(geuvadis_matrix("symbols"))
    assert len(joined) >= expected - 5  # all-zero genes have no LFC in either
    r = np.corrcoef(joined["log2FoldChange"], joined["log2FoldChange_R"])[0, 1]
    assert r >= 0.999
    if variant != "symbols":
        # deseq2_results.tsv carries 6 significant digits; the symbol matrix lacks 3 genes
        # (no or a shared symbol), so its size factors, hence baseMeans, differ slightly
        np.testing.assert_allclose(joined["baseMean"], joined["baseMean_R"], rtol=1e-5)
    # the Y genes: male (LM) only; R finds them up in LM, and so must we
    for gene in (RPS4Y1, KDM5D):
        assert reference.loc[gene, "log2FoldChange"] > 5 and joined.loc[gene, "padj"] < 1e-6
        assert joined.loc[gene, "log2FoldChange"] > 5
    assert results.loc[RPS4Y1, "symbol"] == "RPS4Y1"


def test_geuvadis_par_y_rows_kept_apart_with_the_x_symbol(geuvadis):
    variant, out = geuvadis
    if variant != "versioned_par_y":
        pytest.skip("only the GENCODE-style matrix has _PAR_Y rows")
    results = read_tsv(out / "deseq2_results.tsv").set_index("gene")
    for gene in PAR_TWINS:
        x_copy = results.index[results.index.str.match(gene + r"\.\d+$")][0]
        twin = f"{x_copy}_PAR_Y"
        assert results.loc[twin, "symbol"] == results.loc[x_copy, "symbol"] != ""
        assert results.loc[twin, "baseMean"] == 0 and np.isnan(results.loc[twin, "pvalue"])


def test_geuvadis_gene_set_steps_agree_across_id_types(geuvadis, tmp_path_factory):
    """GSEA, ORA and signatures ran on every id type; signature scores do not depend on ids."""
    variant, out = geuvadis
    scores = read_tsv(out / "signature_scores.tsv").set_index("sample")
    assert len(scores) == 12 and scores.notna().all().all()
    gsea = read_tsv(out / "gsea_prerank.tsv")
    assert len(gsea) > 0
    # issue 12 finding 10: no permutation p of 0 (smallest possible: 1 / (n + 1))
    assert (gsea["pvalue"] > 0).all() and (gsea["fdr"] > 0).all()
    assert (read_tsv(out / "warnings.tsv")["category"] != "UserWarning").all()  # 5 residual df
    assert read_tsv(out / "excluded.tsv").empty  # every sample paired, every column a sheet sample
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert len(plots) == 22
    # MCP-counter scores on real Ensembl ids: every sample scored, T-cell markers measured
    deconvolution = read_tsv(out / "deconvolution.tsv")
    assert set(deconvolution["method"]) == {"mcp_counter"}
    assert deconvolution["sample"].nunique() == 12
    if variant == "versioned_par_y":
        # ids are matched without versions, and the all-zero _PAR_Y rows change no size factor
        plain = tmp_path_factory.getbasetemp() / "geuvadis_ensembl0/results/rnaseq"
        pd.testing.assert_frame_equal(deconvolution, read_tsv(plain / "deconvolution.tsv"))
    if variant == "versioned_par_y":
        # the _PAR_Y twins (zero) lose to their X copies when collapsing by symbol, and the
        # versions are stripped, so the scores equal the plain-id run's
        # (the "ensembl" run comes first: module fixtures run their params in order)
        plain = tmp_path_factory.getbasetemp() / "geuvadis_ensembl0/results/rnaseq"
        reference = read_tsv(plain / "signature_scores.tsv").set_index("sample")
        pd.testing.assert_frame_equal(scores, reference)


def hand_summed_salmon(sample: str) -> dict[str, int]:
    """NumReads per gene of one quant.sf summed with the csv module, then rounded (half even,
    as R's round and numpy's)."""
    with gzip.open(DATA / "salmon/tx2gene.tsv.gz", "rt") as handle:
        gene_of = {row[0]: row[1] for row in csv.reader(handle, delimiter="\t")}
    totals: dict[str, float] = {}
    with gzip.open(DATA / f"salmon/{sample}/quant.sf.gz", "rt") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            gene = gene_of[row["Name"]]
            totals[gene] = totals.get(gene, 0.0) + float(row["NumReads"])
    return {gene: int(round(value)) for gene, value in totals.items()}


@pytest.fixture(scope="module")
def salmon_run(tmp_path_factory, snakemake_runner):
    workdir = tmp_path_factory.mktemp("salmon")
    design = read_tsv(DATA / "salmon_design.tsv")
    design["rna"] = [str(DATA / path) for path in design["rna"]]
    design.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "rnaseq": {"counts": None, "tx2gene": str(DATA / "salmon/tx2gene.tsv.gz")},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(
        workdir, "results/rnaseq/deseq2_results.tsv", "results/rnaseq/warnings.tsv",
        "--configfile", "config.yaml",
    )  # fmt: skip
    return workdir / "results/rnaseq"


def test_salmon_counts_are_summed_and_rounded(salmon_run):
    counts = pd.read_csv(salmon_run / "counts.tsv.gz", sep="\t", index_col=0)
    reference = pd.read_csv(DATA / "salmon_counts.tsv", sep="\t", index_col=0)
    # R: rowsum(NumReads, tx2gene) then round(), the counts DESeqDataSetFromTximport uses
    pd.testing.assert_frame_equal(counts.loc[reference.index, reference.columns], reference)
    assert counts.shape == reference.shape
    by_hand = hand_summed_salmon("Fibroblasts_1")
    assert counts["Fibroblasts_1"].to_dict() == by_hand


def test_salmon_lfc_matches_bioconductor_and_warns(salmon_run):
    """3 pairs leave 2 residual degrees of freedom: PyDESeq2's warning reaches warnings.tsv."""
    results = read_tsv(salmon_run / "deseq2_results.tsv").set_index("gene")
    reference = read_tsv(DATA / "deseq2_salmon.tsv").set_index("gene")
    joined = results.join(reference, rsuffix="_R", how="inner").dropna(
        subset=["log2FoldChange", "log2FoldChange_R"]
    )
    counts = pd.read_csv(salmon_run / "counts.tsv.gz", sep="\t", index_col=0)
    assert len(joined) == int((counts.sum(axis=1) > 0).sum())  # 371 of 375: all-zero genes
    # PyDESeq2's parametric dispersion trend fails here and falls back to the mean (below),
    # R's does not: the LFCs still agree at r = 0.99905 (0.9999 on the GEUVADIS counts)
    r = np.corrcoef(joined["log2FoldChange"], joined["log2FoldChange_R"])[0, 1]
    assert r >= 0.999
    np.testing.assert_allclose(joined["baseMean"], joined["baseMean_R"], rtol=1e-5)  # 6 digits
    warned = read_tsv(salmon_run / "warnings.tsv")
    assert warned["message"].str.startswith("As the residual degrees of freedom is less").any()
    assert warned["message"].str.startswith("The dispersion trend curve fitting did not").any()


TOOL_SAMPLES = {"P1_PL": "reads", "P1_LM": "reads1", "P2_PL": "reads2"}


def run_tool_files(workdir: Path, runner, suffix: str, settings: dict) -> pd.DataFrame:
    """Counts step on genuine per-sample tool outputs (tools/PREFIX.SUFFIX); the matrix."""
    lines = ["sample\tpatient\tsite\trna"]
    for sample, prefix in TOOL_SAMPLES.items():
        patient, site = sample.split("_")
        lines.append(f"{sample}\t{patient}\t{site}\t{DATA / 'tools' / (prefix + suffix)}")
    (workdir / "samples.tsv").write_text("\n".join(lines) + "\n")
    config = {"samples": "samples.tsv", "rnaseq": {"counts": None, **settings}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    runner(workdir, "results/rnaseq/library_sizes.tsv", "--configfile", "config.yaml")
    return pd.read_csv(workdir / "results/rnaseq/counts.tsv.gz", sep="\t", index_col=0)


def test_featurecounts_files(tmp_path, snakemake_runner):
    """featureCounts 2.0.3 output files: the counts column of each, and each library size equals
    the tool's own `Assigned` line in its .summary file."""
    matrix = run_tool_files(tmp_path, snakemake_runner, ".featureCounts.txt", {})
    library = read_tsv(tmp_path / "results/rnaseq/library_sizes.tsv").set_index("sample")
    for sample, prefix in TOOL_SAMPLES.items():
        with open(DATA / f"tools/{prefix}.featureCounts.txt") as handle:
            rows = [r for r in csv.reader(handle, delimiter="\t") if not r[0].startswith("#")]
        expected = {row[0]: int(row[6]) for row in rows[1:]}
        assert matrix[sample].to_dict() == expected
        with open(DATA / f"tools/{prefix}.featureCounts.txt.summary") as handle:
            summary = dict(csv.reader(handle, delimiter="\t"))
        assert library.loc[sample, "library_size"] == int(summary["Assigned"])


@pytest.mark.parametrize("strandedness, column", [("none", 1), ("yes", 2), ("reverse", 3)])
def test_star_files_column_by_strandedness(tmp_path, snakemake_runner, strandedness, column):
    """STAR 2.7.10b ReadsPerGene.out.tab: the column of the strandedness (2, 3, 4), N_ rows out.
    The Rsubread reads all map to the + strand, so `yes` and `reverse` split the genes by strand."""
    matrix = run_tool_files(
        tmp_path, snakemake_runner, ".ReadsPerGene.out.tab", {"strandedness": strandedness}
    )
    for sample, prefix in TOOL_SAMPLES.items():
        with open(DATA / f"tools/{prefix}.ReadsPerGene.out.tab") as handle:
            rows = list(csv.reader(handle, delimiter="\t"))
        expected = {row[0]: int(row[column]) for row in rows[4:]}
        assert matrix[sample].to_dict() == expected
        # by hand: every one of STAR's 1,000 input reads (Log.final.out) is in one row of the
        # unstranded column: genes + N_unmapped + N_multimapping + N_noFeature + N_ambiguous
        assert sum(int(row[1]) for row in rows) == 1000
    if strandedness == "yes":  # gene1 is on +, gene2 on - (genes.gtf)
        assert matrix.loc["gene2", "P1_PL"] < matrix.loc["gene1", "P1_PL"]


def test_salmon_transcripts_missing_from_tx2gene_are_listed(tmp_path, snakemake_runner):
    """A tx2gene without TCONS_00000001 and _00000003: their reads are dropped, and every
    sample's excluded rows say so with the reads from its quant.sf (read here with csv)."""
    with gzip.open(DATA / "salmon/tx2gene.tsv.gz", "rt") as handle:
        lines = [line for line in handle if not line.startswith(("TCONS_00000001\t",
                                                                 "TCONS_00000003\t"))]  # fmt: skip
    (tmp_path / "tx2gene.tsv").write_text("".join(lines))
    design = read_tsv(DATA / "salmon_design.tsv")
    design["rna"] = [str(DATA / path) for path in design["rna"]]
    design.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": None, "tx2gene": "tx2gene.tsv"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(tmp_path, "results/rnaseq/excluded.tsv", "--configfile", "config.yaml")
    excluded = read_tsv(tmp_path / "results/rnaseq/excluded.tsv")
    dropped = excluded.query("step == 'sample_counts'")
    assert len(dropped) == 2 * len(design)
    assert set(dropped["item"]) == {"TCONS_00000001", "TCONS_00000003"}
    first = design.iloc[0]
    with gzip.open(DATA / first["rna"], "rt") as handle:
        reads = {
            row["Name"]: float(row["NumReads"]) for row in csv.DictReader(handle, delimiter="\t")
        }
    row = dropped.query(
        "patient == @first.patient and site == @first.site and item == 'TCONS_00000001'"
    )
    assert f"({reads['TCONS_00000001']:g} reads)" in row["reason"].iloc[0]
