"""Snakemake adapter: refit reference SBS signatures to sbs96.tsv (exposures, sites, tests)."""

from organomics.logs import log_to
from organomics.tables import read_tsv, write_tsv
from organomics.wes import signatures

with log_to(snakemake.log[0]) as log:
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    settings = signatures.Settings(**params.settings)
    matrix = signatures.read_signatures(inputs.matrix, settings.fit)
    log.info("refitting %d signatures from %s: %s", matrix.shape[1], inputs.matrix,
             ", ".join(matrix.columns))  # fmt: skip
    tables = signatures.cohort_signatures(
        read_tsv(inputs.sbs96), list(params.samples), matrix, settings, params.reference,
        params.compare, params.sampling["simultaneous"],
    )  # fmt: skip
    write_tsv(tables["signatures"], outputs.signatures)
    write_tsv(tables["by_site"], outputs.by_site)
    write_tsv(tables["comparison"], outputs.comparison)
    tables["excluded"].write(outputs.excluded)
