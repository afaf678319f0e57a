"""Pseudobulk counts per sample and cell type, tested LM vs PL with the RNA branch's PyDESeq2."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from organomics.pairing import paired_patients
from organomics.scrna.annotate import indicator

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "cell_type",
    "n_pairs",
    "n_samples",
    "n_genes",
    "n_padj_05",
    "status",
    "warnings",
]


def aggregate(
    obs: pd.DataFrame,
    genes: pd.Index,
    blocks: Iterable[tuple[int, sp.spmatrix]],
    keys: tuple[str, str] = ("sample", "cell_type"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summed counts per (sample, cell type).

    Parameters
    ----------
    obs
        The cells' obs with the two `keys` columns.
    genes
        The genes (columns of the blocks).
    blocks
        (first row, counts of the following rows) covering obs, so that a cohort too big for
        memory is summed a block of cells at a time (organomics.scrna.store.iter_rows).
    keys
        The two obs columns that define a group.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        groups x genes integer counts (summed in float64, so exact), and the group table
        (the two keys and ``n_cells``), groups sorted by label.
    """
    group = obs[keys[0]].astype(str) + "\t" + obs[keys[1]].astype(str)
    g, labels = indicator(group)
    g = g.tocsc().astype(np.float64)
    # float64 accumulation: float32 sums lose integer precision beyond 2**24.
    summed = np.zeros((len(labels), len(genes)), dtype=np.float64)
    for start, x in blocks:
        x = x if sp.issparse(x) else sp.csr_matrix(x)
        summed += (g[:, start : start + x.shape[0]] @ x.astype(np.float64)).toarray()
    parts = pd.Series(labels).str.split("\t", expand=True)
    groups = pd.DataFrame({keys[0]: parts[0], keys[1]: parts[1]})
    groups["n_cells"] = np.asarray(g.sum(axis=1)).ravel().astype(int)
    counts = pd.DataFrame(np.rint(summed).astype(np.int64), columns=genes)
    return counts, groups


def cell_type_de(
    obs: pd.DataFrame,
    genes: pd.Index,
    blocks: Iterable[tuple[int, sp.spmatrix]],
    reference: str,
    compare: str,
    min_cells: int = 10,
    min_pairs: int = 3,
    min_total_count: int = 10,
    n_cpus: int = 1,
    gene_ids: pd.Series | None = None,
    exclusions=None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """PyDESeq2 ~ patient + site per cell type on pseudobulk counts.

    A (sample, cell type) enters with at least min_cells cells; a cell type is tested when at
    least min_pairs patients have it at both sites (organomics.pairing). Genes with fewer than
    min_total_count counts over the tested samples are dropped first.

    Parameters
    ----------
    obs, genes, blocks
        As for `aggregate`; obs also has ``patient`` and ``site``.
    reference, compare
        The two site labels (log2 fold changes are compare vs reference).
    min_cells
        Cells a (sample, cell type) needs to be a profile (config pseudobulk.min_cells).
    min_pairs
        Paired patients a cell type needs to be tested (config pseudobulk.min_pairs).
    min_total_count
        Genes below this total count over the tested samples are dropped.
    n_cpus
        PyDESeq2's processes.
    gene_ids
        The id of each gene (var["gene_ids"], indexed by genes); when given, the results have
        a ``gene_id`` column after ``gene`` (the symbol), so Ensembl-keyed analyses can join.
    exclusions
        organomics.excluded.Exclusions receiving each (sample, cell type) below min_cells,
        each unpaired one, and each cell type not tested; None records nothing (untested
        cell types are logged).

    Returns
    -------
    (dict of str to pandas.DataFrame, pandas.DataFrame)
        The result of each tested cell type, and the summary (`SUMMARY_COLUMNS`, one row per
        cell type, sorted).
    """
    from organomics.rnaseq.deseq import paired_deseq

    counts, groups = aggregate(obs, genes, blocks)
    sample_info = (
        obs[["sample", "patient", "site"]].astype(str).drop_duplicates().set_index("sample")
    )
    groups = groups.join(sample_info, on="sample")
    results: dict[str, pd.DataFrame] = {}
    summary = []
    for cell_type in sorted(groups["cell_type"].unique()):
        of_type = groups[groups["cell_type"] == cell_type]
        rows = of_type[of_type["n_cells"] >= min_cells]
        paired = list(paired_patients(rows, reference, compare))
        if exclusions is not None:
            _exclude_profiles(of_type, paired, min_cells, exclusions)
        rows = rows[rows["patient"].isin(paired)]
        record = {
            "cell_type": cell_type,
            "n_pairs": len(paired),
            "n_samples": len(rows),
            "n_genes": 0,
            "n_padj_05": 0,
            "status": "",
        }
        if len(paired) < min_pairs:
            record["status"] = f"not tested: {len(paired)} pairs with >= {min_cells} cells"
            summary.append(record)
            if exclusions is not None:
                reason = f"pseudobulk {record['status']}; pseudobulk.min_pairs is {min_pairs}"
                exclusions.add("cell type", cell_type, reason)
            else:
                log.info("pseudobulk %s: %s", cell_type, record["status"])
            continue
        matrix = counts.loc[rows.index].T
        matrix.columns = rows["sample"].to_numpy()
        matrix = matrix[matrix.sum(axis=1) >= min_total_count]
        design = rows[["sample", "patient", "site"]].reset_index(drop=True)
        log.info("pseudobulk %s: %d samples, %d genes", cell_type, len(rows), len(matrix))
        result = paired_deseq(matrix, design, reference, compare, n_cpus=n_cpus)
        if gene_ids is not None:
            result.insert(1, "gene_id", gene_ids.reindex(result["gene"]).to_numpy())
        results[cell_type] = result
        # PyDESeq2's warnings and non-converged fits (also in the log), so a reader of the
        # summary sees which cell type's test to trust less
        warned = [
            row["message"] + (f" ({row['n_genes']} genes)" if row.get("n_genes") else "")
            for row in result.attrs.get("warnings", [])
        ]
        record.update(
            n_genes=len(result),
            n_padj_05=int((result["padj"] < 0.05).sum()),
            status="tested",
            warnings="; ".join(warned),
        )
        summary.append(record)
    return results, pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


def _exclude_profiles(groups: pd.DataFrame, paired: list[str], min_cells: int, exclusions) -> None:
    """Record the (sample, cell type) profiles of one cell type that its test leaves out."""
    for _, row in groups.iterrows():
        if row["n_cells"] < min_cells:
            why = f"{row['n_cells']} cell(s) < pseudobulk.min_cells {min_cells}"
        elif row["patient"] not in paired:
            why = "unpaired: the patient's other site has no profile of this cell type"
        else:
            continue
        item = f"{row['sample']} {row['cell_type']}"
        reason = f"{why}; not in the pseudobulk test"
        exclusions.add("sample cell type", item, reason, row["patient"], row["site"])
