"""Snakemake adapter: Kaplan-Meier PFS/OS by mixed-response pattern and compare-site response."""

import pandas as pd

from organomics.clinical import figures, survival
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    out = snakemake.output
    responses = pd.read_csv(snakemake.input.responses, sep="\t", dtype={"patient": str})
    mixed = pd.read_csv(snakemake.input.mixed, sep="\t", dtype={"patient": str})
    patients = survival.read_patients(snakemake.input.patients[0])
    groups = survival.response_groups(responses, mixed, snakemake.params.compare)
    table = survival.km_table(patients, groups)
    write_tsv(table, out.table)
    site_grouping = f"{snakemake.params.compare}_response"
    save(
        figures.kaplan_meier(patients, groups["mixed_response"], "mixed_response", table),
        out.mixed_png,
        out.mixed_pdf,
    )
    save(
        figures.kaplan_meier(patients, groups[site_grouping], site_grouping, table),
        out.site_png,
        out.site_pdf,
    )
