"""Snakemake adapter: per-site RECIST timepoint and best responses from the lesion input."""

from organomics.clinical import lesions, recist, sdtm
from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    if "lesions" in snakemake.input.keys():
        source = snakemake.input.lesions
        table = lesions.read_lesions(source)
    else:
        source = snakemake.input.tr
        table = sdtm.read_sdtm(snakemake.input.tu, snakemake.input.tr, snakemake.params.evaluator)
    exclusions = Exclusions("response")
    sited = recist.assign_sites(table, snakemake.params.organ_sites, source, exclusions)
    params = snakemake.params
    options = recist.Options(params.confirmation_days, params.min_sd_days, **params.knobs)
    reference, compare = snakemake.params.reference, snakemake.params.compare
    timepoints, responses = recist.assess(
        sited, reference, compare, options, exclusions, patients=sorted(set(table["patient"]))
    )
    for site in (reference, compare):
        evaluable = responses.loc[responses["site"] == site, "patient"]
        log.info(
            "%s: %d of %d patients evaluable (the others, with reasons, in excluded.tsv)",
            site,
            len(evaluable),
            table["patient"].nunique(),
        )
    write_tsv(timepoints, snakemake.output.timepoints)
    write_tsv(responses, snakemake.output.responses)
    exclusions.write(snakemake.output.excluded)
