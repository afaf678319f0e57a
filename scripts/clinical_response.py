"""Snakemake adapter: per-site RECIST timepoint and best responses from the lesion input."""

from organomics.clinical import lesions, recist, sdtm
from organomics.logs import log_to
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    if "lesions" in snakemake.input.keys():
        source = snakemake.input.lesions
        table = lesions.read_lesions(source)
    else:
        source = snakemake.input.tr
        table = sdtm.read_sdtm(snakemake.input.tu, snakemake.input.tr)
    sited = recist.assign_sites(table, snakemake.params.organ_sites, source)
    options = recist.Options(snakemake.params.confirmation_days, snakemake.params.min_sd_days)
    timepoints, responses = recist.assess(sited, list(snakemake.params.sites), options)
    for site in snakemake.params.sites:
        evaluable = set(responses.loc[responses["site"] == site, "patient"])
        others = sorted(set(table["patient"]) - evaluable)
        log.info(
            "%s: %d evaluable patients; not evaluable (no baseline target): %s",
            site,
            len(evaluable),
            ", ".join(others) or "none",
        )
    write_tsv(timepoints, snakemake.output.timepoints)
    write_tsv(responses, snakemake.output.responses)
