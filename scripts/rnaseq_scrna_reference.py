"""Snakemake adapter: mean raw counts per cell of each annotated scRNA cell type (reference)."""

from organomics.logs import log_to
from organomics.rnaseq import deconvolution
from organomics.scrna import store
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    obs, var = store.read_obs(snakemake.input.adata)
    profiles, n_cells = deconvolution.reference_profiles(
        obs,
        var.index,
        store.iter_rows(snakemake.input.adata, "layers/counts"),
        gene_ids=var["gene_ids"] if "gene_ids" in var else None,
        min_cells=snakemake.params.min_cells,
    )
    log.info("annotated cells per cell type: %s", n_cells.to_dict())
    write_tsv(profiles, snakemake.output.reference)
