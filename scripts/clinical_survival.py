"""Snakemake adapter: Kaplan-Meier PFS/OS by mixed-response pattern and compare-site response."""

from organomics.clinical import figures, survival
from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]) as log:
    out = snakemake.output
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    mixed = read_tsv(snakemake.input.mixed, dtype={"patient": str})
    not_evaluable = read_tsv(snakemake.input.response_excluded, dtype=str)
    # Every lesion-input patient is either evaluable somewhere or recorded as not evaluable.
    lesion_patients = set(responses["patient"]) | set(not_evaluable["patient"].dropna())
    path = snakemake.input.patients[0]
    patients = survival.read_patients(path)
    unknown = sorted(set(patients["patient"]) - lesion_patients)
    matched = len(patients) - len(unknown)
    log.info("%s: %d of %d patients are in the lesion input", path, matched, len(patients))
    if not matched:
        log.warning(
            "no patient of %s is in the lesion input (ids there: %s); survival.tsv has no rows",
            path,
            ", ".join(sorted(lesion_patients)[:5]) or "none",
        )
    exclusions = Exclusions("survival")
    groups = survival.response_groups(responses, mixed, snakemake.params.compare)
    table = survival.km_table(patients, groups, exclusions, lesion_patients)
    write_tsv(table, out.table)
    site_grouping = f"{snakemake.params.compare}_response"
    save(
        figures.kaplan_meier(patients, groups["mixed_response"], "mixed_response", table),
        out.mixed_png,
        out.mixed_pdf,
    )
    save(
        figures.kaplan_meier(patients, groups[site_grouping], site_grouping, table),
        out.site_png,
        out.site_pdf,
    )
    exclusions.write(out.excluded)
