# scrna TCR helpers: parse-time check of the `tcr` files' format and columns, rule inputs.
from organomics.scrna import tcr as scrna_tcr_lib  # noqa: E402


def scrna_tcr_check_inputs():
    """Before any job: every `tcr` file is a Cell Ranger contig CSV or an AIRR TSV with the
    columns the clonotypes need (InputError naming the file otherwise)."""
    for sample in samples_with("tcr"):
        scrna_tcr_lib.detect_format(sample_file(sample, "tcr", "TCR contig file"))


def scrna_tcr_files():
    """The `tcr` file of every sample with one, in sheet order (as params.samples)."""
    return [
        sample_file(sample, "tcr", "TCR contig file") for sample in samples_with("tcr")
    ]


def scrna_tcr_annotation_inputs(wildcards=None):
    """The annotated cohort (and the CD8/NK state table when that rule exists) when any TCR
    sample also has scRNA; none otherwise (clonotypes are then not joined to cells)."""
    if not set(samples_with("tcr")) & set(samples_with("scrna")):
        return {}
    inputs = {"adata": "results/scrna/adata.h5ad"}
    if hasattr(rules, "scrna_states"):
        inputs["states"] = "results/scrna/state_cells.tsv.gz"
    return inputs


def scrna_tcr_exclusions():
    """The TCR step's exclusion table; registered for results/scrna/excluded.tsv only when the
    step runs (a sheet without a `tcr` column must not schedule it)."""
    if samples_with("tcr"):
        return exclusions("scrna", "tcr")
    return "results/scrna/excluded/tcr.tsv"
