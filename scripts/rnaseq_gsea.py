"""Snakemake adapter: GSEA prerank on the Wald statistic -> gsea_prerank.tsv + running scores."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    steps.gsea(
        snakemake.input.results,
        list(snakemake.input.gene_sets),
        snakemake.params.settings,
        snakemake.threads,
        snakemake.output.table,
        snakemake.output.curves,
    )
