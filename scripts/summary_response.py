"""Snakemake adapter: each sample's measures against its own site's response; a figure per layer."""

import pandas as pd

from organomics.logs import log_to
from organomics.pairing import days_between, simultaneous_patients
from organomics.plots import save
from organomics.summary import response
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    reference, compare = snakemake.params.reference, snakemake.params.compare
    sources = {source.name for source in response.SOURCES}
    tables = {
        name: read_tsv(snakemake.input[name], index_col=0 if name == "rnaseq_vst" else None)
        for name in snakemake.input.keys()
        if name in sources
    }
    irecist = read_tsv(snakemake.input.irecist) if "irecist" in snakemake.input.keys() else None
    responses = response.site_responses(read_tsv(snakemake.input.responses), irecist)
    samples = pd.DataFrame(snakemake.params.samples)
    within = snakemake.params.simultaneous_days
    simultaneous = simultaneous_patients(samples, reference, compare, within)
    measures = response.sample_measures(tables, {"genes": snakemake.params.genes})
    joined = response.join(measures, samples, responses)
    if joined.empty:
        log.warning("%s: response_association.tsv carries the note only", response.NO_OVERLAP)
        table = response.no_overlap_table()
    else:
        log.info(
            "%d patients with a response at a sampled site; %s",
            joined["patient"].nunique(),
            "no collection days" if simultaneous is None else f"{len(simultaneous)} simultaneous",
        )
        table = response.associate(joined, reference, compare, simultaneous)
    write_tsv(table, snakemake.output.table)
    days = days_between(samples, reference, compare)
    for layer, png, pdf in zip(
        snakemake.params.layers, snakemake.output.png, snakemake.output.pdf, strict=True
    ):
        fig = response.figure(joined, table, layer, reference, compare, days, within)
        save(fig, png, pdf)
