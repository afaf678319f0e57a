"""Snakemake adapter: one sample's featureCounts / salmon / STAR file -> gene counts TSV."""

from organomics.logs import log_to
from organomics.rnaseq.counts import sample_counts
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    counts, excluded = sample_counts(
        inputs.counts,
        params.format,
        params.strandedness,
        params.tx2gene or None,
        params.patient,
        params.site,
    )
    write_tsv(counts.rename("count").reset_index(), outputs.counts)
    excluded.write(outputs.excluded)
