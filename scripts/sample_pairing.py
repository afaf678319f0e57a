"""Snakemake adapter: per layer and patient, the sample at each site and whether they pair."""

import pandas as pd

from organomics import sheet
from organomics.logs import log_to
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    table = sheet.read_sample_sheet(snakemake.input.sheet).fillna("")
    layers = [column for column in sheet.PATH_COLUMNS if column in table.columns]
    reference, compare = snakemake.params.reference, snakemake.params.compare
    pairs = pd.concat([sheet.pairing(table, layer, reference, compare) for layer in layers])
    for row in pairs[~pairs["paired"]].itertuples():
        log.warning(
            "%s: patient %s has one site only; excluded from paired tests", row.layer, row.patient
        )
    write_tsv(pairs, snakemake.output[0])
