"""Gene sets (GMT, gzip ok) and gene id -> symbol mapping so symbol-based sets fit any id type."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.tables import open_text, read_table

log = logging.getLogger(__name__)

ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{11}")


def read_gmt(path: str | Path) -> dict[str, list[str]]:
    """Gene sets from a GMT file (name, description, genes...; .gz ok).

    Parameters
    ----------
    path
        The GMT file.

    Returns
    -------
    dict
        term -> genes (each once, in file order), terms in file order.

    Raises
    ------
    InputError
        For a missing or unreadable file, a line without genes, a term named twice, or no sets.
    """
    sets: dict[str, list[str]] = {}
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                fields = line.rstrip("\r\n").split("\t")
                if not line.strip():
                    continue
                if len(fields) < 3:
                    message = "a GMT line needs name, description and genes"
                    raise InputError(path, message, row=number)
                name = fields[0].strip()
                if name in sets:
                    raise InputError(path, f"gene set {name!r} appears twice", row=number)
                sets[name] = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
    except FileNotFoundError:
        raise InputError(path, "gene set file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the GMT file: {error}") from None
    if not sets:
        raise InputError(path, "no gene sets in the file")
    return sets


def read_gmts(paths: Iterable[str | Path]) -> dict[str, list[str]]:
    """The union of several GMT files.

    Parameters
    ----------
    paths
        GMT files, in order.

    Returns
    -------
    dict
        term -> genes; a term already read from an earlier file is prefixed with its file
        name (``file.gmt:term``).
    """
    merged: dict[str, list[str]] = {}
    for path in paths:
        for name, genes in read_gmt(path).items():
            key = name if name not in merged else f"{Path(path).name}:{name}"
            merged[key] = genes
    return merged


def read_symbol_table(path: str | Path) -> pd.Series:
    """Ensembl gene id (no version) -> symbol (config ``rnaseq.symbols``).

    Parameters
    ----------
    path
        A table with columns ``ensembl_id`` and ``symbol`` (others ignored), e.g. the bundled
        ensembl_to_symbol.tsv.gz.

    Returns
    -------
    pandas.Series
        Symbol indexed by Ensembl id; the first row of an id repeated.
    """
    table = read_table(path, required=["ensembl_id", "symbol"])
    return table.drop_duplicates("ensembl_id").set_index("ensembl_id")["symbol"]


def to_symbols(genes: Iterable[str], table: pd.Series | None) -> pd.Series:
    """Symbol per gene id: Ensembl ids (version or _PAR_Y suffix stripped) via `table`, else as is.

    A GENCODE ``_PAR_Y`` id gets the symbol of its X copy (the rows stay apart; gene-set steps
    collapse by symbol). Unmapped Ensembl ids get an empty symbol, so they are left out of
    gene-set tests.

    Parameters
    ----------
    genes
        Gene ids as in the counts (Ensembl with or without version, symbols, ...).
    table
        Ensembl id (no version) -> symbol, from :func:`read_symbol_table`.

    Returns
    -------
    pandas.Series
        Symbol per gene id, indexed by the ids unchanged.
    """
    genes = pd.Index([str(g) for g in genes])
    # The values must be a copy: a Series built on the index's own array writes the symbols
    # into the index too (Ensembl ids then became symbols and duplicated, issue 12 finding 1).
    symbols = pd.Series(genes.to_numpy(copy=True), index=genes, dtype=object)
    ensembl = genes.str.match(ENSEMBL.pattern)
    if ensembl.any():
        if table is None:
            raise InputError(None, "Ensembl gene ids need the id->symbol table (rnaseq.symbols)")
        stripped = genes[ensembl].str.extract(r"^(ENS[A-Z]*G\d{11})", expand=False)
        symbols[ensembl] = stripped.map(table).fillna("").to_numpy()
    return symbols


def log_symbols(genes: Iterable[str], symbols: Iterable[str]) -> None:
    """Log how many genes have no symbol (left out of gene-set tests) or share one (collapsed).

    Parameters
    ----------
    genes
        Gene ids.
    symbols
        Their symbols, in the same order ("" or missing for none).
    """
    genes = pd.Series(list(genes)).astype(str)
    symbols = pd.Series(list(symbols)).fillna("").astype(str)
    missing = genes[symbols.eq("").to_numpy()]
    if len(missing):
        log.warning(
            "%d of %d genes have no symbol and are left out of GSEA, ORA and signatures (e.g. %s)",
            len(missing),
            len(genes),
            ", ".join(missing.head(5)),
        )
    named = symbols[symbols.ne("")]
    shared = named[named.duplicated(keep=False)]
    if len(shared):
        log.info(
            "%d genes share %d symbols (e.g. _PAR_Y copies); gene-set steps keep one per symbol",
            len(shared),
            shared.nunique(),
        )


def gene_labels(results: pd.DataFrame) -> tuple[pd.Series, dict[str, str]]:
    """How figures name genes: the symbol, else the gene id.

    Parameters
    ----------
    results
        The DESeq2 results table (``gene``, ``symbol``; "" for no symbol).

    Returns
    -------
    (pandas.Series, dict)
        Label per gene id; and label -> gene id, where a symbol shared by several genes names
        the first of them in `results` and every gene id also names itself (genes of interest
        may be given as the matrix's own ids, e.g. Ensembl).
    """
    labels = results.set_index("gene")["symbol"]
    labels = labels.where(labels.ne(""), labels.index.to_series())
    by_label = {label: gene for gene, label in labels[::-1].items()}
    by_label.update({gene: gene for gene in labels.index if gene not in by_label})
    return labels, by_label


def ranking(results: pd.DataFrame, metric: str = "stat") -> pd.Series:
    """The GSEA ranking: one metric per symbol.

    Parameters
    ----------
    results
        The DESeq2 results table (``symbol``, `metric`); rows without symbol or metric are
        left out.
    metric
        The ranking column.

    Returns
    -------
    pandas.Series
        Metric per symbol (index ``symbol``), descending; a symbol shared by several genes keeps
        the one with the largest |metric|; exact ties are broken by a deterministic 1e-12
        jitter so that the order does not depend on the input's.
    """
    table = results[results["symbol"].astype(str).ne("") & results[metric].notna()]
    table = table.assign(_abs=table[metric].abs()).sort_values("_abs", ascending=False)
    table = table.drop_duplicates("symbol")
    ranks = table.set_index("symbol")[metric].astype(float).sort_values(ascending=False)
    # Exact ties make the GSEA order depend on input order; a tiny deterministic jitter breaks them.
    if ranks.duplicated().any():
        order = np.argsort(np.argsort(ranks.index.to_numpy()))
        ranks = ranks + order * 1e-12
        ranks = ranks.sort_values(ascending=False)
    ranks.index.name = "symbol"
    return ranks


def restrict(sets: dict[str, list[str]], universe: Iterable[str], min_size: int, max_size: int):
    """Gene sets intersected with the measured genes, within a size window.

    Parameters
    ----------
    sets
        term -> genes.
    universe
        The measured genes.
    min_size, max_size
        Sets are kept when min_size <= overlap <= max_size.

    Returns
    -------
    dict
        term -> measured genes of the kept sets.
    """
    universe = set(universe)
    kept = {}
    for name, genes in sets.items():
        present = [g for g in genes if g in universe]
        if min_size <= len(present) <= max_size:
            kept[name] = present
    return kept
