"""The cohort job: QC'd samples in, integrated + annotated + scored AnnData and tables out.

Memory: the job never holds the whole cells x genes matrix. Pass 1 reads one sample at a time
for the per-gene statistics (seurat_v3 variances, means); pass 2 keeps only the analysed genes
(HVGs, markers, signature and control genes); the output file is written a sample at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from organomics.errors import InputError
from organomics.pairing import paired_patients
from organomics.scrna import annotate, hvg, integrate, scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CohortParams:
    """Settings of the cohort job: config scrna.integration, scrna.comparison.min_cells and
    scrna.seed (the schema holds the defaults)."""

    SCHEMA_SECTION: ClassVar[str] = "scrna"

    integration: integrate.IntegrationParams = field(default_factory=integrate.IntegrationParams)
    min_cells: int = field(default=10, metadata={"schema_key": "scrna.comparison.min_cells"})
    seed: int = 0


def sample_table(records: Sequence[dict]) -> pd.DataFrame:
    """sample, patient, site for every sample of the sheet, in sheet order.

    Parameters
    ----------
    records
        ``{"sample", "patient", "site"}`` per sample (the rule's params).

    Returns
    -------
    pandas.DataFrame
        One string row per sample.
    """
    return pd.DataFrame(list(records), columns=scores.SAMPLE_COLUMNS).astype(str)


@dataclass(frozen=True)
class SampleFile:
    """One QC'd per-sample h5ad: where it is, whose it is, how many cells and which genes."""

    path: Path
    sample: str
    patient: str
    site: str
    n_cells: int
    genes: pd.Index
    gene_ids: pd.Series | None = None  # var["gene_ids"] by gene, when the sample has ids


def scan_samples(
    paths: Sequence[str | Path], records: Sequence[dict]
) -> tuple[list[SampleFile], pd.Index]:
    """Headers of the per-sample files (no matrix read) and the genes every sample measures.

    Samples without cells after QC are reported and skipped.

    Parameters
    ----------
    paths
        The QC'd per-sample h5ad files.
    records
        ``{"sample", "patient", "site"}`` per sample.

    Returns
    -------
    (list of SampleFile, pandas.Index)
        The samples with cells, and the genes they all measure (first sample's order).

    Raises
    ------
    InputError
        When no sample has cells after QC.
    """
    import h5py
    from anndata.io import read_elem

    info = sample_table(records).set_index("sample")
    samples = []
    for path in paths:
        with h5py.File(path, "r") as f:
            var = read_elem(f["var"])
            genes = var.index
            x = f["X"]
            shape = tuple(x.attrs["shape"]) if "shape" in x.attrs else x.shape
            sample = str(read_elem(f["uns"]).get("sample", "")) if "uns" in f else ""
        sample = sample or Path(path).stem
        if shape[0] == 0:
            log.warning("%s: no cells after QC; the cohort continues without it", sample)
            continue
        row = info.loc[sample]
        ids = var["gene_ids"].astype(str) if "gene_ids" in var else None
        samples.append(
            SampleFile(Path(path), sample, row["patient"], row["site"], shape[0], genes, ids)
        )
    if not samples:
        raise InputError(None, "no sample has cells after QC (see results/scrna/qc.tsv)")
    shared = samples[0].genes
    for s in samples[1:]:
        shared = shared.intersection(s.genes, sort=False)
    if len(shared) < max(len(s.genes) for s in samples):
        log.warning("genes not measured in every sample are dropped; %d genes kept", len(shared))
    check_gene_ids(samples, shared)
    return samples, shared


def unversioned(ids: pd.Series) -> pd.Series:
    """Ensembl ids without their version (ENSG00000002586.20_PAR_Y -> ENSG00000002586_PAR_Y).

    Parameters
    ----------
    ids
        Gene ids (strings).

    Returns
    -------
    pandas.Series
        The ids with ``.<digits>`` removed before the end or an ``_`` suffix.
    """
    return ids.str.replace(r"\.\d+(?=$|_)", "", regex=True)


def check_gene_ids(samples: Sequence[SampleFile], genes: pd.Index) -> None:
    """Warn when one gene name stands for different ids in different samples.

    Samples are joined by symbol; two references (or symbols made unique in another order,
    "CD99-1") can give one name to different genes. Versions alone may differ (GENCODE
    releases); the warning names the first few names whose unversioned ids disagree.

    Parameters
    ----------
    samples
        The scanned samples (`scan_samples`); those without gene ids are skipped.
    genes
        The cohort's shared genes.
    """
    with_ids = [s for s in samples if s.gene_ids is not None]
    if len(with_ids) < 2:
        return
    first = unversioned(with_ids[0].gene_ids.reindex(genes))
    for sample in with_ids[1:]:
        other = unversioned(sample.gene_ids.reindex(genes))
        differ = genes[(first != other).to_numpy()]
        if len(differ):
            examples = ", ".join(f"{g} ({first[g]} / {other[g]})" for g in differ[:5])
            log.warning(
                "%d gene name(s) stand for other gene ids in %s than in %s: %s; the samples "
                "come from different references or annotations",
                len(differ), sample.sample, with_ids[0].sample, examples,
            )  # fmt: skip


def read_counts(sample: SampleFile, genes: pd.Index) -> ad.AnnData:
    """One sample's counts on the cohort's genes, with its obs.

    Parameters
    ----------
    sample
        The scanned sample.
    genes
        The cohort's genes (columns, in this order).

    Returns
    -------
    anndata.AnnData
        float32 CSR counts with sorted indices; obs with ``sample``, ``patient``, ``site``;
        var ``gene_ids`` when the file has them.
    """
    part = ad.read_h5ad(sample.path)
    x = sp.csr_matrix(part.X, dtype=np.float32)
    if not part.var_names.equals(genes):
        x = x[:, part.var_names.get_indexer(genes)]
    x.sum_duplicates()
    obs = part.obs.copy()
    obs["sample"], obs["patient"], obs["site"] = sample.sample, sample.patient, sample.site
    var = pd.DataFrame(index=genes)
    if "gene_ids" in part.var:
        var["gene_ids"] = part.var["gene_ids"].reindex(genes).to_numpy()
    return ad.AnnData(X=x, obs=obs, var=var)


@dataclass
class GeneStatistics:
    """Per-gene statistics of the cohort gathered one sample at a time (pass 1 of the job)."""

    genes: pd.Index
    norm_variances: list[np.ndarray] = field(default_factory=list)  # seurat_v3, one per sample
    count_sums: np.ndarray = field(init=False)  # float64 sums: exact integer counts
    count_squares: np.ndarray = field(init=False)
    lognorm_sums: np.ndarray = field(init=False)
    n_obs: int = 0
    gene_ids: pd.Series | None = None

    def __post_init__(self) -> None:
        self.count_sums, self.count_squares, self.lognorm_sums = np.zeros((3, len(self.genes)))

    def add(self, counts: ad.AnnData, name: str) -> None:
        """One sample's counts (normalised in place afterwards)."""
        self.norm_variances.append(hvg.batch_variances(counts, name))
        self.count_sums += column_sums(counts.X)
        self.count_squares += column_sums(counts.X.multiply(counts.X))
        integrate.normalise(counts)
        self.lognorm_sums += column_sums(counts.X)
        self.n_obs += counts.n_obs
        if self.gene_ids is None and "gene_ids" in counts.var:
            self.gene_ids = counts.var["gene_ids"]

    def hvg_table(self, n_top_genes: int) -> pd.DataFrame:
        """Every gene's seurat_v3 HVG columns over the samples (hvg.combine), with means."""
        n_top = min(n_top_genes, len(self.genes))
        return hvg.combine(np.vstack(self.norm_variances), self.genes, n_top,
                           self.count_sums, self.count_squares, self.n_obs)  # fmt: skip

    def lognorm_means(self) -> pd.Series:
        """Mean log-normalised expression of every gene over all cells (score_genes' pool)."""
        return pd.Series(self.lognorm_sums / self.n_obs, index=self.genes)


def column_sums(x) -> np.ndarray:
    """Column sums of a (sparse) matrix in float64, so that integer counts stay exact.

    Parameters
    ----------
    x
        A dense or sparse cells x genes matrix.

    Returns
    -------
    numpy.ndarray
        One sum per column.
    """
    return np.asarray(x.sum(axis=0, dtype=np.float64)).ravel()


def gene_statistics(samples: Sequence[SampleFile], genes: pd.Index) -> GeneStatistics:
    """Pass 1: seurat_v3 variances per sample, count moments and log-normalised sums per gene.

    Parameters
    ----------
    samples
        The scanned samples.
    genes
        The cohort's genes.

    Returns
    -------
    GeneStatistics
        The statistics over every cell of every sample.
    """
    stats = GeneStatistics(genes)
    for sample in samples:
        part = read_counts(sample, genes)
        stats.add(part, sample.sample)
        log.info("pass 1: %s, %d cells", sample.sample, part.n_obs)
    return stats


def analysed_genes(
    hvgs: pd.DataFrame, markers: annotate.Markers, controls: dict[str, tuple]
) -> pd.Index:
    """The genes the analysis reads: HVGs, marker and state genes, signature and control genes.

    Parameters
    ----------
    hvgs
        Every gene's HVG table (``highly_variable`` column), indexed by gene.
    markers
        The marker file's content.
    controls
        Per signature, its measured genes and its control genes.

    Returns
    -------
    pandas.Index
        The analysed genes, in `hvgs` order.
    """
    wanted = set(hvgs.index[hvgs["highly_variable"].to_numpy(dtype=bool)])
    wanted |= {g for spec in markers.compartments.values() for side in spec.values() for g in side}
    wanted |= {g for states in markers.states.values() for gs in states.values() for g in gs}
    for genes, control in controls.values():
        wanted |= set(genes) | set(control)
    return hvgs.index[hvgs.index.isin(list(wanted))]


def load_normalised(samples: Sequence[SampleFile], genes: pd.Index, keep: pd.Index) -> ad.AnnData:
    """Pass 2: the cohort's log-normalised values on the analysed genes only, with obs.

    Each sample is normalised on all its genes (per-cell totals), then cut to `keep`: memory
    grows with the analysed genes' non-zeros, not with the whole matrix.

    Parameters
    ----------
    samples
        The scanned samples.
    genes
        The cohort's genes.
    keep
        The analysed genes (`analysed_genes`).

    Returns
    -------
    anndata.AnnData
        Cells of every sample x `keep`, float32 CSR; obs ``sample``, ``patient``, ``site`` as
        categories, cell names made unique.
    """
    columns = genes.get_indexer(keep)
    pieces, obs_parts = [], []
    for sample in samples:
        part = read_counts(sample, genes)
        integrate.normalise(part)
        pieces.append(sp.csr_matrix(part.X[:, columns], dtype=np.float32))
        obs_parts.append(part.obs)
        del part
    x = sp.vstack(pieces, format="csr")
    del pieces
    obs = pd.concat(obs_parts)
    for column in ("sample", "patient", "site"):
        obs[column] = obs[column].astype(str).astype("category")
    adata = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=keep))
    if not adata.obs_names.is_unique:
        adata.obs_names_make_unique()
    log.info("%d cells x %d analysed genes from %d samples", *adata.shape, len(samples))
    return adata


@dataclass
class LoadedCohort:
    """The cohort in memory on its analysed genes, and what is needed to write every gene."""

    adata: ad.AnnData  # log-normalised X on the analysed genes, HVG columns in var
    var: pd.DataFrame  # every gene: gene_ids and the HVG columns
    gene_means: pd.Series  # every gene's mean log-normalised expression (signature controls)
    controls: dict[str, tuple]  # per signature: (its measured genes, its control genes)
    samples: list[SampleFile]

    def blocks(self) -> Iterator[tuple]:
        """(counts, log-normalised values) on every gene, one sample at a time, in obs order."""
        for sample in self.samples:
            part = read_counts(sample, self.var.index)
            counts = part.X.copy()
            integrate.normalise(part)
            yield counts, part.X


def load(
    paths: Sequence[str | Path],
    records: Sequence[dict],
    markers: annotate.Markers,
    signatures: list[scores.Signature],
    params: CohortParams,
) -> LoadedCohort:
    """Passes 1 and 2: HVGs and gene means from every gene, then the analysed genes in memory.

    Parameters
    ----------
    paths
        The QC'd per-sample h5ad files.
    records
        ``{"sample", "patient", "site"}`` per sample.
    markers
        The marker file's content.
    signatures
        The signatures (their control genes are drawn here, with ``params.seed``).
    params
        The cohort settings (``integration.n_top_genes``, ``seed``).

    Returns
    -------
    LoadedCohort
        The analysed genes in memory and what is needed to write every gene.
    """
    samples, genes = scan_samples(paths, records)
    stats = gene_statistics(samples, genes)
    hvgs = stats.hvg_table(params.integration.n_top_genes)
    gene_means = stats.lognorm_means()
    controls = scores.score_controls(signatures, gene_means, params.seed)
    keep = analysed_genes(hvgs, markers, controls)
    log.info("%d HVGs; %d of %d genes analysed", hvgs["highly_variable"].sum(), len(keep),
             len(genes))  # fmt: skip
    adata = load_normalised(samples, genes, keep)
    for column in hvgs:
        adata.var[column] = hvgs.loc[keep, column].to_numpy()
    adata.uns["log1p"] = {"base": None}  # X is natural-log log1p, as scanpy records it
    var = hvgs if stats.gene_ids is None else pd.concat([stats.gene_ids, hvgs], axis=1)
    return LoadedCohort(adata, var, gene_means, controls, samples)


def run(
    adata: ad.AnnData,
    markers: annotate.Markers,
    signatures: list[scores.Signature],
    params: CohortParams,
    controls: dict[str, tuple] | None = None,
) -> tuple[list[str], pd.DataFrame]:
    """Embed, annotate and score log-normalised X (HVGs in var) in place.

    Parameters
    ----------
    adata
        The loaded cohort (`LoadedCohort.adata`).
    markers
        The marker file's content.
    signatures
        The signatures to score.
    params
        The cohort settings.
    controls
        The signatures' control genes (`LoadedCohort.controls`), drawn from every gene's mean
        when X holds only the analysed genes; None draws them from X.

    Returns
    -------
    (list of str, pandas.DataFrame)
        The signature names scored, and the cluster table (cluster, n_cells, cell_type and
        each compartment's marker score) that shows why each cluster got its label.
    """
    integrate.embed(adata, params.integration)
    cluster_scores = annotate.annotate_compartments(adata, markers)
    annotate.annotate_states(
        adata,
        markers,
        resolution=params.integration.state_resolution,
        seed=params.seed,
        n_neighbors=params.integration.n_neighbors,
        harmony_key=params.integration.harmony_key,
    )
    scored = scores.score_signatures(adata, signatures, params.seed, controls)
    report_missing(adata.obs["cell_type"], markers, signatures, scored)
    for column in ("sample", "patient", "site"):
        adata.obs[column] = adata.obs[column].astype("category")
    adata.uns["signatures"] = scored
    adata.uns["cell_type_order"] = markers.labels
    clusters = adata.obs["leiden"].astype(str)
    table = cluster_scores.round(4)
    table.insert(0, "cell_type", annotate.best_label(cluster_scores, markers.min_score))
    table.insert(0, "n_cells", clusters.value_counts().reindex(table.index).to_numpy())
    table.index.name = "cluster"
    table = table.reset_index()
    table = table.sort_values("cluster", key=lambda c: c.astype(int)).reset_index(drop=True)
    return scored, table


def report_missing(
    cell_types: pd.Series,
    markers: annotate.Markers,
    signatures: Sequence[scores.Signature],
    scored: Sequence[str],
) -> None:
    """Say in the log what the run could not find: compartments without cells, unscored
    signatures (a run on a gene panel or one chromosome still ends, with its tables).

    Parameters
    ----------
    cell_types
        Each cell's annotated type.
    markers
        The marker file's content.
    signatures
        Every configured signature.
    scored
        The names of the signatures that were scored.
    """
    found = set(cell_types.astype(str))
    absent = [c for c in markers.compartments if c not in found]
    if absent == list(markers.compartments):
        log.warning("no cluster matches any compartment: every cell is '%s'", annotate.OTHER)
    elif absent:
        log.warning("no cells of %s found (zero fractions in cell_types.tsv)", ", ".join(absent))
    unscored = [s.name for s in signatures if s.name not in scored]
    if unscored:
        log.warning(
            "signature(s) %s not scored (no gene measured): not in signature_scores.tsv and "
            "site_comparison.tsv",
            ", ".join(unscored),
        )


def tables(
    obs: pd.DataFrame,
    labels: list[str],
    signatures: list[scores.Signature],
    scored: list[str],
    records: Sequence[dict],
    reference: str,
    compare: str,
    min_cells: int,
    exclusions=None,
    simultaneous: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The cohort tables from annotated obs.

    Samples without cells after QC are left out of every table (qc.tsv and the qc step's
    exclusions report them).

    Parameters
    ----------
    obs
        The annotated cells' obs (sample, patient, site, cell_type, cell_state, scores).
    labels
        Cell types in order (compartments, then ``other``).
    signatures
        Every configured signature.
    scored
        The names of the signatures that were scored.
    records
        ``{"sample", "patient", "site"}`` per sample of the sheet.
    reference, compare
        The two site labels.
    min_cells
        comparison.min_cells: a sample's mean score enters the paired tests from this many
        cells of the cell type.
    exclusions
        organomics.excluded.Exclusions receiving the samples left out of the paired tests
        (unpaired samples, cell types below min_cells); None records nothing.
    simultaneous
        See `organomics.scrna.scores.site_comparison`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``cell_types``, ``cell_states``, ``signature_scores`` and ``site_comparison``.
    """
    present = set(obs["sample"].astype(str))
    samples = sample_table(records)
    excluded = samples.loc[~samples["sample"].isin(present), "sample"].tolist()
    if excluded:
        log.warning("samples without cells after QC, not in the cohort: %s", ", ".join(excluded))
    samples = samples[samples["sample"].isin(present)]
    cell_types = scores.composition(obs, labels, samples)
    cell_states = scores.state_composition(obs)
    signature_scores = scores.mean_scores(obs, scored)
    wanted = [s for s in signatures if s.name in scored]
    comparison = scores.site_comparison(
        signature_scores, cell_types, wanted, reference, compare, min_cells, simultaneous
    )
    if exclusions is not None:
        exclude_from_tests(samples, signature_scores, wanted, reference, compare, min_cells,
                           exclusions)  # fmt: skip
    return {
        "cell_types": cell_types,
        "cell_states": cell_states,
        "signature_scores": signature_scores,
        "site_comparison": comparison,
    }


def exclude_from_tests(
    samples: pd.DataFrame,
    signature_scores: pd.DataFrame,
    signatures: Sequence[scores.Signature],
    reference: str,
    compare: str,
    min_cells: int,
    exclusions,
) -> None:
    """Record what the paired site tests leave out: unpaired samples, cell types below min_cells.

    Parameters
    ----------
    samples
        sample, patient, site of the samples with cells.
    signature_scores
        signature_scores.tsv (n_cells per sample, cell type and signature).
    signatures
        The scored signatures (their cell_types restrict what is compared).
    reference, compare
        Site labels.
    min_cells
        comparison.min_cells.
    exclusions
        organomics.excluded.Exclusions of the step.
    """
    paired = paired_patients(samples, reference, compare)
    for _, row in samples.iterrows():
        if row["patient"] not in paired:
            other = compare if row["site"] == reference else reference
            exclusions.add(
                "sample",
                row["sample"],
                f"unpaired: patient {row['patient']} has no {other} sample with cells; "
                "not in the paired site tests (listed in cell_types.tsv, signature_scores.tsv)",
                row["patient"],
                row["site"],
            )
    compared = set()
    for signature in signatures:
        rows = signature_scores[signature_scores["signature"] == signature.name]
        if signature.cell_types is not None:
            rows = rows[rows["cell_type"].isin(signature.cell_types)]
        compared |= set(map(tuple, rows[["sample", "cell_type"]].to_numpy()))
    cells = signature_scores.drop_duplicates(["sample", "cell_type"]).set_index(
        ["sample", "cell_type"]
    )
    for key in sorted(compared):
        n = int(cells.loc[key, "n_cells"])
        if n < min_cells:
            exclusions.add(
                "sample cell type",
                f"{key[0]} {key[1]}",
                f"{n} cell(s) < comparison.min_cells {min_cells}: its mean signature scores "
                "are not in the paired tests",
                cells.loc[key, "patient"],
                cells.loc[key, "site"],
            )
