"""Snakemake adapter: ORR/DCR per site, mixed response, and the paired site tests."""

from organomics.clinical import rates
from organomics.logs import log_to
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    reference, compare = snakemake.params.reference, snakemake.params.compare
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    mixed = rates.mixed_response(responses, reference, compare, snakemake.params.mixed_from)
    write_tsv(rates.response_rates(responses, reference, compare), snakemake.output.rates)
    write_tsv(mixed, snakemake.output.mixed)
    write_tsv(
        rates.site_comparison(responses, mixed, reference, compare), snakemake.output.comparison
    )
