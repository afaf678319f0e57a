"""Snakemake adapter: one cell table -> counts, distances, margin, neighbours, points, AnnData."""

from organomics.logs import log_to
from organomics.mihc import export, sample
from organomics.tables import atomic_path, write_tsv

with log_to(snakemake.log[0]):
    settings = dict(snakemake.params.settings)
    summary = sample.summarise(
        snakemake.input.table[0],
        settings,
        chunksize=int(settings["chunksize"]),
        record=snakemake.params.record,
        keep_cells=True,
    )
    write_tsv(summary.counts, snakemake.output.counts)
    write_tsv(summary.spatial, snakemake.output.spatial)
    write_tsv(summary.margin, snakemake.output.margin)
    write_tsv(summary.neighbourhood, snakemake.output.neighbourhood)
    write_tsv(summary.cross_k, snakemake.output.cross_k)
    with atomic_path(snakemake.output.knn) as tmp:
        summary.knn.to_parquet(tmp, index=False)
    with atomic_path(snakemake.output.points) as tmp:
        summary.points.to_parquet(tmp, index=False)
    phenotypes = list(settings["phenotypes"])
    with atomic_path(snakemake.output.anndata) as tmp:
        # h5py, in anndata's format: importing anndata cost each sample job ~0.3 s CPU
        export.write_h5ad(summary.cells, snakemake.params.record, phenotypes, tmp)
    write_tsv(summary.excluded, snakemake.output.excluded)
