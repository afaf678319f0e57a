# scrna branch helpers: parse-time checks of marker/signature files and matrix paths, params.
import os

from organomics.scrna import annotate as scrna_annotate  # noqa: E402
from organomics.scrna import io as scrna_io  # noqa: E402
from organomics.scrna import scores as scrna_scores  # noqa: E402

SCRNA_PLOTS = (
    "umap_cell_type",
    "umap_site",
    "umap_patient",
    "marker_dotplot",
    "score_violins",
    "score_paired",
    "composition",
)


def scrna_check_inputs():
    """Before any job: marker and signature files parse, every matrix path has a known format."""
    if not branch_active("scrna"):
        return
    scrna_annotate.load_markers(scrna_resource("markers"))
    scrna_scores.load_signatures(scrna_resource("signatures"))
    for sample in samples_with("scrna"):
        paths = [
            resolve_path(p)
            for p in sample_sheet.split_paths(SAMPLES.at[sample, "scrna"])
        ]
        if len(paths) != 1:
            raise InputError(
                config["samples"],
                "one single-cell matrix per sample",
                row=sample,
                column="scrna",
            )
        scrna_io.detect_format(paths[0])


def scrna_resource(key):
    """Resolved path of config scrna.markers / scrna.signatures."""
    return resolve_path(config["scrna"][key])


def scrna_per_sample(folder, ext):
    """Per-sample outputs of scrna_sample for every sample with a matrix."""
    return expand(
        f"results/scrna/{folder}/{{sample}}.{ext}", sample=samples_with("scrna")
    )


def scrna_plot_files():
    return [
        f"results/scrna/plots/{name}.{ext}"
        for name in SCRNA_PLOTS
        for ext in ("png", "pdf")
    ]


def scrna_targets():
    """Final targets of the branch (empty when no sample has a matrix)."""
    if not branch_active("scrna"):
        return []
    tables = ["qc", "cell_types", "cell_states", "signature_scores", "site_comparison"]
    tables += ["pseudobulk_summary", "cluster_annotation"]
    return [f"results/scrna/{name}.tsv" for name in tables] + [
        "results/scrna/adata.h5ad",
        "results/scrna/pseudobulk_de",
        *scrna_plot_files(),
    ]


def scrna_mem_mb(wildcards, input, attempt):
    """Cohort memory from the stored non-zeros: ~5.4 bytes per non-zero + 0.7 GB, measured at
    100,000 and 300,000 cells (1.8 and 4.1 GB; only the analysed genes are held), rounded up to
    6 bytes + 1 GB; grows on retry."""
    import h5py

    nnz = 0
    for path in input.h5ad:
        if not os.path.exists(path):  # a dry run plans before the samples exist
            continue
        with h5py.File(path, "r") as handle:
            matrix = handle["X"]
            nnz += (
                matrix["data"].shape[0]
                if isinstance(matrix, h5py.Group)
                else matrix.size
            )
    return int((1000 + nnz * 6 / 1e6) * attempt)
