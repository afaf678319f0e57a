"""Snakemake adapter: over-representation of up/down genes (gseapy enrich, offline) -> ora.tsv."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    params = snakemake.params
    steps.over_representation(
        snakemake.input.results,
        list(snakemake.input.gene_sets),
        params.settings,
        params.alpha,
        params.lfc,
        snakemake.output.table,
    )
