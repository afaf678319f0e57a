"""Snakemake adapter: Spearman concordance between layers' per-sample measures, with plots."""

import pandas as pd

from organomics.logs import log_to
from organomics.pairing import simultaneous_patients
from organomics.plots import save
from organomics.summary import concordance
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    tables = {}
    for name in snakemake.input.keys():
        if name == "lib":
            continue
        index = 0 if name == "rnaseq_vst" else None
        tables[name] = read_tsv(snakemake.input[name], index_col=index)
    reference, compare = snakemake.params.reference, snakemake.params.compare
    samples = pd.DataFrame(snakemake.params.samples)
    by_sample = samples.set_index("sample")
    simultaneous = simultaneous_patients(
        samples, reference, compare, snakemake.params.simultaneous_days
    )
    table, joined = concordance.concordance(
        snakemake.params.pairs,
        tables,
        by_sample["site"],
        by_sample["patient"].astype(str),
        reference,
        compare,
        simultaneous,
    )
    for row in table[table["note"] != ""].itertuples():
        log.warning("%s vs %s: %s", row.measure_x, row.measure_y, row.note)
    write_tsv(table, snakemake.output.table)
    save(
        concordance.scatter(table, joined, snakemake.params.reference, snakemake.params.compare),
        snakemake.output.png,
        snakemake.output.pdf,
    )
