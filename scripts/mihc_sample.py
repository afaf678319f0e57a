"""Snakemake adapter: one cell table -> phenotype counts, nearest-tumour distances, plot points."""

from organomics.logs import log_to
from organomics.mihc import sample
from organomics.tables import atomic_path, write_tsv

with log_to(snakemake.log[0]):
    settings = dict(snakemake.params.settings)
    summary = sample.summarise(
        snakemake.input.table[0],
        settings,
        chunksize=int(settings["chunksize"]),
        record=snakemake.params.record,
    )
    write_tsv(summary.counts, snakemake.output.counts)
    write_tsv(summary.spatial, snakemake.output.spatial)
    with atomic_path(snakemake.output.points) as tmp:
        summary.points.to_parquet(tmp, index=False)
    write_tsv(summary.excluded, snakemake.output.excluded)
