"""Paired differential expression with PyDESeq2 (~ patient + site) and the VST used for QC."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.pairing import site_table
from organomics.rnaseq.counts import check_counts
from organomics.rnaseq.genesets import log_symbols, to_symbols

log = logging.getLogger(__name__)

WARNING_COLUMNS = ["step", "category", "message", "n_genes"]

# PyDESeq2 0.5.4 warnings that say nothing about the fit of this workflow, by category and the
# exact start of the message; every other warning reaches the log and warnings.tsv.
BENIGN_WARNINGS = (
    # train/test leakage note of vst() after iterative size factors: the VST here is blind and
    # has no test set
    (UserWarning, "The size factors were fitted iteratively. They will be re-computed"),
)

# Per-gene convergence flags PyDESeq2 keeps (False = the optimiser did not converge; PyDESeq2
# then falls back to a grid search or keeps the last iterate, without a warning).
CONVERGENCE_FLAGS = {
    "_genewise_converged": "gene-wise dispersion fit did not converge (grid search used)",
    "_MAP_converged": "MAP dispersion fit did not converge (grid search used)",
    "_LFC_converged": "LFC (IRLS) fit did not converge",
}

RESULT_COLUMNS = [
    "gene",
    "baseMean",
    "log2FoldChange",
    "lfcSE",
    "stat",
    "pvalue",
    "padj",
    "log2FoldChange_shrunk",
]
# deseq2_results.tsv: the gene's symbol beside its id
TABLE_COLUMNS = ["gene", "symbol", *RESULT_COLUMNS[1:]]


def paired_samples(
    design: pd.DataFrame, reference: str, compare: str
) -> tuple[pd.DataFrame, list[str]]:
    """The samples the paired model ~ patient + site can use.

    Parameters
    ----------
    design
        sample, patient, site per sample (one sample per patient and site).
    reference, compare
        The two site labels; no other site may appear.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The rows of `design` whose patient has both sites (paired as organomics.pairing says),
        in order; and the sorted ids of the other patients.

    Raises
    ------
    InputError
        For a missing column, a repeated sample, another site, a patient with two samples at
        one site, or a model that cannot be fitted (naming the patients that make it so).
    """
    missing = [column for column in ("sample", "patient", "site") if column not in design.columns]
    if missing:
        raise InputError(None, f"design table lacks column(s) {', '.join(missing)}")
    design = design[["sample", "patient", "site"]].astype(str)
    if design["sample"].duplicated().any():
        duplicated = design["sample"][design["sample"].duplicated()].tolist()
        raise InputError(None, f"duplicated sample ids: {', '.join(duplicated)}")
    other = sorted(set(design["site"]) - {reference, compare})
    if other:
        raise InputError(None, f"sites {other} are neither {reference} nor {compare}")
    twice = design[design.duplicated(["patient", "site"])]
    if len(twice):
        shown = ", ".join(f"{row.patient} ({row.site})" for row in twice.itertuples())
        raise InputError(None, f"more than one sample of a patient at one site: {shown}")
    sites = site_table(design, reference, compare)
    paired = set(sites.loc[sites["paired"], "patient"])
    excluded = sorted(set(design["patient"]) - paired)
    kept = design[design["patient"].isin(paired)].reset_index(drop=True)
    if kept.empty:
        only_ref = sorted(sites.loc[sites[f"sample_{compare}"].eq(""), "patient"])
        only_cmp = sorted(sites.loc[sites[f"sample_{reference}"].eq(""), "patient"])
        raise InputError(
            None,
            "the paired design ~ patient + site is not full rank: no patient has both "
            f"{reference} and {compare} samples ({reference} only: {', '.join(only_ref) or '-'}; "
            f"{compare} only: {', '.join(only_cmp) or '-'})",
        )
    check_full_rank(kept, reference)
    return kept, excluded


def model_matrix(design: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The treatment-coded design matrix of ~ patient + site.

    Parameters
    ----------
    design
        sample, patient, site per sample.
    reference
        The reference site (coded 0).

    Returns
    -------
    pandas.DataFrame
        Samples x (intercept, one column per patient after the first in sorted order, site).
    """
    patients = sorted(design["patient"].unique())
    columns = {"intercept": np.ones(len(design))}
    for patient in patients[1:]:
        columns[f"patient_{patient}"] = (design["patient"] == patient).to_numpy(float)
    columns["site"] = (design["site"] != reference).to_numpy(float)
    # built in one go: a column at a time fragments the frame at hundreds of patients
    return pd.DataFrame(columns, index=design["sample"].to_numpy())


def check_full_rank(design: pd.DataFrame, reference: str) -> None:
    """Check that ~ patient + site can be fitted.

    Parameters
    ----------
    design
        sample, patient, site of the samples to fit.
    reference
        The reference site.

    Raises
    ------
    InputError
        When the model matrix is rank deficient, naming the patients whose removal reduces
        the deficiency (or all of them, when site is confounded with patient).
    """
    matrix = model_matrix(design, reference).to_numpy()
    rank = np.linalg.matrix_rank(matrix)
    if rank == matrix.shape[1]:
        return
    # A patient is to blame if dropping its samples removes a rank deficiency.
    culprits = []
    for patient in sorted(design["patient"].unique()):
        rest = design[design["patient"] != patient]
        if rest.empty:
            continue
        sub = model_matrix(rest, reference).to_numpy()
        if matrix.shape[1] - rank > sub.shape[1] - np.linalg.matrix_rank(sub):
            culprits.append(patient)
    raise InputError(
        None,
        f"the design ~ patient + site is not full rank (rank {rank} of {matrix.shape[1]}); "
        f"patients involved: {', '.join(culprits) or 'all (site is confounded with patient)'}",
    )


def _inference(n_cpus: int):
    from organomics.rnaseq.lean_inference import LeanInference

    return LeanInference(n_cpus=max(1, int(n_cpus)))


def is_benign(category: type[Warning], message: str) -> bool:
    """True for the warnings of :data:`BENIGN_WARNINGS` (exact category and message start).

    Parameters
    ----------
    category
        The warning's class.
    message
        The warning's text.

    Returns
    -------
    bool
        Whether the warning may be dropped.
    """
    return any(
        issubclass(category, known) and message.startswith(start)
        for known, start in BENIGN_WARNINGS
    )


def route_warnings(caught, step: str) -> list[dict]:
    """Log every non-benign caught warning and return them as warnings.tsv rows.

    Parameters
    ----------
    caught
        ``warnings.WarningMessage`` records from ``warnings.catch_warnings(record=True)``.
    step
        The fitting step (e.g. ``"deseq2"``), the rows' first column.

    Returns
    -------
    list of dict
        One row (WARNING_COLUMNS) per distinct warning, n_genes empty.
    """
    rows, seen = [], set()
    for record in caught:
        message = " ".join(str(record.message).split())
        if is_benign(record.category, message) or (record.category, message) in seen:
            continue
        seen.add((record.category, message))
        log.warning("PyDESeq2 (%s) %s: %s", step, record.category.__name__, message)
        rows.append(
            {"step": step, "category": record.category.__name__, "message": message, "n_genes": ""}
        )
    return rows


def convergence_rows(flags: pd.DataFrame, step: str) -> list[dict]:
    """warnings.tsv rows (and log warnings) for genes whose PyDESeq2 fits did not converge.

    Parameters
    ----------
    flags
        Genes x CONVERGENCE_FLAGS columns (boolean, NA for all-zero genes), e.g. ``dds.var``.
    step
        The step name of the rows.

    Returns
    -------
    list of dict
        One row per flag with at least one gene that did not converge (n_genes = how many;
        the message names up to 10 of them).
    """
    rows = []
    for column, what in CONVERGENCE_FLAGS.items():
        if column not in flags.columns:
            continue
        failed = flags.index[flags[column].astype("boolean").eq(False).fillna(False).to_numpy()]
        if len(failed):
            rows.append(_gene_row(step, what, failed))
    return rows


def _gene_row(step: str, what: str, genes) -> dict:
    genes = [str(g) for g in genes]
    shown = ", ".join(genes[:10]) + (" ..." if len(genes) > 10 else "")
    log.warning("PyDESeq2 (%s): %d gene(s): %s: %s", step, len(genes), what, shown)
    message = f"{what}: {shown}"
    return {"step": step, "category": "convergence", "message": message, "n_genes": len(genes)}


class _LogStream(io.TextIOBase):
    """A text stream whose non-empty lines become INFO log records."""

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                log.info("PyDESeq2: %s", line.strip())
        return len(text)


def paired_deseq(
    counts: pd.DataFrame,
    design: pd.DataFrame,
    reference: str,
    compare: str,
    n_cpus: int = 1,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """PyDESeq2 ~ patient + site, Wald test of compare vs reference.

    Patients with one site only are dropped (logged). Cook's outlier handling and independent
    filtering are PyDESeq2's defaults (as DESeq2's). Every PyDESeq2 warning except the known
    benign ones, and every gene whose fit did not converge, is logged and kept for warnings.tsv.

    Parameters
    ----------
    counts
        Genes x samples counts (index = gene id).
    design
        sample, patient, site per sample (:func:`paired_samples` checks it).
    reference, compare
        The two site labels; a positive log2FoldChange is higher in `compare`.
    n_cpus
        Processes for the fits.
    alpha
        padj threshold of independent filtering.

    Returns
    -------
    pandas.DataFrame
        RESULT_COLUMNS, one row per gene in the counts' order; ``log2FoldChange_shrunk`` is the
        apeGLM-prior shrunken LFC of the site coefficient. ``attrs``: ``excluded_patients``
        (sorted), ``samples`` (those fitted) and ``warnings`` (WARNING_COLUMNS rows).

    Raises
    ------
    InputError
        For a design that cannot be fitted, a sample missing from the counts or a bad count.
    """
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats

    kept, excluded = paired_samples(design, reference, compare)
    if excluded:
        log.warning(
            "%d patient(s) have one site only and are excluded from the paired model: %s",
            len(excluded),
            ", ".join(excluded),
        )
    missing = [sample for sample in kept["sample"] if sample not in counts.columns]
    if missing:
        raise InputError(None, f"sample column(s) missing from the counts: {', '.join(missing)}")
    matrix = check_counts(counts[kept["sample"].tolist()])
    metadata = pd.DataFrame(
        {
            "patient": pd.Categorical(kept["patient"], categories=sorted(kept["patient"].unique())),
            "site": pd.Categorical(kept["site"], categories=[reference, compare]),
        },
        index=kept["sample"].to_numpy(),
    )
    log.info(
        "PyDESeq2 ~ patient + site: %d genes, %d samples, %d patients, %s vs %s, %d cpu(s)",
        matrix.shape[0],
        matrix.shape[1],
        metadata["patient"].nunique(),
        compare,
        reference,
        n_cpus,
    )
    inference = _inference(n_cpus)
    # Every PyDESeq2 warning is caught and routed to the log and warnings.tsv (route_warnings);
    # only the known-benign ones (BENIGN_WARNINGS) are dropped.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dds = DeseqDataSet(
            counts=matrix.T.astype(int),
            metadata=metadata,
            design="~ patient + site",
            refit_cooks=True,
            inference=inference,
            quiet=False,
        )
        # PyDESeq2 prints each fitting stage and its time to stderr: keep them in the log,
        # the only sign of progress when hundreds of patients make the fit take an hour
        with contextlib.redirect_stderr(_LogStream()), contextlib.redirect_stdout(_LogStream()):
            dds.deseq2()
        stats = DeseqStats(
            dds, contrast=["site", compare, reference], alpha=alpha, inference=inference, quiet=True
        )
        stats.summary()
        result = stats.results_df.copy()
        coeff = next(c for c in dds.varm["LFC"].columns if c.startswith("site"))
        stats.lfc_shrink(coeff=coeff)
        result["log2FoldChange_shrunk"] = stats.results_df["log2FoldChange"]
    found = route_warnings(caught, "deseq2")
    found += convergence_rows(dds.var, "deseq2")
    shrink = getattr(stats, "_LFC_shrink_converged", None)
    if shrink is not None:
        failed = shrink.index[shrink.astype("boolean").eq(False).fillna(False).to_numpy()]
        if len(failed):
            found.append(_gene_row("deseq2", "LFC shrinkage (apeGLM) did not converge", failed))
    result.index.name = "gene"
    result = result.reset_index()[RESULT_COLUMNS]
    result.attrs["excluded_patients"] = excluded
    result.attrs["samples"] = kept["sample"].tolist()
    result.attrs["warnings"] = found
    n_sig = int((result["padj"] < alpha).sum())
    log.info("%d genes with padj < %g", n_sig, alpha)
    return result


def vst(counts: pd.DataFrame, n_cpus: int = 1) -> pd.DataFrame:
    """Blind variance-stabilising transform (DESeq2 ``vst(blind=TRUE)``).

    Parameters
    ----------
    counts
        Genes x samples counts.
    n_cpus
        Processes for the dispersion fits.

    Returns
    -------
    pandas.DataFrame
        Genes x samples VST values (same index and columns as the counts).
    """
    from pydeseq2.dds import DeseqDataSet

    matrix = check_counts(counts)
    metadata = pd.DataFrame({"group": "all"}, index=matrix.columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dds = DeseqDataSet(
            counts=matrix.T.astype(int),
            metadata=metadata,
            design="~ 1",
            inference=_inference(n_cpus),
            quiet=True,
        )
        dds.vst(use_design=False)
    route_warnings(caught, "vst")
    return pd.DataFrame(
        np.asarray(dds.layers["vst_counts"]).T, index=matrix.index, columns=matrix.columns
    )


def results_table(result: pd.DataFrame, symbols: pd.Series | None) -> pd.DataFrame:
    """deseq2_results.tsv: the results with each gene's symbol, sorted by padj.

    Parameters
    ----------
    result
        :func:`paired_deseq`'s table.
    symbols
        Ensembl id -> symbol (:func:`genesets.read_symbol_table`).

    Returns
    -------
    pandas.DataFrame
        TABLE_COLUMNS, sorted by padj, then p, then gene (missing padj last).
    """
    table = result.copy()
    table.insert(1, "symbol", to_symbols(table["gene"], symbols).to_numpy())
    log_symbols(table["gene"], table["symbol"])
    table = table.sort_values(["padj", "pvalue", "gene"], na_position="last")
    return table[TABLE_COLUMNS]


def unpaired_samples(
    design: pd.DataFrame, excluded_patients: list[str], reference: str, compare: str
) -> tuple[pd.DataFrame, Exclusions]:
    """The samples left out of the paired model (deseq2_excluded.tsv and step ``deseq2``).

    Parameters
    ----------
    design
        sample, patient, site of every RNA sample.
    excluded_patients
        ``result.attrs["excluded_patients"]`` of :func:`paired_deseq`.
    reference, compare
        The two site labels (named in the reason).

    Returns
    -------
    (pandas.DataFrame, Exclusions)
        sample, patient, site, reason of each left-out sample; the same as exclusions.
    """
    reason = f"patient lacks a {reference}/{compare} pair"
    excluded = design[design["patient"].isin(excluded_patients)].assign(reason=reason)
    exclusions = Exclusions("deseq2")
    for row in excluded.itertuples():
        exclusions.add("sample", row.sample, reason, patient=row.patient, site=row.site)
    return excluded, exclusions


def warnings_table(result: pd.DataFrame) -> pd.DataFrame:
    """warnings.tsv: PyDESeq2's warnings and non-converged fits of :func:`paired_deseq`.

    Parameters
    ----------
    result
        :func:`paired_deseq`'s table (its ``attrs["warnings"]``).

    Returns
    -------
    pandas.DataFrame
        WARNING_COLUMNS, header only when there were none.
    """
    return pd.DataFrame(result.attrs.get("warnings", []), columns=WARNING_COLUMNS)
