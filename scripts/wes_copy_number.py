"""Snakemake adapter: ploidy, FGA, LOH fraction and arm-level events per sample and patient."""

from organomics.logs import log_to
from organomics.tables import write_tsv
from organomics.wes.arms import cohort_copy_number, read_arms
from organomics.wes.copynumber import read_segments

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    records = list(params.copy_number)
    tables = cohort_copy_number(
        records,
        {r["sample"]: read_segments(r["path"], r["cn_id"]) for r in records},
        read_arms(inputs.arms),
        params.reference,
        params.compare,
        arm_fraction=params.settings["arm_fraction"],
        min_coverage=params.settings["min_arm_coverage"],
        simultaneous=params.sampling["simultaneous"],
    )
    write_tsv(tables["summary"], outputs.summary)
    write_tsv(tables["arms"], outputs.arms)
    write_tsv(tables["paired"], outputs.paired)
    write_tsv(tables["comparison"], outputs.comparison)
