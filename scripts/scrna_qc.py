"""Snakemake adapter: per-sample QC rows -> results/scrna/qc.tsv."""

import pandas as pd

from organomics.logs import log_to
from organomics.scrna import qc
from organomics.tables import read_table, write_tsv

with log_to(snakemake.log[0]) as log:
    rows = [read_table(path, dtype=None) for path in snakemake.input.qc]
    table = pd.concat(rows, ignore_index=True)[qc.QC_COLUMNS]
    empty = table.loc[table["n_cells_kept"] == 0, "sample"].tolist()
    if empty:
        log.warning("no cells after QC (excluded from the cohort): %s", ", ".join(empty))
    write_tsv(table, snakemake.output.qc)
