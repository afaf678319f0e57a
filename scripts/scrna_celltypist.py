"""Snakemake adapter: cohort h5ad + local CellTypist model -> labels beside the marker ones."""

from organomics.logs import log_to
from organomics.scrna import celltypist
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    out = snakemake.output
    tables = celltypist.run(snakemake.input.adata, snakemake.input.model)
    write_tsv(tables["cells"], out.cells)
    write_tsv(tables["agreement"], out.agreement)
    write_tsv(tables["crosstab"], out.crosstab)
