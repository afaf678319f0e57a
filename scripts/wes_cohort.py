"""Snakemake adapter: cohort WES tables (TMB, shared/private, drivers, neoantigens, tests, SBS6)."""

from organomics.logs import log_to
from organomics.tables import read_tsv, write_tsv
from organomics.wes import cohort
from organomics.wes.sample import STEPS
from organomics.wes.targets import read_targets

with log_to(snakemake.log[0]) as log:
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    settings = params.settings
    reference, compare = params.reference, params.compare
    simultaneous = params.sampling["simultaneous"]
    samples = list(params.samples)
    if inputs.targets:
        callable_mb = read_targets(inputs.targets[0]).size_mb
        log.info("callable size from %s: %.4f Mb (merged)", inputs.targets[0], callable_mb)
    else:
        callable_mb = float(settings["exome_size_mb"])
    variants = cohort.load_variants(list(inputs.variants))
    summary = cohort.filter_summary([read_tsv(path) for path in inputs.filters], STEPS)
    unannotated = set(summary.loc[summary["unannotated"] > 0, "sample"])
    tmb = cohort.tmb_table(variants, samples, callable_mb, unannotated)
    write_tsv(tmb, outputs.tmb)
    write_tsv(cohort.shared_private(variants, samples, reference, compare), outputs.shared)
    drivers = cohort.drivers_table(variants, samples, settings["drivers"], reference, compare)
    write_tsv(drivers, outputs.drivers)
    neo = cohort.neoantigen_table(params.neoantigens, settings["neoantigens"]["max_ic50_nm"])
    write_tsv(neo, outputs.neoantigens)
    comparison = cohort.site_comparison(tmb, neo, reference, compare, simultaneous)
    write_tsv(comparison, outputs.comparison)
    write_tsv(summary, outputs.filter_summary)
    excluded = cohort.cohort_exclusions(samples, summary, params.neoantigens, reference, compare)
    excluded.write(outputs.excluded)
    write_tsv(cohort.spectrum_table(variants, samples), outputs.sbs6)
    # every digit of the VAFs: this is the cohort's mutation list, not a summary
    write_tsv(cohort.with_samples(variants, samples), outputs.mutations, float_format=None)
