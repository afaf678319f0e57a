"""Demo single-cell RNA layer: Cell Ranger h5 files and matrix directories for the scRNA pairs.

Cells are simulated from cell-type expression programmes over a panel of real genes
(resources/scrna/demo_genes.tsv). Liver metastases (compare site) get weaker effector CD8 and NK
cytotoxicity programmes and fewer CD8 T cells, as in the reference study.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp
import yaml

from organomics.demo import scrna_tcr
from organomics.demo.cohort import DemoCohort

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "scrna"

# Mean composition per site (the compare site also holds hepatocytes).
COMPOSITION = {
    "reference": {
        "T_CD8": 0.18, "T_CD4": 0.15, "NK": 0.08, "B": 0.07, "plasma": 0.03, "myeloid": 0.17,
        "epithelial": 0.18, "hepatocyte": 0.0, "fibroblast": 0.08, "endothelial": 0.06,
    },
    "compare": {
        "T_CD8": 0.11, "T_CD4": 0.14, "NK": 0.06, "B": 0.05, "plasma": 0.03, "myeloid": 0.19,
        "epithelial": 0.15, "hepatocyte": 0.13, "fibroblast": 0.08, "endothelial": 0.06,
    },
}  # fmt: skip
# State mix within T/NK compartments per site.
STATES = {
    "T_CD8": {
        "reference": {"CD8_effector": 0.45, "CD8_exhausted": 0.15, "CD8_memory": 0.25,
                      "CD8_naive": 0.15},
        "compare": {"CD8_effector": 0.2, "CD8_exhausted": 0.35, "CD8_memory": 0.25,
                    "CD8_naive": 0.2},
    },
    "T_CD4": {
        "reference": {"CD4_naive": 0.3, "CD4_memory": 0.45, "CD4_Treg": 0.2, "CD4_exhausted": 0.05},
        "compare": {"CD4_naive": 0.3, "CD4_memory": 0.4, "CD4_Treg": 0.25, "CD4_exhausted": 0.05},
    },
    "NK": {
        "reference": {"NK_CD56dim": 0.8, "NK_CD56bright": 0.2},
        "compare": {"NK_CD56dim": 0.5, "NK_CD56bright": 0.5},
    },
}  # fmt: skip
# CD8 state programmes of resources/scrna/states.yaml laid over the cells' drawn CD8 states
# (naive -> progenitor-exhausted, effector -> effector, exhausted -> terminally exhausted;
# memory cells split per site), plus a proliferating share: PL more progenitor/effector, LM more
# terminally exhausted. Drawn from their own stream (`add_cd8_states`).
CD8_STATE_OF = {
    "CD8_naive": "CD8_progenitor_exhausted",
    "CD8_effector": "CD8_effector",
    "CD8_exhausted": "CD8_terminally_exhausted",
}
CD8_MEMORY_SPLIT = {
    "reference": {"CD8_progenitor_exhausted": 0.7, "CD8_effector": 0.25,
                  "CD8_terminally_exhausted": 0.05},
    "compare": {"CD8_progenitor_exhausted": 0.1, "CD8_effector": 0.2,
                "CD8_terminally_exhausted": 0.7},
}  # fmt: skip
PROLIFERATING = 0.08  # of CD8 cells at both sites
STATE_COUNTS = 2.5  # mean added counts per programme gene (a 25-level programme gene's share)
LOW_QUALITY = 0.04  # damaged cells: few counts, a third mitochondrial
MEAN_COUNTS = 600
SIGNATURE_FOLD_COMPARE = 0.4  # effector/NK-cytotoxicity genes in LM relative to PL


@dataclass
class Panel:
    """Genes and the cell-type/state programmes over them."""

    ids: list[str]
    symbols: list[str]
    baseline: np.ndarray
    programmes: dict[str, np.ndarray]  # cell type or state -> expression level of its genes
    noise: dict[str, np.ndarray]  # cell type -> multiplicative gene-wise differences
    signature_genes: dict[str, np.ndarray]  # compartment -> boolean mask damped at compare site


def load_panel(rng: np.random.Generator) -> Panel:
    genes = pd.read_csv(RESOURCES / "demo_genes.tsv", sep="\t")
    markers = yaml.safe_load((RESOURCES / "markers.yaml").read_text())
    signatures = yaml.safe_load((RESOURCES / "signatures.yaml").read_text())
    symbols = genes["gene_symbol"].tolist()
    index = {g: i for i, g in enumerate(symbols)}
    n = len(symbols)
    baseline = rng.lognormal(mean=0.0, sigma=1.3, size=n)
    special = {g for spec in markers["compartments"].values() for k in spec.values() for g in k}
    special |= {g for states in markers["states"].values() for gs in states.values() for g in gs}
    special |= {g for spec in signatures.values() for g in spec["genes"]}
    for gene in special:
        baseline[index[gene]] = 0.02  # silent outside their own programmes
    for gene in symbols:
        if gene.startswith(("RPL", "RPS")):
            baseline[index[gene]] = 25.0
    for gene in ("ACTB", "MALAT1", "TMSB4X", "B2M", "FTL", "EEF1A1", "GAPDH", "TPT1"):
        baseline[index[gene]] = 60.0
    mito = np.array([g.startswith("MT-") for g in symbols])
    baseline[mito] = 0.0

    def levels(genes: list[str], level: float) -> np.ndarray:
        w = np.zeros(n)
        for gene in genes:
            w[index[gene]] = level
        return w

    programmes = {
        name: levels(spec["positive"], 12.0) for name, spec in markers["compartments"].items()
    }
    for states in markers["states"].values():
        for state, state_genes in states.items():
            programmes[state] = levels(state_genes, 25.0)
    # Signature genes carried by effector T and NK programmes (IFNG, CCL5, CST7, GZMK, ...).
    effector = signatures["effector_CD8"]["genes"]
    cytotoxic = signatures["NK_cytotoxicity"]["genes"]
    programmes["CD8_effector"] = np.maximum(programmes["CD8_effector"], levels(effector, 20.0))
    programmes["CD8_memory"] = np.maximum(programmes["CD8_memory"], levels(["GZMK", "CCL5"], 15.0))
    programmes["NK_CD56dim"] = np.maximum(programmes["NK_CD56dim"], levels(cytotoxic, 25.0))
    # Cell types also differ a little over every gene, as real ones do.
    noise = {name: rng.lognormal(0, 0.3, n) for name in markers["compartments"]}
    damped = {
        "T_CD8": np.isin(symbols, effector),
        "NK": np.isin(symbols, cytotoxic),
    }
    return Panel(genes["gene_id"].tolist(), symbols, baseline, programmes, noise, damped)


def simulate_counts(
    panel: Panel, rng: np.random.Generator, n_cells: int, site_role: str, damping: float = 1.0
) -> tuple[sp.csr_matrix, pd.DataFrame]:
    """Counts (cells x genes, CSR int32) and true labels for one sample.

    site_role is "reference" or "compare"; damping multiplies the compare site's signature genes.
    """
    n_genes = len(panel.symbols)
    mito = np.array([g.startswith("MT-") for g in panel.symbols])
    mean_fraction = np.array(list(COMPOSITION[site_role].values()))
    fractions = rng.dirichlet(mean_fraction * 300 + 1e-3)
    types = rng.choice(list(COMPOSITION[site_role]), size=n_cells, p=fractions)
    states = types.astype(object).copy()
    for compartment, mix in STATES.items():
        chosen = types == compartment
        states[chosen] = rng.choice(
            list(mix[site_role]), size=chosen.sum(), p=list(mix[site_role].values())
        )
    low_quality = rng.random(n_cells) < LOW_QUALITY
    library = rng.lognormal(np.log(MEAN_COUNTS), 0.35, n_cells)
    library[low_quality] *= 0.3
    rows = []
    for cell in range(n_cells):
        w = np.maximum(panel.baseline, panel.programmes[types[cell]])
        if states[cell] in panel.programmes:
            w = np.maximum(w, panel.programmes[states[cell]])
        w = w * panel.noise[types[cell]]
        if site_role == "compare" and types[cell] in panel.signature_genes:
            w = np.where(panel.signature_genes[types[cell]], w * damping, w)
        p = w / w.sum()
        pct_mt = 0.35 if low_quality[cell] else rng.uniform(0.01, 0.08)
        p = p * (1 - pct_mt)
        p[mito] = pct_mt / mito.sum()
        # Gamma-Poisson (negative binomial) counts around the programme.
        rate = library[cell] * p * rng.gamma(2.0, 0.5, n_genes)
        rows.append(sp.csr_matrix(rng.poisson(rate).astype(np.int32)))
    counts = sp.vstack(rows).tocsr()
    truth = pd.DataFrame({"cell_type": types, "cell_state": states, "low_quality": low_quality})
    return counts, truth


def add_cd8_states(
    counts: sp.csr_matrix,
    truth: pd.DataFrame,
    symbols: list[str],
    rng: np.random.Generator,
    site_role: str,
    damped: np.ndarray | None = None,
    damping: float = 1.0,
) -> tuple[sp.csr_matrix, pd.Series]:
    """CD8 cells get the counts of their state programme (resources/scrna/states.yaml).

    Only the programme genes of CD8 cells change, from `rng` alone (the demo passes a stream of
    its own), so the other draws of the layer (cell types, barcodes, other genes) stay as they
    were. Genes in `damped` are multiplied by `damping` at the compare site, as the effector
    signature genes are in `simulate_counts`.

    Returns the counts and each cell's CD8 state ("" for other cells).
    """
    programmes = yaml.safe_load((RESOURCES / "states.yaml").read_text())["programmes"]["T_CD8"]
    index = {g: i for i, g in enumerate(symbols)}
    state = pd.Series("", index=truth.index, dtype=object)
    cd8 = np.flatnonzero(truth["cell_type"].to_numpy() == "T_CD8")
    split = CD8_MEMORY_SPLIT[site_role]
    for cell in cd8:
        drawn = truth["cell_state"].iat[cell]
        if drawn in CD8_STATE_OF:
            state.iat[cell] = CD8_STATE_OF[drawn]
        else:
            state.iat[cell] = rng.choice(list(split), p=list(split.values()))
    proliferating = cd8[rng.random(len(cd8)) < PROLIFERATING]
    state.iloc[proliferating] = "CD8_proliferating"
    extra = sp.lil_matrix(counts.shape, dtype=np.int32)
    for cell in cd8:
        genes = [index[g] for g in programmes[state.iat[cell]]]
        rate = np.full(len(genes), STATE_COUNTS)
        if site_role == "compare" and damped is not None:
            rate = np.where(damped[genes], rate * damping, rate)
        extra[cell, genes] = rng.poisson(rate)
    return (counts + extra.tocsr()).tocsr(), state


def barcodes(rng: np.random.Generator, n: int) -> list[str]:
    letters = np.array(list("ACGT"))
    codes = rng.integers(0, 4, size=(n * 2, 16))
    unique = list(dict.fromkeys("".join(letters[c]) + "-1" for c in codes))
    return unique[:n]


def _gzip_bytes(path: Path, payload: bytes) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(payload)


def write_mtx(
    directory: Path, counts: sp.csr_matrix, ids: list[str], symbols: list[str], cells: list[str]
) -> None:
    """Cell Ranger v3 filtered_feature_bc_matrix/ directory (genes x cells, gzipped)."""
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    scipy.io.mmwrite(buffer, counts.T.tocoo(), field="integer")
    _gzip_bytes(directory / "matrix.mtx.gz", buffer.getvalue())
    features = "".join(f"{i}\t{s}\tGene Expression\n" for i, s in zip(ids, symbols, strict=True))
    _gzip_bytes(directory / "features.tsv.gz", features.encode())
    _gzip_bytes(directory / "barcodes.tsv.gz", "".join(f"{c}\n" for c in cells).encode())


def write_h5(
    path: Path,
    counts: sp.csr_matrix,
    ids: list[str],
    symbols: list[str],
    cells: list[str],
    feature_types: list[str] | None = None,
) -> None:
    """Cell Ranger v3 filtered_feature_bc_matrix.h5 (CSC genes x cells under /matrix)."""
    import h5py

    feature_types = feature_types or ["Gene Expression"] * len(ids)
    matrix = counts.T.tocsc()  # genes x cells, compressed by cell as Cell Ranger stores it
    matrix.sort_indices()
    opts = {"compression": "gzip", "compression_opts": 9, "shuffle": True}
    with h5py.File(path, "w", track_order=False) as f:
        g = f.create_group("matrix")
        g.create_dataset("barcodes", data=np.array(cells, dtype="S"), **opts)
        g.create_dataset("data", data=matrix.data.astype(np.int32), **opts)
        g.create_dataset("indices", data=matrix.indices.astype(np.int64), **opts)
        g.create_dataset("indptr", data=matrix.indptr.astype(np.int64), **opts)
        g.create_dataset("shape", data=np.array(matrix.shape, dtype=np.int32))
        feat = g.create_group("features")
        feat.create_dataset("_all_tag_keys", data=np.array([b"genome"]))
        feat.create_dataset("feature_type", data=np.array(feature_types, dtype="S"), **opts)
        feat.create_dataset("genome", data=np.array([b"GRCh38"] * len(ids)), **opts)
        feat.create_dataset("id", data=np.array(ids, dtype="S"), **opts)
        feat.create_dataset("name", data=np.array(symbols, dtype="S"), **opts)


def write(outdir: Path, prefix: str, cohort: DemoCohort) -> tuple[dict[str, dict[str, str]], dict]:
    """Write the scRNA layer: pairs 2, 5, ... as matrix directories, the others as h5 files."""
    rng = cohort.rng("scrna")
    tcr_rng, tcr_clones = cohort.rng("scrna_tcr"), {}  # TCR contigs: a stream of their own
    state_rng = cohort.rng("scrna_cd8_states")  # its own stream: every draw of rng is unchanged
    panel = load_panel(rng)
    folder = Path(outdir) / "scrna"
    folder.mkdir(parents=True, exist_ok=True)
    sheet: dict[str, dict[str, str]] = {}
    for number, patient in enumerate(cohort.sc_pairs):
        damping = SIGNATURE_FOLD_COMPARE * rng.uniform(0.8, 1.25)
        for role, site in (("reference", cohort.reference), ("compare", cohort.compare)):
            sample = cohort.sample_id(patient, site)
            counts, truth = simulate_counts(panel, rng, cohort.n_cells, role, damping)
            counts, _ = add_cd8_states(counts, truth, panel.symbols, state_rng, role,
                                       panel.signature_genes["T_CD8"], damping)  # fmt: skip
            cells = barcodes(rng, counts.shape[0])
            if number % 3 != 1:
                # Two antibody-capture features show that only Gene Expression is kept.
                antibodies = sp.csr_matrix(rng.poisson(5.0, size=(counts.shape[0], 2)))
                write_h5(
                    folder / f"{sample}.h5",
                    sp.hstack([counts, antibodies]).tocsr(),
                    [*panel.ids, "CD3_TotalSeqB", "CD8_TotalSeqB"],
                    [*panel.symbols, "CD3", "CD8"],
                    cells,
                    ["Gene Expression"] * len(panel.ids) + ["Antibody Capture"] * 2,
                )
                sheet[sample] = {"scrna": f"{prefix}/scrna/{sample}.h5"}
            else:
                write_mtx(
                    folder / sample / "filtered_feature_bc_matrix",
                    counts,
                    panel.ids,
                    panel.symbols,
                    cells,
                )
                sheet[sample] = {"scrna": f"{prefix}/scrna/{sample}/filtered_feature_bc_matrix"}
            sheet[sample]["tcr"] = scrna_tcr.write_sample(
                folder, prefix, sample, number, role, cells, truth, tcr_rng, tcr_clones
            )
    # The demo panel has 1,800 genes, so cells detect fewer genes than a full transcriptome.
    config = {"qc": {"min_genes": 100}, "integration": {"n_top_genes": 1000}}
    return sheet, config
