"""Snakemake adapter: HLA loss per allele and site, flagged neoantigens, retained burden tests."""

from organomics.logs import log_to
from organomics.tables import write_tsv
from organomics.wes import hla
from organomics.wes.neoantigens import read_neoantigens

with log_to(snakemake.log[0]) as log:
    outputs, params = snakemake.output, snakemake.params
    settings = hla.Settings(**params.settings)
    loh = {}
    for record in params.hla:
        loh[record["sample"]] = hla.read_hla_loh(record["path"], record["hla_loh_id"], settings)
        log.info("%s: %d HLA alleles from %s", record["sample"], len(loh[record["sample"]]),
                 record["path"])  # fmt: skip
    with_loh = [r for r in params.neoantigens if r["sample"] in loh]
    tables = hla.cohort_hla(
        list(params.samples),
        loh,
        {r["sample"]: read_neoantigens(r["path"]) for r in with_loh},
        params.max_ic50_nm,
        params.reference,
        params.compare,
        params.sampling["simultaneous"],
    )
    write_tsv(tables["loh"], outputs.loh)
    write_tsv(tables["paired"], outputs.paired)
    write_tsv(tables["neoantigens"], outputs.neoantigens)
    write_tsv(tables["burden"], outputs.burden)
    write_tsv(tables["comparison"], outputs.comparison)
    tables["excluded"].write(outputs.excluded)
