# wes branch helpers: parse-time checks of the config, params and input lists.
from organomics.wes import sample as wes_sample  # noqa: E402


def wes_check_inputs():
    """Before any job: TMB needs a callable size, a configured BED must exist, and every
    VCF/MAF header must be readable (tumour column, CSQ fields, MAF columns)."""
    if not branch_active("wes"):
        return
    block = config["wes"]
    if not block.get("targets") and not block.get("exome_size_mb"):
        raise InputError(
            "config",
            "the wes branch needs `targets` (capture BED) or `exome_size_mb` for TMB",
            column="wes",
        )
    if block.get("targets") and not Path(resolve_path(block["targets"])).exists():
        raise InputError(block["targets"], "capture BED (config wes.targets) not found")
    require_annotation = not block.get("allow_unannotated", False)
    checked = set()
    for sample in samples_with("wes"):
        sample_id = (
            str(SAMPLES.at[sample, "wes_id"]) if "wes_id" in SAMPLES.columns else ""
        )
        for part in sample_sheet.split_paths(SAMPLES.at[sample, "wes"]):
            path = resolve_path(part)
            if (path, sample_id) not in checked:
                wes_sample.check_inputs([path], sample_id, require_annotation)
                checked.add((path, sample_id))


def wes_targets():
    """The capture BED as a rule input ([] when exome_size_mb is used)."""
    path = config["wes"].get("targets")
    return [resolve_path(path)] if path else []


def wes_id(wildcards):
    """The sheet's wes_id of the sample (VCF tumour column or MAF barcode), "" when empty."""
    if "wes_id" not in SAMPLES.columns:
        return ""
    return str(SAMPLES.at[wildcards.sample, "wes_id"])


def wes_neoantigen_records():
    """sample, patient, site and resolved path of each sample with a neoantigen table."""
    records = []
    for sample in samples_with("neoantigens"):
        path = sample_file(sample, "neoantigens", "neoantigen table")
        record = SAMPLES.loc[sample, ["sample", "patient", "site"]].to_dict()
        records.append({**record, "path": path})
    return records


def wes_neoantigen_files():
    """Neoantigen tables as inputs of the cohort rule."""
    return [record["path"] for record in wes_neoantigen_records()]
