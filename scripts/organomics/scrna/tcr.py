"""TCR clonotypes: Cell Ranger / AIRR contig readers, clonotypes, expansion, sharing, site tests."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.pairing import site_table
from organomics.stats import compare_measures
from organomics.tables import open_text, read_table

log = logging.getLogger(__name__)

CHAINS = ("TRA", "TRB")
# Spellings of booleans: Cell Ranger <= 6 writes True/False (None for an undetermined
# productive), Cell Ranger >= 7 true/false, AIRR T/F (or TRUE/FALSE, true/false).
TRUE = {"true", "t", "1"}
FALSE = {"false", "f", "0", "none", ""}
CONTIG_COLUMNS = ["line", "barcode", "contig_id", "chain", "is_cell", "high_confidence"]
CONTIG_COLUMNS += ["productive", "cdr3_nt", "umis", "reads"]
CELL_COLUMNS = ["sample", "barcode", "chains", "tra_cdr3_nt", "trb_cdr3_nt", "tra_contig"]
CELL_COLUMNS += ["trb_contig", "clonotype", "clone_size", "expanded"]
PAIRED = "TRA+TRB"


@dataclass(frozen=True)
class TcrParams:
    """Config scrna.tcr (defaults as in workflow/schemas/scrna.schema.yaml)."""

    SCHEMA_SECTION = "scrna.tcr"
    expanded_min_cells: int = 2
    min_cells: int = 10
    annotations: list[str] = field(default_factory=lambda: ["cell_type", "cell_state", "state"])


def _header(path: str | Path) -> list[str]:
    try:
        with open_text(path) as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the file ({error}); is it truncated?") from None
    sep = "," if first.count(",") > first.count("\t") else "\t"
    return [field.strip().strip('"') for field in first.rstrip("\r\n").split(sep)]


def detect_format(path: str | Path) -> str:
    """Tell a Cell Ranger contig annotation CSV from an AIRR rearrangement TSV by its header.

    Parameters
    ----------
    path
        The `tcr` file of a sample (.gz allowed).

    Returns
    -------
    str
        ``"cellranger"`` (barcode and contig_id columns) or ``"airr"`` (sequence_id and locus).

    Raises
    ------
    InputError
        Neither header, or a header lacking the columns the clonotypes need.
    """
    header = set(_header(path))
    if {"barcode", "contig_id"} <= header:
        fmt, required = "cellranger", ["chain", "high_confidence", "productive", "cdr3_nt"]
        required += ["umis", "reads"]
    elif {"sequence_id", "locus"} <= header:
        fmt, required = "airr", ["cell_id", "productive"]
        if not header & {"junction", "cdr3"}:
            required.append("junction")
        if not header & {"umi_count", "duplicate_count"}:
            required.append("umi_count")
    else:
        raise InputError(
            path,
            "not a Cell Ranger filtered_contig_annotations.csv (barcode, contig_id, ...) nor an "
            "AIRR rearrangement TSV (sequence_id, locus, cell_id, ...)",
        )
    missing = [column for column in required if column not in header]
    if missing:
        raise InputError(path, f"{fmt} contig file lacks column(s) {', '.join(missing)}")
    return fmt


def _flags(values: pd.Series, path, lines: pd.Series, column: str) -> np.ndarray:
    lowered = values.fillna("").str.strip().str.lower()
    bad = ~lowered.isin(TRUE | FALSE)
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            path,
            f"'{values.iloc[first]}' is not true/false (True, TRUE, T, false, F, None)",
            row=int(lines.iloc[first]),
            column=column,
        )
    return lowered.isin(TRUE).to_numpy()


def _counts(values: pd.Series, path, lines: pd.Series, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values.fillna("").str.strip(), errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            path,
            f"'{values.iloc[first]}' is not a count (a whole number >= 0)",
            row=int(lines.iloc[first]),
            column=column,
        )
    return numbers.to_numpy().astype(np.int64)


def read_contigs(path: str | Path) -> pd.DataFrame:
    """Read a sample's contigs from either format into one table.

    Cell Ranger (any version; .csv or .csv.gz): barcode, contig_id, is_cell (absent in the
    oldest files, whose rows are all cells), high_confidence, chain, productive, cdr3_nt, umis,
    reads. AIRR rearrangement TSV: cell_id, sequence_id, locus, productive, junction (else
    cdr3), umi_count (else duplicate_count, the UMI count of older AIRR exports), consensus_count
    (reads; 0 when absent), is_cell and high_confidence when present (else true). AIRR
    ``junction`` spans the conserved codons, as Cell Ranger's ``cdr3_nt`` does, so clonotypes
    of the two formats compare.

    Parameters
    ----------
    path
        The `tcr` file of a sample.

    Returns
    -------
    pandas.DataFrame
        CONTIG_COLUMNS: the file line (header is line 1), booleans as bool, counts as int;
        ``barcode`` empty for an AIRR row without a cell_id (not a cell).

    Raises
    ------
    InputError
        Unknown format, a missing column, a boolean or count that does not parse or a
        duplicated contig id, naming file, row and column.
    """
    fmt = detect_format(path)
    table = read_table(path, sep="," if fmt == "cellranger" else "\t")
    lines = pd.Series(np.arange(len(table)) + 2, index=table.index)
    if fmt == "cellranger":
        names = {"barcode": "barcode", "contig_id": "contig_id", "chain": "chain"}
        names |= {"cdr3_nt": "cdr3_nt", "umis": "umis", "reads": "reads"}
        cell_column = "is_cell" if "is_cell" in table else None
        confidence_column = "high_confidence"
    else:
        names = {"barcode": "cell_id", "contig_id": "sequence_id", "chain": "locus"}
        names["cdr3_nt"] = "junction" if "junction" in table else "cdr3"
        if "umi_count" in table and table["umi_count"].notna().any():
            names["umis"] = "umi_count"
        else:
            names["umis"] = "duplicate_count"
        names["reads"] = "consensus_count" if "consensus_count" in table else None
        cell_column = "is_cell" if "is_cell" in table else None
        confidence_column = "high_confidence" if "high_confidence" in table else None
    out = pd.DataFrame({"line": lines.to_numpy()})
    for key in ("barcode", "contig_id", "chain", "cdr3_nt"):
        values = table[names[key]].fillna("").str.strip()
        out[key] = values.mask(values.str.lower() == "none", "").to_numpy()
    out["chain"] = out["chain"].str.upper()
    for key, column in (("is_cell", cell_column), ("high_confidence", confidence_column)):
        out[key] = True if column is None else _flags(table[column], path, lines, column)
    out["productive"] = _flags(table["productive"], path, lines, "productive")
    out["umis"] = _counts(table[names["umis"]], path, lines, names["umis"])
    if names["reads"] is None:
        out["reads"] = 0
    else:
        out["reads"] = _counts(table[names["reads"]], path, lines, names["reads"])
    if fmt == "airr":
        out["is_cell"] &= out["barcode"] != ""
    duplicated = out["contig_id"].duplicated() & (out["contig_id"] != "")
    if duplicated.any():
        first = duplicated.to_numpy().nonzero()[0][0]
        raise InputError(
            path,
            f"contig id '{out['contig_id'].iloc[first]}' appears twice",
            row=int(out["line"].iloc[first]),
            column=names["contig_id"],
        )
    no_cdr3 = out["productive"] & out["chain"].isin(CHAINS) & (out["cdr3_nt"] == "")
    if no_cdr3.any():
        # Some tools mark a contig productive without reporting its junction (scirpy issue
        # 280's file): it cannot define a clonotype, so it is left out and counted.
        log.warning(
            "%s: %d productive TRA/TRB contig(s) without a CDR3 sequence left out (first on "
            "line %d)", path, no_cdr3.sum(), out.loc[no_cdr3, "line"].iloc[0],
        )  # fmt: skip
    return out[CONTIG_COLUMNS]


def _candidates(contigs: pd.DataFrame) -> pd.Series:
    # cells' high-confidence productive TRA/TRB contigs (with or without a CDR3)
    return (
        contigs["is_cell"]
        & contigs["high_confidence"]
        & contigs["productive"]
        & contigs["chain"].isin(CHAINS)
    )


def select_chains(contigs: pd.DataFrame) -> pd.DataFrame:
    """Per cell and chain, the contig that defines the clonotype.

    Contigs that are cells, high-confidence, productive, TRA or TRB (and have a CDR3: a
    "productive" contig without one cannot define a clonotype); per cell and chain the one with
    most UMIs, ties broken by most reads, then by the smallest contig_id.

    Parameters
    ----------
    contigs
        `read_contigs` output.

    Returns
    -------
    pandas.DataFrame
        The chosen contigs (CONTIG_COLUMNS), one per barcode and chain.
    """
    eligible = contigs[_candidates(contigs) & (contigs["cdr3_nt"] != "")]
    ordered = eligible.sort_values(
        ["barcode", "chain", "umis", "reads", "contig_id"],
        ascending=[True, True, False, False, True],
        kind="mergesort",
    )
    return ordered.drop_duplicates(["barcode", "chain"], keep="first").reset_index(drop=True)


def clonotypes(contigs: pd.DataFrame, sample: str, expanded_min_cells: int = 2) -> pd.DataFrame:
    """One row per cell with a chosen TRA or TRB contig, with its clonotype and clone size.

    Cells with both a TRA and a TRB get clonotype ``<TRA cdr3_nt>:<TRB cdr3_nt>``; cells with
    one chain only keep an empty clonotype and are counted apart.

    Parameters
    ----------
    contigs
        `read_contigs` output of one sample.
    sample
        The sample id.
    expanded_min_cells
        A clonotype with at least this many cells in the sample is expanded.

    Returns
    -------
    pandas.DataFrame
        CELL_COLUMNS: chains is ``TRA+TRB``, ``TRA only`` or ``TRB only``; clone_size is the
        number of cells of the sample with the cell's clonotype (0 without one).
    """
    chosen = select_chains(contigs)
    wide = chosen.pivot(index="barcode", columns="chain", values=["cdr3_nt", "contig_id"])
    cells = pd.DataFrame(index=wide.index)
    for chain in CHAINS:
        for value, prefix in (("cdr3_nt", "cdr3_nt"), ("contig_id", "contig")):
            column = (value, chain)
            name = f"{chain.lower()}_{prefix}"
            cells[name] = wide[column].fillna("") if column in wide.columns else ""
    has_a, has_b = cells["tra_cdr3_nt"] != "", cells["trb_cdr3_nt"] != ""
    cells["chains"] = np.where(has_a & has_b, PAIRED, np.where(has_a, "TRA only", "TRB only"))
    cells["clonotype"] = np.where(
        has_a & has_b, cells["tra_cdr3_nt"] + ":" + cells["trb_cdr3_nt"], ""
    )
    sizes = cells.loc[has_a & has_b, "clonotype"].value_counts()
    cells["clone_size"] = cells["clonotype"].map(sizes).fillna(0).astype(int)
    cells["expanded"] = cells["clone_size"] >= expanded_min_cells  # integers: no tolerance
    cells["sample"] = sample
    cells = cells.reset_index().rename(columns={"index": "barcode"})
    return cells[CELL_COLUMNS].sort_values("barcode", kind="mergesort").reset_index(drop=True)


def normalised_shannon(sizes: Sequence[int] | np.ndarray) -> float:
    """Shannon entropy of clone sizes divided by its maximum, ln(number of clonotypes).

    Parameters
    ----------
    sizes
        Cells per clonotype (positive integers).

    Returns
    -------
    float
        ``-sum(p ln p) / ln(n)`` with ``p = size / total`` over the n clonotypes: 1 when every
        clonotype has the same size (all singletons), towards 0 as one clone dominates. Defined
        as 0 for one clonotype (no diversity) and NaN for none.
    """
    sizes = np.asarray(sizes, dtype=float)
    sizes = sizes[sizes > 0]
    if len(sizes) == 0:
        return float("nan")
    if len(sizes) == 1:
        return 0.0
    p = sizes / sizes.sum()
    return float(-(p * np.log(p)).sum() / np.log(len(sizes)))


def morisita_horn(x: pd.Series, y: pd.Series) -> float:
    """Morisita-Horn overlap of two clone-size distributions.

    ``C = 2 sum_i x_i y_i / ((D_x + D_y) X Y)`` with ``X = sum_i x_i``, ``Y = sum_i y_i``,
    ``D_x = sum_i x_i^2 / X^2``, ``D_y = sum_i y_i^2 / Y^2``; i runs over the clonotypes of
    either site (0 cells where absent).

    Parameters
    ----------
    x, y
        Cells per clonotype at each site, indexed by clonotype.

    Returns
    -------
    float
        Between 0 (no clonotype shared) and 1 (the same relative clone sizes); NaN when a site
        has no clonotype.
    """
    index = x.index.union(y.index)
    a = x.reindex(index, fill_value=0).to_numpy(dtype=float)
    b = y.reindex(index, fill_value=0).to_numpy(dtype=float)
    total_a, total_b = a.sum(), b.sum()
    if total_a == 0 or total_b == 0:
        return float("nan")
    d_a, d_b = (a**2).sum() / total_a**2, (b**2).sum() / total_b**2
    return float(2 * (a * b).sum() / ((d_a + d_b) * total_a * total_b))


def sample_summary(contigs: pd.DataFrame, cells: pd.DataFrame, record: dict) -> dict:
    """One sample's clonotype counts, expansion and diversity.

    Parameters
    ----------
    contigs
        `read_contigs` output of the sample.
    cells
        `clonotypes` output of the sample.
    record
        ``{"sample", "patient", "site"}``.

    Returns
    -------
    dict
        sample, patient, site, n_contigs, n_no_cdr3 (eligible contigs left out for want of a
        CDR3), n_tcr_cells, n_cells (both chains), n_tra_only,
        n_trb_only, n_clonotypes, n_expanded_clonotypes, n_expanded_cells, frac_expanded
        (n_expanded_cells / n_cells), largest_clone, diversity (`normalised_shannon`).
    """
    paired = cells[cells["chains"] == PAIRED]
    sizes = paired["clonotype"].value_counts()
    expanded = paired["expanded"]
    n_cells = len(paired)
    return {
        "sample": record["sample"],
        "patient": record["patient"],
        "site": record["site"],
        "n_contigs": len(contigs),
        "n_no_cdr3": int((_candidates(contigs) & (contigs["cdr3_nt"] == "")).sum()),
        "n_tcr_cells": len(cells),
        "n_cells": n_cells,
        "n_tra_only": int((cells["chains"] == "TRA only").sum()),
        "n_trb_only": int((cells["chains"] == "TRB only").sum()),
        "n_clonotypes": len(sizes),
        "n_expanded_clonotypes": int(paired.loc[expanded, "clonotype"].nunique()),
        "n_expanded_cells": int(expanded.sum()),
        "frac_expanded": expanded.sum() / n_cells if n_cells else np.nan,
        "largest_clone": int(sizes.max()) if len(sizes) else 0,
        "diversity": normalised_shannon(sizes.to_numpy()),
    }


def shared_clonotypes(
    cells: pd.DataFrame, records: Sequence[dict], reference: str, compare: str, exclusions=None
) -> pd.DataFrame:
    """Per patient with TCR data at both sites: clonotypes present at both and their overlap.

    Parameters
    ----------
    cells
        `clonotypes` output of every sample.
    records
        ``{"sample", "patient", "site"}`` of the samples with TCR data.
    reference, compare
        The two site labels.
    exclusions
        organomics.excluded.Exclusions receiving patients with one site only; None for none.

    Returns
    -------
    pandas.DataFrame
        patient, sample_<ref>, sample_<cmp>, n_clonotypes_<ref>, n_clonotypes_<cmp>, n_shared,
        frac_cells_shared_<ref>, frac_cells_shared_<cmp> (cells of the site in a shared
        clonotype, of its cells with both chains) and morisita_horn (`morisita_horn`).
    """
    sites = site_table(records, reference, compare)
    paired = cells[cells["chains"] == PAIRED]
    rows = []
    for row in sites.to_dict("records"):
        if not row["paired"]:
            if exclusions is not None:
                site = reference if row[f"sample_{reference}"] else compare
                exclusions.add(
                    "patient", row["patient"], "TCR data at one site only: no sharing",
                    row["patient"], site,
                )  # fmt: skip
            continue
        ref_sample, cmp_sample = row[f"sample_{reference}"], row[f"sample_{compare}"]
        x = paired.loc[paired["sample"] == ref_sample, "clonotype"].value_counts()
        y = paired.loc[paired["sample"] == cmp_sample, "clonotype"].value_counts()
        shared = x.index.intersection(y.index)
        rows.append(
            {
                "patient": row["patient"],
                f"sample_{reference}": ref_sample,
                f"sample_{compare}": cmp_sample,
                f"n_clonotypes_{reference}": len(x),
                f"n_clonotypes_{compare}": len(y),
                "n_shared": len(shared),
                f"frac_cells_shared_{reference}": x[shared].sum() / x.sum() if len(x) else np.nan,
                f"frac_cells_shared_{compare}": y[shared].sum() / y.sum() if len(y) else np.nan,
                "morisita_horn": morisita_horn(x, y),
            }
        )
    columns = ["patient", f"sample_{reference}", f"sample_{compare}"]
    columns += [f"n_clonotypes_{reference}", f"n_clonotypes_{compare}", "n_shared"]
    columns += [f"frac_cells_shared_{reference}", f"frac_cells_shared_{compare}", "morisita_horn"]
    return pd.DataFrame(rows, columns=columns)


def join_annotations(
    cells: pd.DataFrame, obs: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """Add the scRNA annotations of each TCR cell (obs names are ``<sample>_<barcode>``).

    Parameters
    ----------
    cells
        `clonotypes` output of every sample.
    obs
        The annotated cohort's obs (results/scrna/adata.h5ad), with ``sample``.
    columns
        obs columns to add (those absent from obs are skipped).

    Returns
    -------
    pandas.DataFrame
        `cells` with ``annotated`` (the barcode is one of the sample's annotated cells) and the
        present `columns` (empty for cells without a match).
    """
    keys = cells["sample"].astype(str) + "_" + cells["barcode"].astype(str)
    out = cells.copy()
    out["annotated"] = keys.isin(obs.index).to_numpy()
    for column in columns:
        if column in obs.columns:
            values = obs[column].astype(object)
            values = values.where(values.notna(), "").astype(str)  # no "nan" labels
            out[column] = keys.map(values).fillna("").to_numpy()
    return out


def expansion_by_annotation(
    cells: pd.DataFrame, records: Sequence[dict], columns: Sequence[str]
) -> pd.DataFrame:
    """Per sample and annotation label: cells with both chains and how many are expanded.

    Parameters
    ----------
    cells
        `join_annotations` output.
    records
        ``{"sample", "patient", "site"}`` of the samples.
    columns
        Annotation columns (cell_type, cell_state, ...) present in `cells`.

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, annotation (the column), label, n_cells, n_expanded_cells,
        frac_expanded; only annotated cells with a label in that column count.
    """
    info = pd.DataFrame(records).set_index("sample")
    paired = cells[(cells["chains"] == PAIRED) & cells["annotated"]]
    rows = []
    for column in columns:
        if column not in paired:
            continue
        labelled = paired[paired[column] != ""]  # cells the annotation does not cover
        grouped = labelled.groupby(["sample", column], sort=True)["expanded"]
        for (sample, label), values in grouped:
            rows.append(
                {
                    "sample": sample,
                    "patient": info.at[sample, "patient"],
                    "site": info.at[sample, "site"],
                    "annotation": column,
                    "label": label,
                    "n_cells": len(values),
                    "n_expanded_cells": int(values.sum()),
                    "frac_expanded": values.sum() / len(values),
                }
            )
    columns_out = ["sample", "patient", "site", "annotation", "label", "n_cells"]
    columns_out += ["n_expanded_cells", "frac_expanded"]
    return pd.DataFrame(rows, columns=columns_out)


def add_cell_type_expansion(
    summary: pd.DataFrame, by_annotation: pd.DataFrame, min_cells: int = 1
) -> pd.DataFrame:
    """Add ``frac_expanded_<cell type>`` columns (and n_annotated) to the sample summary.

    Parameters
    ----------
    summary
        One row per sample (`sample_summary` rows).
    by_annotation
        `expansion_by_annotation` output.
    min_cells
        A sample's fraction for a cell type is given from this many of its cells with both
        chains (empty below: a fraction of 1 or 2 cells is not a measure).

    Returns
    -------
    pandas.DataFrame
        `summary` with n_annotated (cells with both chains matched to an annotated cell) and
        one frac_expanded_<cell type> column per cell type seen.
    """
    types = by_annotation[by_annotation["annotation"] == "cell_type"]
    out = summary.copy()
    counted = types.groupby("sample")["n_cells"].sum()
    out["n_annotated"] = out["sample"].map(counted).fillna(0).astype(int)
    measured = types[types["n_cells"] >= min_cells]  # integers: no tolerance needed
    wide = measured.pivot(index="sample", columns="label", values="frac_expanded")
    for label in wide.columns:
        out[f"frac_expanded_{label}"] = out["sample"].map(wide[label])
    return out


def site_comparison(
    summary: pd.DataFrame,
    reference: str,
    compare: str,
    min_cells: int,
    exclusions=None,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon tests, compare vs reference site, of diversity and expansion.

    Parameters
    ----------
    summary
        The sample summary (with frac_expanded_<cell type> columns when joined).
    reference, compare
        The two site labels.
    min_cells
        A sample enters the tests from this many cells with both chains.
    exclusions
        organomics.excluded.Exclusions receiving the samples below min_cells; None for none.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: the ``all`` rows, then the ``simultaneous`` ones, each subset
        its own BH families); None (no collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        `organomics.stats.compare_measures` over diversity, frac_expanded and each
        frac_expanded_<cell type>.
    """
    small = summary["n_cells"] < min_cells  # integers: no tolerance needed
    if exclusions is not None:
        for row in summary[small].to_dict("records"):
            exclusions.add(
                "sample", row["sample"],
                f"{row['n_cells']} cells with both chains, below scrna.tcr.min_cells {min_cells}",
                row["patient"], row["site"],
            )  # fmt: skip
    metrics = ["diversity", "frac_expanded"]
    metrics += [c for c in summary.columns if c.startswith("frac_expanded_")]
    return compare_measures(summary[~small], metrics, reference, compare, simultaneous)


def read_annotations(adata_path: str | Path, states_path: str | Path | None = None) -> pd.DataFrame:
    """The annotated cells of the scRNA cohort, indexed by ``<sample>_<barcode>``.

    Parameters
    ----------
    adata_path
        results/scrna/adata.h5ad (its obs is read, not the matrices).
    states_path
        The CD8/NK state table (results/scrna/state_cells.tsv.gz, column ``cell`` and
        ``state``) when that step runs; None otherwise.

    Returns
    -------
    pandas.DataFrame
        obs (sample, cell_type, cell_state, ...) plus the state table's ``state`` if given.
    """
    from organomics.scrna import store
    from organomics.tables import read_tsv

    (obs,) = store.read_elements(adata_path, "obs")
    if states_path is not None:
        states = read_tsv(states_path, dtype=str)
        if {"cell", "state"} <= set(states.columns):
            obs = obs.copy()
            obs["state"] = states.set_index("cell")["state"].reindex(obs.index).to_numpy()
    return obs


def run(
    paths: Sequence[str | Path],
    records: Sequence[dict],
    params: TcrParams,
    reference: str,
    compare: str,
    annotations: pd.DataFrame | None = None,
    exclusions=None,
    simultaneous: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every TCR table of the cohort.

    Parameters
    ----------
    paths
        The `tcr` file of each sample, in the order of `records`.
    records
        ``{"sample", "patient", "site"}`` per sample with a `tcr` file.
    params
        Config scrna.tcr.
    reference, compare
        The two site labels.
    annotations
        `read_annotations` output, or None when no TCR sample has scRNA.
    exclusions
        organomics.excluded.Exclusions for samples left out of the tests and patients with one
        site; None records nothing.
    simultaneous
        See `site_comparison`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``cells`` (`clonotypes` of every sample, with ``annotated`` and the annotation columns
        when joined), ``summary``, ``shared``, ``cell_types`` (`expansion_by_annotation`) and
        ``comparison`` (`site_comparison`).
    """
    cells, rows = [], []
    for path, record in zip(paths, records, strict=True):
        contigs = read_contigs(path)
        sample_cells = clonotypes(contigs, record["sample"], params.expanded_min_cells)
        rows.append(sample_summary(contigs, sample_cells, record))
        cells.append(sample_cells)
        log.info(
            "%s: %d contigs, %d cells with both chains, %d clonotypes",
            record["sample"], len(contigs), rows[-1]["n_cells"], rows[-1]["n_clonotypes"],
        )  # fmt: skip
    every = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(columns=CELL_COLUMNS)
    summary = pd.DataFrame(rows)
    columns: list[str] = []
    by_annotation = expansion_by_annotation(every.assign(annotated=False), records, [])
    if annotations is not None:
        columns = [c for c in params.annotations if c in annotations.columns]
        every = join_annotations(every, annotations, columns)
        scrna_samples = set(annotations["sample"].astype(str))
        for row in summary.to_dict("records"):
            matched = every.loc[every["sample"] == row["sample"], "annotated"].sum()
            if row["sample"] in scrna_samples and matched == 0:
                log.warning(
                    "%s: no TCR barcode matches an annotated cell of the sample: are the "
                    "barcodes of the same run (suffix -1)?", row["sample"],
                )  # fmt: skip
        by_annotation = expansion_by_annotation(every, records, columns)
        summary = add_cell_type_expansion(summary, by_annotation, params.min_cells)
    shared = shared_clonotypes(every, records, reference, compare, exclusions)
    comparison = site_comparison(
        summary, reference, compare, params.min_cells, exclusions, simultaneous
    )
    return {
        "cells": every,
        "summary": summary,
        "shared": shared,
        "cell_types": by_annotation,
        "comparison": comparison,
    }
