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
        scrna_io.check_matrix(paths[0])


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
    tables += ["pseudobulk_summary", "cluster_annotation", "excluded"]
    return [f"results/scrna/{name}.tsv" for name in tables] + [
        "results/scrna/adata.h5ad",
        "results/scrna/pseudobulk_de",
        *scrna_plot_files(),
    ]


def scrna_mem_mb(wildcards, input, attempt):
    """Cohort memory: 1 GB + 12 kB per cell (neighbour graph, Harmony, UMAP) + 2 bytes per stored
    non-zero (the analysed genes' values). Measured peaks: 1.8 / 4.0 GB at 100k / 300k cells of
    20,000 genes, 11.3 GB at 959k cells of 1,800 genes. Grows on retry."""
    import h5py

    cells = nnz = 0
    for path in input.h5ad:
        if not os.path.exists(path):  # a dry run plans before the samples exist
            continue
        with h5py.File(path, "r") as handle:
            matrix = handle["X"]
            if isinstance(matrix, h5py.Group):
                cells += int(matrix.attrs["shape"][0])
                nnz += matrix["data"].shape[0]
            else:
                cells += matrix.shape[0]
                nnz += matrix.size
    return int((1000 + cells * 0.012 + nnz * 2 / 1e6) * attempt)
