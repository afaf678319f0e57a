"""Snakemake adapter: per-sample tables -> fractions, composition, spatial, margin, immune
phenotype, neighbourhood tables and their paired site tests."""

from organomics.logs import log_to
from organomics.mihc import cohort
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    params, inputs, outputs = snakemake.params, snakemake.input, snakemake.output
    # Patients sampled at both sites close together: every paired test is repeated on them.
    simultaneous = params.sampling["simultaneous"]
    fractions, composition = cohort.fractions_tables(inputs.counts, params.samples, params.areas)
    comparison = cohort.site_comparison(fractions, params.reference, params.compare, simultaneous)
    spatial = cohort.spatial_table(inputs.spatial, params.samples)
    spatial_comparison = cohort.spatial_comparison(
        spatial, params.reference, params.compare, simultaneous
    )
    margin = cohort.margin_table(inputs.margin, params.samples)
    margin_comparison = cohort.margin_comparison(
        margin, params.reference, params.compare, simultaneous
    )
    immune = cohort.immune_phenotypes(
        margin,
        params.immune["phenotypes"],
        params.immune["core_per_mm2"],
        params.immune["margin_per_mm2"],
    )
    immune_comparison = cohort.immune_comparison(
        immune, params.reference, params.compare, simultaneous
    )
    neighbourhood = cohort.neighbourhood_table(inputs.neighbourhood, params.samples)
    neighbourhood_comparison = cohort.neighbourhood_comparison(
        neighbourhood, params.samples, params.reference, params.compare, simultaneous
    )
    cross_k = cohort.cross_k_table(inputs.cross_k, params.samples)
    cross_k_comparison = cohort.cross_k_comparison(
        cross_k, params.samples, params.reference, params.compare, simultaneous
    )
    cn_profiles, cn_abundance = cohort.cellular_neighbourhoods(
        inputs.knn, params.samples, int(params.cn["clusters"]), int(params.cn["seed"])
    )
    cn_comparison = cohort.cn_comparison(
        cn_abundance, params.reference, params.compare, simultaneous
    )
    log.info("%d samples, %d fraction rows", len(params.samples), len(fractions))
    # Unpaired samples are logged as they are added; the per-sample rows were logged by their jobs.
    excluded = cohort.exclusions_table(
        inputs.excluded, params.samples, params.reference, params.compare
    )
    log.info("%d exclusion rows (cells, samples) in %s", len(excluded), outputs.excluded)
    write_tsv(excluded, outputs.excluded)
    write_tsv(fractions, outputs.fractions)
    write_tsv(composition, outputs.composition)
    write_tsv(comparison, outputs.comparison)
    write_tsv(spatial, outputs.spatial)
    write_tsv(spatial_comparison, outputs.spatial_comparison)
    write_tsv(margin, outputs.margin)
    write_tsv(margin_comparison, outputs.margin_comparison)
    write_tsv(immune, outputs.immune)
    write_tsv(immune_comparison, outputs.immune_comparison)
    write_tsv(neighbourhood, outputs.neighbourhood)
    write_tsv(neighbourhood_comparison, outputs.neighbourhood_comparison)
    write_tsv(cross_k, outputs.cross_k)
    write_tsv(cross_k_comparison, outputs.cross_k_comparison)
    write_tsv(cn_profiles, outputs.cn_profiles)
    write_tsv(cn_abundance, outputs.cn_abundance)
    write_tsv(cn_comparison, outputs.cn_comparison)
