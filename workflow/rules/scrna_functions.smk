# scrna branch helpers: parse-time checks of marker/signature files and matrix paths, params.
import os

from organomics.scrna import annotate as scrna_annotate  # noqa: E402
from organomics.scrna import io as scrna_io  # noqa: E402
from organomics.scrna import scores as scrna_scores  # noqa: E402
from organomics.scrna import states as scrna_states  # noqa: E402


def scrna_check_inputs():
    """Before any job: marker and signature files parse, every matrix path has a known format."""
    if not branch_active("scrna"):
        return
    scrna_annotate.load_markers(scrna_resource("markers"))
    scrna_scores.load_signatures(scrna_resource("signatures"))
    scrna_states.load_states(scrna_resource("states"))
    for sample in samples_with("scrna"):
        scrna_io.check_matrix(sample_file(sample, "scrna", "single-cell matrix"))


def scrna_resource(key):
    """Resolved path of config scrna.markers / scrna.signatures."""
    return resolve_path(config["scrna"][key])


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


def scrna_cohort_settings():
    """The scrna keys the cohort job reads: editing another one (states, tcr, pseudobulk...)
    must not rerun the cohort, as params changes do."""
    return {key: config["scrna"][key] for key in ("integration", "seed", "comparison")}
