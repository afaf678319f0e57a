"""Snakemake adapter: per-site iRECIST timepoint and best responses from the lesion input."""

import logging

from organomics.clinical import irecist, lesions, recist, sdtm
from organomics.logs import log_to
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    params = snakemake.params
    if "lesions" in snakemake.input.keys():
        source = snakemake.input.lesions
        table = lesions.read_lesions(source)
    else:
        source = snakemake.input.tr
        table = sdtm.read_sdtm(snakemake.input.tu, snakemake.input.tr, params.evaluator)
    # The response step already logged and listed the lesions of other organs.
    sited = recist.assign_sites(table, params.organ_sites, source, log_level=logging.DEBUG)
    options = recist.Options(params.confirmation_days, params.min_sd_days, **params.knobs)
    recist_responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    timepoints, responses = irecist.assess(
        sited,
        params.reference,
        params.compare,
        options,
        irecist.IrecistOptions(**params.irecist),
        recist_responses,
    )
    for site, rows in responses.groupby("site", sort=False):
        log.info(
            "%s: %d sites with an iUPD, %d confirmed (iCPD), %d pseudoprogressions",
            site,
            rows["iupd_day"].notna().sum(),
            rows["icpd_day"].notna().sum(),
            rows["pseudoprogression"].sum(),
        )
    write_tsv(timepoints, snakemake.output.timepoints)
    write_tsv(responses, snakemake.output.responses)
