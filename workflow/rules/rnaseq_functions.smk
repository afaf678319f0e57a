# rnaseq branch helpers: which samples have RNA, where their counts come from, resources.
from organomics.tables import read_table as rnaseq_read_table  # noqa: E402


def rnaseq_matrix():
    """Resolved cohort matrix path, or None when counts come from per-sample files.

    A sheet whose `rna` cells all name one file (and no `rnaseq.counts`) also means a matrix.
    """
    configured = config["rnaseq"].get("counts")
    if configured:
        return resolve_path(configured)
    cells = {SAMPLES.at[sample, "rna"] for sample in samples_with("rna")}
    if len(cells) == 1 and len(samples_with("rna")) > 1:
        return resolve_path(cells.pop())
    return None


def rnaseq_sample_ids():
    """RNA samples in sheet order: sheet rows with an `rna` cell, else sheet samples that are
    columns of the matrix (its header is read here, before any job)."""
    if not branch_active("rnaseq"):
        return []
    declared = samples_with("rna")
    if declared:
        return declared
    matrix = rnaseq_matrix()
    header = rnaseq_read_table(matrix, nrows=0).columns[1:]
    found = [sample for sample in SAMPLES.index if sample in set(header)]
    if not found:
        raise InputError(
            matrix,
            "no column is named after a sheet sample (and no sheet row has an `rna` cell); "
            f"sheet samples start {', '.join(SAMPLES.index[:3])}, matrix columns start "
            f"{', '.join(header[:3])}",
        )
    return found


RNASEQ_SAMPLES = parse_check(rnaseq_sample_ids)
# Up to this many samples PyDESeq2 fits genes in the job's own process (rnaseq_fit_threads).
RNASEQ_SERIAL_MAX_SAMPLES = 100


def rnaseq_fit_threads(processes):
    """Processes for PyDESeq2's per-gene fits: one for tens of samples, `processes` beyond.

    For a cohort of tens of samples, starting loky worker processes and copying the data to
    them costs more than the fits (demo, 55 samples, 3,000 genes: DESeq2 42 s and 2.1 GB with 8
    processes, 14 s and 270 MB with one; VST 30 s and 1.2 GB with 4, 5 s and 260 MB with one),
    and warnings raised in worker processes never reach warnings.tsv. Hundreds of samples
    (hundreds of patient coefficients) need the cores.
    """
    return 1 if len(RNASEQ_SAMPLES) <= RNASEQ_SERIAL_MAX_SAMPLES else processes


def rnaseq_check_inputs():
    """Parse-time check of the inputs: per-sample files, one per sample; a cohort matrix,
    every RNA sample a column of its header and no column twice (the body is checked by the
    counts job, cell by cell)."""
    if not branch_active("rnaseq"):
        return
    matrix = rnaseq_matrix()
    if not matrix:
        for sample in RNASEQ_SAMPLES:
            sample_file(sample, "rna", "count file")
        return
    header = [str(c) for c in rnaseq_read_table(matrix, nrows=0).columns]
    if len(header) < 2:
        raise InputError(
            matrix, "expected a gene id column followed by one column per sample", row=1
        )
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(
            matrix, f"sample column(s) named twice: {', '.join(repeated)}", row=1
        )
    missing = [s for s in RNASEQ_SAMPLES if s not in set(header[1:])]
    if missing:
        raise InputError(
            matrix,
            f"sample column(s) missing from the count matrix: {', '.join(missing)} "
            f"(sheet samples with RNA); matrix columns are: {', '.join(header[1:21])}"
            + (" ..." if len(header) > 21 else ""),
            row=1,
        )


parse_check(rnaseq_check_inputs)


def rnaseq_records():
    """sample, patient, site of every RNA sample (params of the cohort rules)."""
    columns = ["sample", "patient", "site"]
    return SAMPLES.loc[RNASEQ_SAMPLES, columns].to_dict("records")


def rnaseq_counts_input(wildcards):
    """The cohort matrix, or the per-sample count tables."""
    matrix = rnaseq_matrix()
    if matrix:
        return {"matrix": matrix}
    return {
        "per_sample": per_sample("results/rnaseq/sample_counts/{sample}.tsv", "rna")
    }


def rnaseq_count_file(wildcards):
    """The per-sample count file of wildcards.sample (one per sample, checked at parse)."""
    return sample_file(wildcards.sample, "rna", "count file")


def rnaseq_tx2gene():
    """Resolved tx2gene path ("" when unset)."""
    path = config["rnaseq"].get("tx2gene")
    return resolve_path(path) if path else ""


def rnaseq_resource(key):
    """A bundled or user resource path from the rnaseq block, resolved."""
    return resolve_path(config["rnaseq"][key])


def rnaseq_gsea_threads():
    """Threads of the GSEA job: gseapy's engine is multithreaded, the fgsea engine is not."""
    return 4 if config["rnaseq"]["gsea"]["engine"] == "gseapy" else 1


def rnaseq_gene_sets():
    """The GMT files of GSEA and ORA, resolved."""
    return [resolve_path(path) for path in config["rnaseq"]["gene_sets"]]


def rnaseq_deconvolution_input(wildcards):
    """Counts, symbol table and markers; the scRNA reference when the scRNA branch runs."""
    inputs = {
        "counts": "results/rnaseq/counts.tsv.gz",
        "symbols": rnaseq_resource("symbols"),
        "markers": resolve_path(config["rnaseq"]["deconvolution"]["markers"]),
    }
    if branch_active("scrna"):
        inputs["reference"] = "results/rnaseq/scrna_reference.tsv"
    return inputs
