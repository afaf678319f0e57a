"""Snakemake adapter: cohort counts matrix (from a matrix or per-sample files) + library sizes."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    inputs = snakemake.input
    steps.cohort_counts(
        snakemake.params.samples,
        snakemake.output.counts,
        snakemake.output.library,
        matrix=inputs.get("matrix"),
        per_sample=inputs.get("per_sample", []),
        out_excluded=snakemake.output.excluded,
    )
