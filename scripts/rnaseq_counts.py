"""Snakemake adapter: cohort counts matrix (from a matrix or per-sample files) + library sizes."""

from organomics.logs import log_to
from organomics.rnaseq.counts import cohort_counts
from organomics.rnaseq.qc import library_table
from organomics.rnaseq.results import design_frame
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, outputs = snakemake.input, snakemake.output
    design = design_frame(snakemake.params.samples)
    counts, excluded = cohort_counts(
        design, matrix=inputs.get("matrix"), per_sample=inputs.get("per_sample", [])
    )
    write_tsv(counts.reset_index(), outputs.counts)
    write_tsv(library_table(counts, design), outputs.library)
    excluded.write(outputs.excluded)
