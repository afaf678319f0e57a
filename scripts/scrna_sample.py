"""Snakemake adapter: one sample's 10x/h5ad matrix -> QC'd cells (h5ad) and its qc.tsv row."""

from organomics.logs import log_to
from organomics.scrna import io, qc
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    sample = snakemake.wildcards.sample
    matrix = snakemake.input.matrix
    path = matrix if isinstance(matrix, str) else matrix[0]
    adata = io.read_sample(path, sample)
    log.info("%s: %d cells x %d genes from %s", sample, adata.n_obs, adata.n_vars, path)
    limits = qc.QCLimits(**snakemake.params.qc, seed=snakemake.params.seed)
    kept, row = qc.run_qc(adata, sample, limits)
    kept.uns["sample"] = sample
    io.write_h5ad(kept, snakemake.output.h5ad, compression="gzip")
    write_tsv(qc.qc_table([row]), snakemake.output.qc)
