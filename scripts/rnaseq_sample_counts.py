"""Snakemake adapter: one sample's featureCounts / salmon / STAR file -> gene counts TSV."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    params = snakemake.params
    steps.sample_counts(
        snakemake.input.counts[0],
        snakemake.output.counts,
        params.format,
        params.strandedness,
        params.tx2gene or None,
        patient_site=(params.patient, params.site),
        out_excluded=snakemake.output.excluded,
    )
