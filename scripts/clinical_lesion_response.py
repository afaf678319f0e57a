"""Snakemake adapter: per-lesion response, mixed progression at the first PD, lesion waterfall."""

import logging

from organomics.clinical import lesion_response, lesions, recist, sdtm
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    out = snakemake.output
    reference, compare = snakemake.params.reference, snakemake.params.compare
    if "lesions" in snakemake.input.keys():
        source = snakemake.input.lesions
        table = lesions.read_lesions(source)
    else:
        source = snakemake.input.tr
        table = sdtm.read_sdtm(snakemake.input.tu, snakemake.input.tr, snakemake.params.evaluator)
    # the response step already lists the lesions of other organs
    sited = recist.assign_sites(
        table, snakemake.params.organ_sites, source, log_level=logging.DEBUG
    )
    timepoints = read_tsv(snakemake.input.timepoints, dtype={"patient": str})
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    per_lesion, mixed = lesion_response.lesion_table(
        sited, timepoints, responses, reference, compare
    )
    log.info(
        "%d target lesions; %d patients with a PD, %d with lesion-level mixed progression",
        len(per_lesion),
        len(mixed),
        int(mixed["mixed"].sum()),
    )
    write_tsv(per_lesion, out.lesions)
    write_tsv(mixed, out.mixed)
    save(lesion_response.waterfall(per_lesion, reference, compare), out.png, out.pdf)
