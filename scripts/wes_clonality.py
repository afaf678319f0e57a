"""Snakemake adapter: CCF per variant, clonal classes, seeding and per-sample clonality tables."""

from organomics.logs import log_to
from organomics.tables import write_tsv
from organomics.wes import clonality, cohort
from organomics.wes.copynumber import read_segments
from organomics.wes.neoantigens import read_neoantigens

with log_to(snakemake.log[0]) as log:
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    settings = params.settings
    records = list(params.copy_number)
    segments = {r["sample"]: read_segments(r["path"], r["cn_id"]) for r in records}
    for record in records:
        log.info("%s: %d segments from %s", record["sample"], len(segments[record["sample"]]),
                 record["path"])  # fmt: skip
    tables = clonality.cohort_clonality(
        list(params.samples),
        cohort.load_variants(list(inputs.variants)),
        records,
        segments,
        {r["sample"]: read_neoantigens(r["path"]) for r in params.neoantigens},
        params.reference,
        params.compare,
        level=settings["clonality"]["ci_level"],
        polyclonal_jsi=settings["clonality"]["polyclonal_jsi"],
        max_ic50_nm=settings["neoantigens"]["max_ic50_nm"],
        simultaneous=params.sampling["simultaneous"],
    )
    write_tsv(tables["ccf"], outputs.ccf)
    write_tsv(tables["classes"], outputs.classes)
    write_tsv(tables["patients"], outputs.clonality)
    write_tsv(tables["samples"], outputs.samples)
    write_tsv(tables["comparison"], outputs.comparison)
    tables["excluded"].write(outputs.excluded)
