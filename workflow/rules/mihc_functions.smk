# mihc branch helpers: parse-time checks of the config and cell-table headers, params, inputs.
from organomics.mihc import cohort as mihc_cohort  # noqa: E402
from organomics.mihc import readers as mihc_readers  # noqa: E402
from organomics.mihc import sample as mihc_sample  # noqa: E402
from organomics.pairing import paired_patients  # noqa: E402


def mihc_check_inputs():
    """Before any job: expressions parse, every table has the marker columns, areas are numbers.

    Returns {sample: detected format}. Reads only the first 100 cells of each cell table.
    """
    if not branch_active("mihc"):
        return {}
    settings = config["mihc"]
    definitions = mihc_sample.parse_config(settings, source="config mihc")
    formats = {}
    for sample in samples_with("mihc"):
        path = sample_file(sample, "mihc", "cell table")
        layout = mihc_readers.resolve_layout(path, settings)
        mihc_sample.check_layout(layout, definitions)
        mihc_readers.check_head(layout)
        formats[sample] = layout.format
        mihc_cohort.sheet_area(
            mihc_area(sample), sample, f"sample sheet (sample {sample})"
        )
    return formats


def mihc_area(sample):
    """The sheet's area_mm2 cell of `sample` ("" when the column or cell is empty)."""
    if "area_mm2" not in SAMPLES.columns:
        return ""
    return SAMPLES.at[sample, "area_mm2"]


def mihc_areas():
    """{sample: area_mm2 cell} of every mihc sample (params of the cohort rule)."""
    return {sample: str(mihc_area(sample)) for sample in samples_with("mihc")}


def mihc_scatter_samples():
    """One sample per site for the spatial scatter: the configured patient, else the first pair."""
    if not branch_active("mihc"):
        return []
    records = sample_records("mihc")
    by_patient = {}
    for record in records:
        by_patient.setdefault(record["patient"], {})[record["site"]] = record["sample"]
    wanted = config["mihc"].get("scatter_patient")
    if wanted and wanted not in by_patient:
        raise InputError(
            "config mihc",
            f"scatter_patient {wanted!r} has no mihc sample; patients: {', '.join(by_patient)}",
        )
    paired = list(paired_patients(records, REF, CMP))
    patient = wanted or (paired[0] if paired else next(iter(by_patient), None))
    if patient is None:
        return []
    sites = by_patient[patient]
    return [sites[site] for site in (REF, CMP) if site in sites]


def mihc_scatter_points(wildcards):
    """Input function: the thinned cell positions of the scatter samples."""
    return [f"results/mihc/points/{sample}.parquet" for sample in MIHC_SCATTER]


def mihc_record(wildcards):
    """params of a per-sample job: its sample, patient and site (for its exclusion rows)."""
    row = SAMPLES.loc[wildcards.sample]
    return {"sample": wildcards.sample, "patient": row["patient"], "site": row["site"]}
