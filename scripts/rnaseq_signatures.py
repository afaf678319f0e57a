"""Snakemake adapter: ssGSEA immune signature scores and paired site tests."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    params = snakemake.params
    steps.signatures(
        snakemake.input.vst,
        params.samples,
        snakemake.input.signatures,
        snakemake.input.symbols,
        params.reference,
        params.compare,
        snakemake.output.scores,
        snakemake.output.comparison,
    )
