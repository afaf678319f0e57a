"""Snakemake adapter: bulk cell fractions (scRNA reference, NNLS) and marker scores, site tests."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.rnaseq import deconvolution
from organomics.rnaseq.genesets import read_symbol_table
from organomics.rnaseq.results import design_frame, read_counts
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    inputs, params = snakemake.input, snakemake.params
    table = deconvolution.deconvolve(
        read_counts(inputs.counts),
        read_symbol_table(inputs.symbols),
        deconvolution.read_markers(inputs.markers),
        deconvolution.read_reference(inputs.reference) if "reference" in inputs.keys() else None,
        min_genes=params.min_genes,
    )
    design = design_frame(params.samples)
    comparison = deconvolution.site_comparison(
        table, design, params.reference, params.compare, params.sampling["simultaneous"]
    )
    write_tsv(table, snakemake.output.table)
    write_tsv(comparison, snakemake.output.comparison)
    save(
        deconvolution.paired_figure(
            table, comparison, design, params.reference, params.compare, params.sampling
        ),
        snakemake.output.png,
        snakemake.output.pdf,
    )
