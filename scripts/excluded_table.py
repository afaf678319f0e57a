"""Snakemake adapter: a branch's per-step exclusion tables -> results/BRANCH/excluded.tsv."""

from organomics import excluded
from organomics.logs import log_to

with log_to(snakemake.log[0]) as log:
    table = excluded.combine(snakemake.input.steps, snakemake.output[0])
    log.info("%d exclusion(s) in %s", len(table), snakemake.output[0])
