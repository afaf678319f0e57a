"""Snakemake adapter: SBS96 counts per sample from the passing SNVs and the reference FASTA."""

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.tables import write_tsv
from organomics.wes.cohort import load_variants
from organomics.wes.sbs96 import sbs96_table

with log_to(snakemake.log[0]):
    variants = load_variants(list(snakemake.input.variants))
    excluded = Exclusions("sbs96")
    table = sbs96_table(
        variants, list(snakemake.params.samples), snakemake.input.fasta[0], excluded
    )
    write_tsv(table, snakemake.output.sbs96)
    excluded.write(snakemake.output.excluded)
