"""Snakemake adapter: blind variance-stabilising transform of the cohort counts."""

from organomics.logs import log_to
from organomics.rnaseq.deseq import vst
from organomics.rnaseq.results import read_counts
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    values = vst(read_counts(snakemake.input.counts), n_cpus=snakemake.threads)
    write_tsv(values.reset_index(), snakemake.output.vst, float_format="%.5f")
