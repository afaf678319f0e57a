"""Snakemake adapter: QC'd samples -> integrated, annotated, scored AnnData and cohort tables."""

import scanpy as sc

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.scrna import annotate, cohort, integrate, scores, store
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    sc.settings.n_jobs = snakemake.threads
    markers = annotate.load_markers(snakemake.input.markers)
    signatures = scores.load_signatures(snakemake.input.signatures)
    params = cohort.CohortParams(
        integration=integrate.IntegrationParams(**settings["integration"], seed=settings["seed"]),
        min_cells=settings["comparison"]["min_cells"],
        seed=settings["seed"],
    )
    loaded = cohort.load(
        snakemake.input.h5ad, snakemake.params.samples, markers, signatures, params
    )
    adata = loaded.adata
    scored, clusters = cohort.run(adata, markers, signatures, params, loaded.controls)
    tables = cohort.tables(
        adata.obs,
        markers.labels,
        signatures,
        scored,
        snakemake.params.samples,
        snakemake.params.reference,
        snakemake.params.compare,
        params.min_cells,
        excluded := Exclusions("cohort"),
        snakemake.params.sampling["simultaneous"],
    )
    log.info("%d cells annotated: %s", adata.n_obs, adata.obs["cell_type"].value_counts().to_dict())
    write_tsv(clusters, snakemake.output.clusters)
    write_tsv(tables["cell_types"], snakemake.output.cell_types)
    write_tsv(tables["cell_states"], snakemake.output.cell_states)
    write_tsv(tables["signature_scores"], snakemake.output.scores)
    write_tsv(tables["site_comparison"], snakemake.output.comparison)
    excluded.write(snakemake.output.excluded)
    store.write_cohort(snakemake.output.adata, adata, loaded.var, loaded.blocks())
