"""Bulk RNA deconvolution: NNLS cell fractions on a scRNA reference, and marker-mean scores."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import nnls

from organomics.errors import InputError
from organomics.rnaseq.genesets import ENSEMBL, to_symbols
from organomics.rnaseq.qc import normalized, size_factors
from organomics.stats import paired_site_comparison, subset_all
from organomics.tables import read_table

log = logging.getLogger(__name__)

COLUMNS = ["sample", "method", "cell_type", "value", "value_type"]
SCRNA_METHOD = "scrna_reference"
MARKER_METHOD = "mcp_counter"
REFERENCE_INDEX = ["gene", "gene_id"]


def reference_profiles(
    obs: pd.DataFrame,
    genes: pd.Index,
    blocks: Iterable[tuple[int, sp.spmatrix]],
    gene_ids: pd.Series | None = None,
    min_cells: int = 10,
    exclude: Sequence[str] = ("other",),
) -> tuple[pd.DataFrame, pd.Series]:
    """Mean raw counts per cell of each annotated cell type, over the whole cohort.

    Parameters
    ----------
    obs
        The cohort's cells with ``sample`` and ``cell_type`` (results/scrna/adata.h5ad obs).
    genes
        The genes (columns of the blocks), as the scRNA branch names them (symbols).
    blocks
        (first row, raw counts of the following rows) covering `obs`
        (``organomics.scrna.store.iter_rows(path, "layers/counts")``).
    gene_ids
        Ensembl id per gene (the h5ad's var ``gene_ids``), kept for matching bulk Ensembl ids.
    min_cells
        Cell types with fewer annotated cells are left out: their mean is too noisy.
    exclude
        Labels that are not a cell type (the annotation's unassigned ``other``).

    Returns
    -------
    (pandas.DataFrame, pandas.Series)
        The profiles: ``gene`` (and ``gene_id``) columns then one column per cell type, in
        label order; and the number of cells per cell type (left-out types included).
    """
    from organomics.scrna.pseudobulk import aggregate

    summed, groups = aggregate(obs, genes, blocks)
    per_type = summed.groupby(groups["cell_type"].to_numpy()).sum()
    n_cells = groups.groupby("cell_type")["n_cells"].sum().rename("n_cells")
    kept = [
        cell_type
        for cell_type in n_cells.index
        if cell_type not in set(exclude) and n_cells[cell_type] >= min_cells
    ]
    dropped = sorted(set(n_cells.index) - set(kept) - set(exclude))
    if dropped:
        log.warning(
            "cell types with fewer than %d cells left out of the reference: %s",
            min_cells,
            ", ".join(f"{c} ({n_cells[c]})" for c in dropped),
        )
    # Mean per cell: the NNLS coefficients are then numbers of cells, not of transcripts.
    means = per_type.loc[kept].T.div(n_cells[kept].to_numpy(), axis=1)
    profiles = pd.DataFrame({"gene": [str(g) for g in genes]})
    if gene_ids is not None:
        profiles["gene_id"] = pd.Series(gene_ids).astype(str).to_numpy()
    for cell_type in kept:
        profiles[cell_type] = means[cell_type].to_numpy()
    return profiles, n_cells


def read_reference(path: str | Path) -> pd.DataFrame:
    """A reference profile table (``gene``, optional ``gene_id``, one column per cell type).

    Parameters
    ----------
    path
        The table (results/rnaseq/scrna_reference.tsv, or a user's own of the same shape).

    Returns
    -------
    pandas.DataFrame
        As read, cell-type columns as float.

    Raises
    ------
    InputError
        No ``gene`` column, no cell-type column, or a negative or missing mean.
    """
    table = read_table(path, required=["gene"], dtype={"gene": str, "gene_id": str})
    types = [c for c in table.columns if c not in REFERENCE_INDEX]
    if not types:
        raise InputError(path, "no cell-type column besides gene/gene_id", row=1)
    values = table[types].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.to_numpy().any():
        row, column = np.argwhere(bad.to_numpy())[0]
        raise InputError(
            path,
            "mean counts must be non-negative numbers",
            row=int(row) + 2,
            column=types[column],
        )
    table[types] = values.astype(float)
    return table


def _unversioned(ids: Iterable[str]) -> pd.Index:
    return pd.Index([str(i).split(".")[0] for i in ids])


def match_genes(
    bulk: pd.DataFrame, reference: pd.DataFrame, symbols: pd.Series | None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Put the bulk counts and the reference on the same genes.

    Ensembl ids are matched when both sides have them (versions stripped); otherwise symbols,
    the bulk's Ensembl ids translated with the RNA branch's table. Genes that match twice keep
    their first row.

    Parameters
    ----------
    bulk
        Genes (index: ids as in counts.tsv.gz) x samples raw counts.
    reference
        `reference_profiles` / `read_reference` table.
    symbols
        Ensembl id -> symbol (config ``rnaseq.symbols``), for Ensembl-id bulk matrices.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, str)
        Bulk counts and reference (genes x cell types) on the shared genes, same order, and
        how they were matched (``Ensembl id`` or ``symbol``).
    """
    types = [c for c in reference.columns if c not in REFERENCE_INDEX]
    bulk_ensembl = bulk.index.astype(str).str.match(ENSEMBL.pattern)
    if "gene_id" in reference and bulk_ensembl.all():
        ref_ids = reference["gene_id"].astype(str)
        if ref_ids.str.match(ENSEMBL.pattern).any():
            bulk_keys, ref_keys, how = _unversioned(bulk.index), _unversioned(ref_ids), "Ensembl id"
        else:
            bulk_keys = pd.Index(to_symbols(bulk.index, symbols).to_numpy())
            ref_keys, how = pd.Index(reference["gene"].astype(str)), "symbol"
    else:
        bulk_keys = pd.Index(to_symbols(bulk.index, symbols).to_numpy())
        ref_keys, how = pd.Index(reference["gene"].astype(str)), "symbol"
    ref = pd.DataFrame(reference[types].to_numpy(), index=ref_keys, columns=types)
    ref = ref[(ref.index != "") & ~ref.index.duplicated()]
    keyed = pd.DataFrame(bulk.to_numpy(), index=bulk_keys, columns=bulk.columns)
    keyed = keyed[(keyed.index != "") & ~keyed.index.duplicated()]
    shared = keyed.index.intersection(ref.index, sort=False)
    return keyed.loc[shared], ref.loc[shared], how


def nnls_fractions(bulk: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Cell fractions of each bulk sample by non-negative least squares on raw counts.

    bulk[:, s] ~ reference @ x with x >= 0. The reference holds mean counts per cell, so x is
    a number of cells of each type (up to the bulk library's scale); fractions of cells are
    x / sum(x). Dividing by each type's total mRNA is not needed: it is already in the means.

    Parameters
    ----------
    bulk
        Genes x samples counts, on the reference's genes (`match_genes`).
    reference
        Genes x cell types mean counts per cell.

    Returns
    -------
    pandas.DataFrame
        Samples (index) x cell types fractions summing to 1, NaN for a sample whose fit is all
        zero; column ``relative_residual`` (||b - Ax|| / ||b||) says how well it fits.
    """
    a = reference.to_numpy(dtype=float)
    rows = {}
    for sample in bulk.columns:
        b = bulk[sample].to_numpy(dtype=float)
        x, residual = nnls(a, b)
        total = x.sum()
        fractions = x / total if total > 0 else np.full(len(x), np.nan)
        norm = np.linalg.norm(b)
        rows[sample] = [*fractions, residual / norm if norm > 0 else np.nan]
    columns = [*reference.columns, "relative_residual"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("sample")


def read_markers(path: str | Path) -> dict[str, list[str]]:
    """Marker genes per cell population (TSV: ``cell_population``, ``gene``; others ignored).

    Parameters
    ----------
    path
        The marker table (config ``rnaseq.deconvolution.markers``).

    Returns
    -------
    dict
        Population -> marker symbols, populations in file order.

    Raises
    ------
    InputError
        A row without population or gene.
    """
    table = read_table(path, required=["cell_population", "gene"], dtype=str)
    for column in ("cell_population", "gene"):
        empty = table[column].fillna("").str.strip().eq("")
        if empty.any():
            raise InputError(path, "empty cell", row=int(empty.idxmax()) + 2, column=column)
    markers: dict[str, list[str]] = {}
    for population, gene in zip(table["cell_population"], table["gene"], strict=True):
        markers.setdefault(population.strip(), []).append(gene.strip())
    return markers


def log_expression(counts: pd.DataFrame) -> pd.DataFrame:
    """log2(median-of-ratios normalised counts + 1), genes x samples.

    Parameters
    ----------
    counts
        Genes x samples raw counts.

    Returns
    -------
    pandas.DataFrame
    """
    return np.log2(normalized(counts, size_factors(counts)) + 1.0)


def marker_scores(
    expression: pd.DataFrame,
    symbols: pd.Series,
    markers: Mapping[str, Sequence[str]],
    min_markers: int = 1,
) -> pd.DataFrame:
    """MCP-counter-style scores: the mean log2 expression of each population's markers.

    Scores compare one population across samples (an abundance in arbitrary units), not one
    population with another.

    Parameters
    ----------
    expression
        Genes (any ids) x samples log2 expression (`log_expression`).
    symbols
        Symbol per gene id of `expression` (``genesets.to_symbols``).
    markers
        Population -> marker symbols (`read_markers`).
    min_markers
        Populations with fewer measured markers get no score (logged).

    Returns
    -------
    pandas.DataFrame
        Samples (index) x populations, plus a ``n_markers`` row attribute in ``.attrs``.
    """
    keyed = expression.assign(_symbol=symbols.reindex(expression.index).to_numpy())
    keyed = keyed[keyed["_symbol"].fillna("").astype(str).ne("")]
    # One row per symbol: the most expressed, as the signature scores collapse them.
    keyed = keyed.assign(_mean=keyed.drop(columns="_symbol").mean(axis=1))
    keyed = keyed.sort_values("_mean", ascending=False).drop_duplicates("_symbol")
    by_symbol = keyed.set_index("_symbol").drop(columns="_mean")
    scores, measured = {}, {}
    for population, genes in markers.items():
        found = [g for g in dict.fromkeys(genes) if g in by_symbol.index]
        measured[population] = len(found)
        if len(found) < min_markers:
            log.warning(
                "%s: %d of %d markers measured (< %d), no score",
                population,
                len(found),
                len(genes),
                min_markers,
            )
            continue
        scores[population] = by_symbol.loc[found].mean(axis=0)
    table = pd.DataFrame(scores, index=expression.columns).rename_axis("sample")
    table.attrs["n_markers"] = measured
    return table


def long_table(wide: pd.DataFrame, method: str, value_type: str) -> pd.DataFrame:
    """deconvolution.tsv rows from a samples x cell types table.

    Parameters
    ----------
    wide
        Samples (index) x cell types (other columns, e.g. relative_residual, dropped first).
    method, value_type
        The rows' method and value type (``fraction`` or ``score``).

    Returns
    -------
    pandas.DataFrame
        COLUMNS, samples in `wide`'s order, cell types in its column order.
    """
    long = (
        wide.rename_axis("sample")
        .reset_index()
        .melt(id_vars="sample", var_name="cell_type", value_name="value")
    )
    order = {sample: i for i, sample in enumerate(wide.index)}
    long = long.sort_values("sample", key=lambda s: s.map(order), kind="stable")
    long = long.assign(method=method, value_type=value_type)
    return long[COLUMNS].reset_index(drop=True)


def deconvolve(
    counts: pd.DataFrame,
    symbols: pd.Series | None,
    markers: Mapping[str, Sequence[str]],
    reference: pd.DataFrame | None = None,
    min_genes: int = 50,
) -> pd.DataFrame:
    """deconvolution.tsv: scRNA-reference fractions (when a reference is given) and scores.

    Parameters
    ----------
    counts
        Genes x samples raw bulk counts (results/rnaseq/counts.tsv.gz).
    symbols
        Ensembl id -> symbol (config ``rnaseq.symbols``).
    markers
        Population -> marker symbols (`read_markers`).
    reference
        Mean counts per cell of each cell type (`reference_profiles`), or None without scRNA.
    min_genes
        Fewest shared genes for the NNLS; with fewer, no fractions are estimated (logged).

    Returns
    -------
    pandas.DataFrame
        COLUMNS: ``scrna_reference`` fractions first, then ``mcp_counter`` scores.
    """
    parts = []
    if reference is not None:
        bulk, profiles, how = match_genes(counts, reference, symbols)
        log.info(
            "scRNA reference: %d cell types, %d genes shared with the bulk counts (by %s)",
            profiles.shape[1],
            len(profiles),
            how,
        )
        if len(profiles) < max(min_genes, profiles.shape[1]):
            log.warning(
                "only %d shared genes (< %d): no scrna_reference fractions",
                len(profiles),
                max(min_genes, profiles.shape[1]),
            )
        else:
            fractions = nnls_fractions(bulk, profiles)
            residual = fractions.pop("relative_residual")
            log.info(
                "NNLS relative residual ||b - Ax|| / ||b|| per sample: median %.3f, max %.3f",
                residual.median(),
                residual.max(),
            )
            parts.append(long_table(fractions, SCRNA_METHOD, "fraction"))
    mapped = to_symbols(counts.index, symbols)
    scores = marker_scores(log_expression(counts), mapped, markers)
    log.info("markers measured per population: %s", scores.attrs["n_markers"])
    if scores.shape[1]:
        parts.append(long_table(scores, MARKER_METHOD, "score"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def site_comparison(
    table: pd.DataFrame,
    design: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired LM vs PL test per method and cell type, BH within each method.

    Parameters
    ----------
    table
        deconvolution.tsv rows.
    design
        sample, patient, site of the bulk samples.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous; BH within each subset); None (no
        collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        method, cell_type, value_type and `organomics.stats.paired_site_comparison`'s columns
        (``subset`` first with `simultaneous`).
    """
    long = table.merge(design[["sample", "patient", "site"]], on="sample")
    parts = []
    for method, part in long.groupby("method", sort=False):
        compared = paired_site_comparison(
            part, "value", ["cell_type"], reference, compare, simultaneous
        )
        compared.insert(0, "method", method)
        compared.insert(compared.columns.get_loc("cell_type") + 1, "value_type",
                        part["value_type"].iloc[0])  # fmt: skip
        compared["correction"] = compared["correction"] + f" ({method})"
        parts.append(compared)
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    if simultaneous is not None:  # subset first, every subset's rows together ("all" first)
        out = out[["subset", *[c for c in out.columns if c != "subset"]]]
        out = out.sort_values("subset", kind="stable", ignore_index=True)
    return out


def paired_figure(
    table: pd.DataFrame,
    comparison: pd.DataFrame,
    design: pd.DataFrame,
    reference: str,
    compare: str,
    sampling: dict | None = None,
):
    """One paired panel per method and cell type (a box per site, a line per patient).

    Parameters
    ----------
    table
        deconvolution.tsv rows.
    comparison
        `site_comparison` (its p_adj and n_pairs go in the titles); the panels, in order.
    design
        sample, patient, site of the bulk samples.
    reference, compare
        The two site labels.
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None draws every line alike. Panels and titles
        come from the ``all`` rows of `comparison`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import math

    import matplotlib.pyplot as plt

    from organomics.plots import paired_plot

    sampling = sampling or {}
    long = table.merge(design[["sample", "patient", "site"]], on="sample")
    panels = subset_all(comparison).to_dict("records")
    n = max(1, len(panels))
    columns = min(5, n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.8 * columns, 2.8 * rows), squeeze=False)
    for ax, row in zip(axes.flat, panels, strict=False):
        part = long[(long["method"] == row["method"]) & (long["cell_type"] == row["cell_type"])]
        title = (
            f"{row['method']}: {row['cell_type']}\n"
            f"p_adj = {row['p_adj']:.2g} (n = {row['n_pairs']})"
        )
        ylabel = "fraction of cells" if row["value_type"] == "fraction" else "score (log2)"
        paired_plot(ax, part, "value", reference, compare, title, ylabel,
                    days_apart=sampling.get("days_apart"),
                    within_days=sampling.get("within_days", 30))  # fmt: skip
        ax.title.set_fontsize(7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig
