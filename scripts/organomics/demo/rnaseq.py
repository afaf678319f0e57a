"""Demo bulk RNA layer: negative-binomial counts (real symbols) with the study's LM immune loss.

The genes of the scRNA demo panel are mixtures of the scRNA demo's cell types with known
fractions (written to mixture_fractions.tsv), so bulk deconvolution has a known answer.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[3]
GO_GMT = REPO / "resources/genesets/go_bp.gmt.gz"
SIGNATURES = REPO / "resources/rnaseq/immune_signatures.gmt"
SYMBOLS = REPO / "resources/rnaseq/ensembl_to_symbol.tsv.gz"
# GO terms the study found enriched in PL (lower in LM): antigen presentation, NK cytotoxicity, TCR.
STUDY_TERMS = ("GO:0019882", "GO:0042267", "GO:0050852")
STUDY_GENES = ("CD8A", "LCK", "ICOS", "GZMB", "PRF1", "CD274", "HLA-A", "B2M")
LOWER_IN_LM_SIGNATURES = (
    "CD8_T_cells",
    "T_cells",
    "Cytotoxic_cells",
    "NK_cells",
    "NK_CD56dim_cells",
    "Cytolytic_activity",
    "Antigen_presentation_MHC_I",
    "T_cell_inflamed_GEP",
)
# Hepatocyte transcripts: liver metastasis biopsies carry some normal liver.
LIVER_GENES = (
    "ALB",
    "APOA1",
    "APOA2",
    "APOC3",
    "APOH",
    "TF",
    "HP",
    "FGA",
    "FGB",
    "SERPINA1",
    "TTR",
    "AHSG",
    "CYP3A4",
    "CYP2E1",
)
# Alveolar/lung transcripts, higher in the pulmonary lesions.
LUNG_GENES = ("SFTPC", "SFTPB", "SFTPA1", "SFTPA2", "NAPSA", "AGER", "SCGB1A1")
# Cells in one bulk sample's mixture: panel genes then have counts of the order of the other
# genes' (a few hundred per gene).
MIXTURE_CELLS = 2000
# Lymphoid cell types whose share follows the sample's immune infiltration (lower in LM).
INFILTRATING = ("T_CD8", "T_CD4", "NK", "B", "plasma")
# Panel genes that keep the bulk model: the scRNA demo gives LCK no T-cell programme (it is a
# background gene there), so as a mixture gene it would lose the study's LM loss of LCK.
KEEP_BULK_MODEL = ("LCK",)


@dataclass
class Mixture:
    """Expected counts per cell of each scRNA demo cell type, per site role, on panel symbols."""

    profiles: dict[str, pd.DataFrame]  # role -> symbols x cell types
    rng: np.random.Generator
    truth: dict[str, pd.Series] = field(default_factory=dict)  # sample -> cell type fractions


def mixture_profiles(cohort) -> Mixture:
    """The scRNA demo's cell-type programmes as expected counts per cell (no draws of its own).

    The panel is rebuilt from a fresh copy of the scRNA layer's random stream, so the scRNA
    files keep their draws. Expected counts of a cell of type t: mean library size x (1 - mean
    mitochondrial share) x its programme's gene shares, averaged over the site's state mix;
    the compare site's effector/NK-cytotoxicity genes damped as in the scRNA demo.
    """
    from organomics.demo import scrna

    panel = scrna.load_panel(cohort.rng("scrna"))
    mito = np.array([g.startswith("MT-") for g in panel.symbols])
    library = scrna.MEAN_COUNTS * np.exp(0.35**2 / 2)  # mean of the lognormal library size
    pct_mt = (0.01 + 0.08) / 2
    profiles = {}
    for role in ("reference", "compare"):
        columns = {}
        for cell_type in scrna.COMPOSITION[role]:
            states = scrna.STATES.get(cell_type, {}).get(role, {cell_type: 1.0})
            expected = np.zeros(len(panel.symbols))
            for state, share in states.items():
                w = np.maximum(panel.baseline, panel.programmes[cell_type])
                if state in panel.programmes:
                    w = np.maximum(w, panel.programmes[state])
                w = w * panel.noise[cell_type]
                if role == "compare" and cell_type in panel.signature_genes:
                    damped = panel.signature_genes[cell_type]
                    w = np.where(damped, w * scrna.SIGNATURE_FOLD_COMPARE, w)
                p = w / w.sum() * (1 - pct_mt)
                p[mito] = pct_mt / mito.sum()
                expected += share * library * p
            columns[cell_type] = expected
        profiles[role] = pd.DataFrame(columns, index=panel.symbols)
    return Mixture(profiles, cohort.rng("rnaseq mixture"))


def mix(mixture: Mixture, sample: str, role: str, infiltration: float, library: float):
    """Expected counts of one bulk sample's mixture and its true fractions of cells.

    Fractions: a Dirichlet draw around the scRNA demo's composition of the site, the lymphoid
    types then scaled by 2**infiltration (the bulk model's immune infiltration, lower in LM).
    """
    from organomics.demo import scrna

    mean = np.array(list(scrna.COMPOSITION[role].values()))
    fractions = mixture.rng.dirichlet(mean * 300 + 1e-3)
    types = list(scrna.COMPOSITION[role])
    scale = np.where(np.isin(types, INFILTRATING), 2.0**infiltration, 1.0)
    fractions = fractions * scale / (fractions * scale).sum()
    truth = pd.Series(fractions, index=types)
    mixture.truth[sample] = truth
    profile = mixture.profiles[role][types]
    return library * MIXTURE_CELLS * profile.to_numpy() @ fractions


def _gmt(path: Path) -> dict[str, list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return {f[1]: f[2:] for f in (line.rstrip("\n").split("\t") for line in handle)}


def gene_universe(n_genes: int, rng: np.random.Generator) -> tuple[list[str], set[str]]:
    """n_genes real symbols: the study genes and sets first, then random GO BP genes.

    Returns (symbols in a fixed order, the immune symbols that are lower in LM).
    """
    go = _gmt(GO_GMT)
    signatures = _gmt(SIGNATURES)
    immune = set(STUDY_GENES) - {"CD274"}
    for term in STUDY_TERMS:
        immune.update(go[term])
    for name in LOWER_IN_LM_SIGNATURES:
        immune.update(signatures.get(name, []))
    required = sorted(immune) + sorted(set(STUDY_GENES) - immune) + list(LIVER_GENES + LUNG_GENES)
    for genes in signatures.values():
        required += [g for g in genes if g not in required]
    required = list(dict.fromkeys(required))
    pool = sorted({g for genes in go.values() for g in genes} - set(required))
    n_extra = max(0, n_genes - len(required))
    extra = list(rng.choice(pool, size=min(n_extra, len(pool)), replace=False))
    if n_extra > len(pool):
        # Benchmark sizes (20,000 genes) need symbols beyond the GO-annotated genes.
        table = pd.read_csv(SYMBOLS, sep="\t", usecols=["symbol"])["symbol"]
        others = sorted(set(table) - set(required) - set(pool))
        extra += list(rng.choice(others, size=min(n_extra - len(pool), len(others)), replace=False))
    return required + sorted(extra), immune


def simulate_counts(
    samples: list[tuple[str, str, str]],
    n_genes: int,
    rng: np.random.Generator,
    reference: str = "PL",
    compare: str = "LM",
    mixture: Mixture | None = None,
) -> pd.DataFrame:
    """Genes x samples NB counts. samples: (sample, patient, site).

    Model: log mean = gene baseline + patient effect (shared by the patient's samples) + site
    effect; immune genes also follow a per-sample infiltration score that is ~1.2 log2 units
    lower in LM, so CD8A/LCK/ICOS and the antigen presentation / NK / TCR genes fall in LM.
    Dispersion follows DESeq2's usual trend (0.05 + 1/mean).

    With a `mixture`, the genes of its profiles (but KEEP_BULK_MODEL) get instead NB counts
    around a mixture of the cell types (`mix`, with the sample's infiltration and library
    size), drawn from the mixture's own stream so that every other gene keeps its counts; the
    true fractions go to mixture.truth.
    """
    symbols, immune = gene_universe(n_genes, rng)
    n = len(symbols)
    baseline = rng.lognormal(mean=5.0, sigma=1.8, size=n).clip(0.5, 2e5)
    is_immune = np.isin(symbols, sorted(immune))
    baseline[is_immune] = rng.lognormal(mean=5.5, sigma=1.0, size=is_immune.sum())
    patients = sorted({patient for _, patient, _ in samples})
    patient_effect = {p: rng.normal(0, 0.25, size=n) for p in patients}
    patient_immune = {p: rng.normal(0, 0.5) for p in patients}
    # A few hundred background genes change with site, both directions (tissue of origin).
    site_effect = np.zeros(n)
    background = np.flatnonzero(~is_immune)
    changed = rng.choice(background, size=min(len(background), max(10, n // 15)), replace=False)
    site_effect[changed] = rng.normal(0, 0.9, size=len(changed))
    site_effect[np.isin(symbols, LIVER_GENES)] = 3.0
    site_effect[np.isin(symbols, LUNG_GENES)] = -2.5
    # About 70% of the pathway genes follow infiltration (the study genes always do), so the
    # GO sets are enriched without every member changing.
    follows = is_immune & ((rng.uniform(size=n) < 0.7) | np.isin(symbols, STUDY_GENES))
    immune_loading = np.where(follows, rng.uniform(0.5, 1.2, size=n), 0.0)
    counts = {}
    for sample, patient, site in samples:
        infiltration = patient_immune[patient] + rng.normal(0, 0.3)
        if site == compare:
            infiltration -= 1.2
        log2_mu = (
            np.log2(baseline)
            + patient_effect[patient]
            + (site_effect if site == compare else 0.0)
            + immune_loading * infiltration
        )
        library = rng.lognormal(0, 0.25)
        mu = library * 2.0**log2_mu
        dispersion = 0.05 + 1.0 / mu
        size = 1.0 / dispersion
        counts[sample] = rng.negative_binomial(size, size / (size + mu))
        if mixture is not None:
            role = "compare" if site == compare else "reference"
            panel = mixture.profiles[role].index
            rows = np.flatnonzero(np.isin(symbols, panel) & ~np.isin(symbols, KEEP_BULK_MODEL))
            expected = pd.Series(mix(mixture, sample, role, infiltration, library), index=panel)
            mu_mix = expected.reindex(np.asarray(symbols)[rows]).to_numpy()
            size_mix = 1.0 / (0.05 + 1.0 / np.maximum(mu_mix, 1e-9))
            counts[sample][rows] = mixture.rng.negative_binomial(
                size_mix, size_mix / (size_mix + mu_mix)
            )
    matrix = pd.DataFrame(counts, index=pd.Index(symbols, name="gene"))
    return matrix.astype(np.int64)


def write(outdir: Path, prefix: str, cohort) -> tuple[dict[str, dict[str, str]], dict]:
    """Write outdir/rnaseq/counts.tsv.gz; every paired sample and the unpaired one get RNA."""
    folder = Path(outdir) / "rnaseq"
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for patient in cohort.pairs:
        for site in (cohort.reference, cohort.compare):
            samples.append((cohort.sample_id(patient, site), patient, site))
    for sample in cohort.unpaired_samples:
        patient, site = sample.rsplit("_", 1)
        samples.append((sample, patient, site))
    mixture = mixture_profiles(cohort)
    matrix = simulate_counts(
        samples, cohort.n_genes, cohort.rng("rnaseq"), cohort.reference, cohort.compare, mixture
    )
    path = folder / "counts.tsv.gz"
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(matrix.to_csv(sep="\t").encode())
    # The known answer of bulk deconvolution: each sample's fractions of cells.
    truth = pd.DataFrame(mixture.truth).T.rename_axis("sample")
    truth.round(6).to_csv(folder / "mixture_fractions.tsv", sep="\t")
    relative = f"{prefix}/rnaseq/counts.tsv.gz"
    sheet = {sample: {"rna": relative} for sample, _, _ in samples}
    return sheet, {"counts": relative}
