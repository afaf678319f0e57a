"""Demo bulk RNA layer: negative-binomial counts (real symbols) with the study's LM immune loss."""

from __future__ import annotations

import gzip
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
) -> pd.DataFrame:
    """Genes x samples NB counts. samples: (sample, patient, site).

    Model: log mean = gene baseline + patient effect (shared by the patient's samples) + site
    effect; immune genes also follow a per-sample infiltration score that is ~1.2 log2 units
    lower in LM, so CD8A/LCK/ICOS and the antigen presentation / NK / TCR genes fall in LM.
    Dispersion follows DESeq2's usual trend (0.05 + 1/mean).
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
    matrix = simulate_counts(
        samples, cohort.n_genes, cohort.rng("rnaseq"), cohort.reference, cohort.compare
    )
    path = folder / "counts.tsv.gz"
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(matrix.to_csv(sep="\t").encode())
    relative = f"{prefix}/rnaseq/counts.tsv.gz"
    sheet = {sample: {"rna": relative} for sample, _, _ in samples}
    return sheet, {"counts": relative}
