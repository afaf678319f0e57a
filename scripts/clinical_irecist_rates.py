"""Snakemake adapter: rates under RECIST 1.1 and iRECIST, iRECIST mixed response, paired tests."""

from organomics.clinical import irecist
from organomics.logs import log_to
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    reference, compare = snakemake.params.reference, snakemake.params.compare
    recist_responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    irecist_responses = read_tsv(snakemake.input.irecist, dtype={"patient": str})
    mixed = irecist.mixed_response(recist_responses, irecist_responses, reference, compare)
    write_tsv(
        irecist.response_rates(recist_responses, irecist_responses, reference, compare),
        snakemake.output.rates,
    )
    write_tsv(mixed, snakemake.output.mixed)
    write_tsv(
        irecist.site_comparison(irecist_responses, mixed, reference, compare),
        snakemake.output.comparison,
    )
