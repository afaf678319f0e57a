"""Snakemake adapter: paired PyDESeq2 (~ patient + site) -> deseq2_results.tsv, warnings.tsv."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    params = snakemake.params
    steps.differential(
        snakemake.input.counts,
        params.samples,
        snakemake.input.symbols,
        params.reference,
        params.compare,
        params.alpha,
        snakemake.threads,
        snakemake.output.results,
        snakemake.output.excluded,
        out_warnings=snakemake.output.warnings,
        out_exclusions=snakemake.output.exclusions,
    )
