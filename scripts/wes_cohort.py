"""Snakemake adapter: cohort WES tables (TMB, shared/private, drivers, neoantigens, tests, SBS6)."""

import os

import pandas as pd

from organomics.logs import log_to
from organomics.tables import write_tsv
from organomics.wes import cohort
from organomics.wes.sample import STEPS
from organomics.wes.targets import read_targets

with log_to(snakemake.log[0]) as log:
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    settings = params.settings
    ref, cmp = params.reference, params.compare
    samples = list(params.samples)
    if inputs.targets:
        callable_mb = read_targets(inputs.targets[0]).size_mb
        log.info("callable size from %s: %.4f Mb (merged)", inputs.targets[0], callable_mb)
    else:
        callable_mb = float(settings["exome_size_mb"])
    variants = cohort.load_variants(list(inputs.variants))
    filters = pd.concat([pd.read_csv(p, sep="\t") for p in inputs.filters], ignore_index=True)
    summary = filters.pivot(index="sample", columns="step", values="n").reset_index()
    summary = summary.reindex(columns=["sample", *STEPS], fill_value=0)
    unannotated = set(summary.loc[summary["unannotated"] > 0, "sample"])
    tmb = cohort.tmb_table(variants, samples, callable_mb, unannotated)
    write_tsv(tmb, outputs.tmb)
    write_tsv(cohort.shared_private(variants, samples, ref, cmp), outputs.shared)
    write_tsv(
        cohort.drivers_table(variants, samples, settings["drivers"], ref, cmp), outputs.drivers
    )
    neo = cohort.neoantigen_table(params.neoantigens, settings["neoantigens"]["max_ic50_nm"])
    write_tsv(neo, outputs.neoantigens)
    write_tsv(cohort.site_comparison(tmb, neo, ref, cmp), outputs.comparison)
    write_tsv(summary, outputs.filter_summary)
    cohort.cohort_exclusions(samples, summary, params.neoantigens, ref, cmp).write(outputs.excluded)
    write_tsv(cohort.spectrum_table(variants, samples), outputs.sbs6)
    tmp = outputs.mutations + ".tmp"
    cohort.with_samples(variants, samples).to_csv(tmp, sep="\t", index=False, compression="gzip")
    os.replace(tmp, outputs.mutations)
