"""Snakemake adapter: GSEA prerank on the Wald statistic -> gsea_prerank.tsv + running scores."""

from organomics.logs import log_to
from organomics.rnaseq import enrichment
from organomics.rnaseq.genesets import read_gmts
from organomics.rnaseq.results import read_results
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, outputs = snakemake.input, snakemake.output
    table, curves = enrichment.gsea(
        read_results(inputs.results),
        read_gmts(list(inputs.gene_sets)),
        enrichment.GseaSettings(**snakemake.params.settings),
        snakemake.threads,
    )
    write_tsv(table, outputs.table)
    write_tsv(curves, outputs.curves, float_format="%.5g")
