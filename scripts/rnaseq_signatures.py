"""Snakemake adapter: ssGSEA immune signature scores and paired site tests."""

from organomics.logs import log_to
from organomics.rnaseq import enrichment
from organomics.rnaseq.genesets import read_gmt, read_symbol_table
from organomics.rnaseq.results import design_frame, read_gene_table
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    scores = enrichment.signature_scores(
        read_gene_table(inputs.vst),
        read_symbol_table(inputs.symbols),
        read_gmt(inputs.signatures),
    )
    design = design_frame(params.samples)
    comparison = enrichment.signature_comparison(
        scores, design, reference, compare, params.sampling["simultaneous"]
    )
    write_tsv(scores.reset_index(), outputs.scores)
    write_tsv(comparison, outputs.comparison)
