"""Snakemake adapter: over-representation of up/down genes (gseapy enrich, offline) -> ora.tsv."""

from organomics.logs import log_to
from organomics.rnaseq import enrichment
from organomics.rnaseq.genesets import read_gmts
from organomics.rnaseq.results import read_results
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, params = snakemake.input, snakemake.params
    settings = enrichment.GseaSettings(**params.settings)
    table = enrichment.ora(
        read_results(inputs.results),
        read_gmts(list(inputs.gene_sets)),
        alpha=params.alpha,
        lfc=params.lfc,
        min_size=settings.min_size,
        max_size=settings.max_size,
    )
    write_tsv(table, snakemake.output.table)
