"""Snakemake adapter: per-sample QC rows -> results/scrna/qc.tsv and the samples QC emptied."""

import pandas as pd

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.scrna import qc
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    rows = [read_tsv(path) for path in snakemake.input.qc]
    table = pd.concat(rows, ignore_index=True)[qc.QC_COLUMNS]
    excluded = Exclusions("qc")
    qc.exclude_empty_samples(table, snakemake.params.samples, excluded)
    write_tsv(table, snakemake.output.qc)
    excluded.write(snakemake.output.excluded)
