"""Snakemake adapter: per-sample counts -> cell fractions, composition, spatial and site tests."""

from organomics.logs import log_to
from organomics.mihc import cohort
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    params = snakemake.params
    fractions, composition = cohort.fractions_tables(
        snakemake.input.counts, params.samples, params.areas
    )
    comparison = cohort.site_comparison(fractions, params.reference, params.compare)
    spatial = cohort.spatial_table(snakemake.input.spatial, params.samples)
    spatial_comparison = cohort.spatial_comparison(spatial, params.reference, params.compare)
    log.info("%d samples, %d fraction rows", len(params.samples), len(fractions))
    # Unpaired samples are logged as they are added; the per-sample rows were logged by their jobs.
    excluded = cohort.exclusions_table(
        snakemake.input.excluded, params.samples, params.reference, params.compare
    )
    log.info("%d exclusion rows (cells, samples) in %s", len(excluded), snakemake.output.excluded)
    write_tsv(excluded, snakemake.output.excluded)
    write_tsv(fractions, snakemake.output.fractions)
    write_tsv(composition, snakemake.output.composition)
    write_tsv(comparison, snakemake.output.comparison)
    write_tsv(spatial, snakemake.output.spatial)
    write_tsv(spatial_comparison, snakemake.output.spatial_comparison)
