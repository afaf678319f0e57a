"""Snakemake adapter: blind variance-stabilising transform of the cohort counts."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    steps.variance_stabilised(snakemake.input.counts, snakemake.threads, snakemake.output.vst)
