"""Snakemake adapter: every headline site comparison on all pairs and on the simultaneous ones."""

import pandas as pd

from organomics.logs import log_to
from organomics.pairing import days_between, simultaneous_patients
from organomics.plots import save
from organomics.summary import response, sampling
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    reference, compare = snakemake.params.reference, snakemake.params.compare
    sources = {source.name for source in response.SOURCES}
    tables = {
        name: read_tsv(snakemake.input[name], index_col=0 if name == "rnaseq_vst" else None)
        for name in snakemake.input.keys()
        if name in sources
    }
    samples = pd.DataFrame(snakemake.params.samples)
    within = snakemake.params.simultaneous_days
    simultaneous = simultaneous_patients(samples, reference, compare, within)
    days = days_between(samples, reference, compare)
    log.info(
        "%d pairs with both collection days, %d within %d days: %s",
        len(days),
        len(simultaneous or []),
        within,
        ", ".join(simultaneous or []),
    )
    measures = response.sample_measures(tables, {"genes": snakemake.params.genes})
    tests = sampling.site_tests(measures, samples, reference, compare, simultaneous)
    write_tsv(tests, snakemake.output.table)
    fig = sampling.figure(measures, samples, tests, reference, compare, days, within)
    save(fig, snakemake.output.png, snakemake.output.pdf)
