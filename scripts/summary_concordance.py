"""Snakemake adapter: Spearman concordance between layers' per-sample measures, with plots."""

import pandas as pd

from organomics.logs import log_to
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
    sample_sites = pd.DataFrame(snakemake.params.samples).set_index("sample")["site"]
    table, joined = concordance.concordance(snakemake.params.pairs, tables, sample_sites)
    for row in table[table["note"] != ""].itertuples():
        log.warning("%s vs %s: %s", row.measure_x, row.measure_y, row.note)
    write_tsv(table, snakemake.output.table)
    save(
        concordance.scatter(table, joined, snakemake.params.reference, snakemake.params.compare),
        snakemake.output.png,
        snakemake.output.pdf,
    )
