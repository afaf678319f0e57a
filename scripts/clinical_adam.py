"""Snakemake adapter: ADaM ADTR and ADRS (SAS XPT v5 and CSV) from the lesion input."""

import logging

from organomics.clinical import adam, lesions, recist, sdtm
from organomics.logs import log_to

with log_to(snakemake.log[0]) as log:
    out = snakemake.output
    block = snakemake.params.clinical
    if "lesions" in snakemake.input.keys():
        source = snakemake.input.lesions
        table = lesions.read_lesions(source)
    else:
        source = snakemake.input.tr
        table = sdtm.read_sdtm(snakemake.input.tu, snakemake.input.tr, snakemake.params.evaluator)
    # the response step already lists the lesions of other organs
    sited = recist.assign_sites(table, block["organ_sites"], source, log_level=logging.DEBUG)
    tr, rs = adam.derive(
        sited,
        snakemake.params.reference,
        snakemake.params.compare,
        block,
        block["adam_confirmation_days"],
    )
    log.info("ADTR: %d records; ADRS: %d records (RECIST 1.1)", len(tr), len(rs))
    adam.write_dataset(tr, "ADTR", out.adtr_xpt, out.adtr_csv)
    adam.write_dataset(rs, "ADRS", out.adrs_xpt, out.adrs_csv)
