"""Benchmark: the bulk RNA branch on 20,000 genes x 54 samples (27 pairs) vs Bioconductor DESeq2.

Reports, on the same simulated NB matrix:
  - PyDESeq2 paired fit (`paired_deseq`, ~ patient + site, Wald, Cook's, + apeGLM shrinkage)
    with --cores CPUs, and without the shrinkage step (the part Bioconductor's DESeq() does);
  - Bioconductor DESeq2 (`DESeq()` + `results()`) on the same matrix, serial and with
    BiocParallel MulticoreParam(--cores), and the LFC correlation between the two;
  - `snakemake rnaseq --cores N` end to end (counts, DESeq2, VST, GSEA 1,000 permutations on the
    bundled GO BP GMT, ORA, ssGSEA, plots) and each rule's time from benchmarks/rnaseq/*.tsv.

Usage: python benchmarks/rnaseq_bench.py [--genes 20000] [--pairs 27] [--cores 2]
                                         [--workdir /tmp/rnaseq_bench] [--skip-r] [--skip-workflow]
Needs Rscript with DESeq2 for the comparison (Debian: apt-get install r-bioc-deseq2).

Measured 2026-11-25 on the 2-core, 24 GB build machine while other jobs ran (load 4-14, so
figures are upper bounds), 20,000 genes x 54 samples:
  PyDESeq2 paired_deseq, 2 cpus       112 s (fit + Wald 84 s; apeGLM shrinkage 28 s);
                                      rule rnaseq_deseq2 146 s incl. I/O at load ~4
  Bioconductor DESeq2 1.38.3          120 s serial, 153 s with MulticoreParam(2)
  LFC correlation                     0.99999 over 20,000 genes
  GSEA prerank, 5,233 GO BP sets (15-500) x 1,000 permutations, 2 threads: ~0.5 s per
  permutation (rule rnaseq_gsea 730 s at load ~10); ORA 7 s, VST 38 s, ssGSEA 7 s, plots 14 s
  snakemake rnaseq --cores 2 end to end: 1,268 s at load 6-14
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from organomics.demo.rnaseq import simulate_counts  # noqa: E402
from organomics.rnaseq.deseq import paired_deseq  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages({library(DESeq2); library(BiocParallel)})
args <- commandArgs(TRUE)
counts <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
design <- read.delim(args[2], stringsAsFactors = FALSE)
design$patient <- factor(design$patient)
design$site <- factor(design$site, levels = c("PL", "LM"))
rownames(design) <- design$sample
workers <- as.integer(args[4])
start <- proc.time()[["elapsed"]]
dds <- DESeqDataSetFromMatrix(counts[, design$sample], design, ~ patient + site)
if (workers > 1) {
  dds <- DESeq(dds, quiet = TRUE, parallel = TRUE, BPPARAM = MulticoreParam(workers))
  res <- results(dds, contrast = c("site", "LM", "PL"), alpha = 0.05, parallel = TRUE,
                 BPPARAM = MulticoreParam(workers))
} else {
  dds <- DESeq(dds, quiet = TRUE)
  res <- results(dds, contrast = c("site", "LM", "PL"), alpha = 0.05)
}
elapsed <- proc.time()[["elapsed"]] - start
write.table(data.frame(gene = rownames(res), log2FoldChange = res$log2FoldChange, padj = res$padj),
            args[3], sep = "\t", quote = FALSE, row.names = FALSE, na = "")
cat(sprintf("%.2f\n", elapsed))
"""


def simulate(workdir: Path, n_genes: int, n_pairs: int) -> tuple[Path, Path]:
    samples = [
        (f"P{i:02d}_{site}", f"P{i:02d}", site)
        for i in range(1, n_pairs + 1)
        for site in ("PL", "LM")
    ]
    counts = simulate_counts(samples, n_genes, np.random.default_rng(2024))
    counts_path = workdir / "counts.tsv"
    design_path = workdir / "design.tsv"
    counts.to_csv(counts_path, sep="\t")
    pd.DataFrame(samples, columns=["sample", "patient", "site"]).to_csv(
        design_path, sep="\t", index=False
    )
    return counts_path, design_path


def time_pydeseq2(counts_path: Path, design_path: Path, cores: int) -> tuple[float, float, Path]:
    """Seconds for paired_deseq (with shrinkage) and for the fit + Wald part alone."""
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    counts = pd.read_csv(counts_path, sep="\t", index_col=0)
    design = pd.read_csv(design_path, sep="\t")
    start = time.perf_counter()
    result = paired_deseq(counts, design, "PL", "LM", n_cpus=cores)
    full = time.perf_counter() - start
    out = counts_path.parent / "pydeseq2.tsv"
    result.to_csv(out, sep="\t", index=False)

    metadata = design.set_index("sample")[["patient", "site"]].astype("category")
    metadata["site"] = metadata["site"].cat.reorder_categories(["PL", "LM"])
    inference = DefaultInference(n_cpus=cores)
    start = time.perf_counter()
    dds = DeseqDataSet(
        counts=counts.T,
        metadata=metadata,
        design="~ patient + site",
        inference=inference,
        quiet=True,
    )
    dds.deseq2()
    DeseqStats(dds, contrast=["site", "LM", "PL"], inference=inference, quiet=True).summary()
    wald = time.perf_counter() - start
    return full, wald, out


def time_r(counts_path: Path, design_path: Path, workers: int) -> tuple[float, Path]:
    script = counts_path.parent / "deseq2_bench.R"
    script.write_text(R_SCRIPT)
    out = counts_path.parent / f"deseq2_r_{workers}.tsv"
    start = time.perf_counter()
    run = subprocess.run(
        ["Rscript", str(script), str(counts_path), str(design_path), str(out), str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    inner = float(run.stdout.strip().splitlines()[-1])
    print(
        f"  R DESeq2 ({workers} worker(s)): {inner:.1f} s in DESeq()+results(), {wall:.1f} s wall"
    )
    return wall, out


def run_workflow(workdir: Path, counts_path: Path, design_path: Path, cores: int) -> float:
    work = workdir / "workflow"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    design = pd.read_csv(design_path, sep="\t")
    design["rna"] = str(counts_path)
    design.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": str(counts_path)}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        str(cores),
        "rnaseq",
        "--configfile",
        "config.yaml",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=work, capture_output=True)
    wall = time.perf_counter() - start
    for path in sorted((work / "benchmarks/rnaseq").glob("*.tsv")):
        seconds = pd.read_csv(path, sep="\t")["s"].iloc[0]
        print(f"  rule {path.stem:<14} {seconds:7.1f} s")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--pairs", type=int, default=27)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rnaseq_bench"))
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--skip-workflow", action="store_true")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    counts_path, design_path = simulate(args.workdir, args.genes, args.pairs)
    print(f"matrix: {args.genes} genes x {2 * args.pairs} samples ({args.pairs} pairs)")
    full, wald, py_out = time_pydeseq2(counts_path, design_path, args.cores)
    print(f"  PyDESeq2 paired_deseq ({args.cores} cpus): {full:.1f} s (fit + Wald {wald:.1f} s)")
    if not args.skip_r:
        for workers in sorted({1, args.cores}):
            wall, r_out = time_r(counts_path, design_path, workers)
        py = pd.read_csv(py_out, sep="\t").set_index("gene")
        r = pd.read_csv(r_out, sep="\t").set_index("gene")
        both = py.join(r, rsuffix="_R").dropna(subset=["log2FoldChange", "log2FoldChange_R"])
        corr = np.corrcoef(both["log2FoldChange"], both["log2FoldChange_R"])[0, 1]
        print(f"  LFC correlation PyDESeq2 vs DESeq2: {corr:.5f} over {len(both)} genes")
    if not args.skip_workflow:
        wall = run_workflow(args.workdir, counts_path, design_path, args.cores)
        print(f"  snakemake rnaseq --cores {args.cores} end to end: {wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
