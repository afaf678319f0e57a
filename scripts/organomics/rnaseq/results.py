"""The branch's own tables read back (counts, VST, DESeq2 results) and joined with the design."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.tables import read_tsv


def design_frame(records: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """The RNA samples as a table.

    Parameters
    ----------
    records
        ``{"sample", "patient", "site"}`` per sample (the cohort rules' ``samples`` param).

    Returns
    -------
    pandas.DataFrame
        Columns sample, patient, site (text), one row per record in order.
    """
    return pd.DataFrame(list(records), columns=["sample", "patient", "site"]).astype(str)


def read_gene_table(path: str | Path) -> pd.DataFrame:
    """A genes x samples table written by this workflow (counts.tsv.gz, vst.tsv.gz).

    Parameters
    ----------
    path
        The table; first column ``gene``, then one column per sample.

    Returns
    -------
    pandas.DataFrame
        Indexed by gene id, which stays text (e.g. Entrez "0012", or a gene named "NA").
    """
    table = read_tsv(path, dtype={"gene": str}).set_index("gene")
    table.columns = table.columns.astype(str)
    return table


def read_counts(path: str | Path) -> pd.DataFrame:
    """The cohort counts (results/rnaseq/counts.tsv.gz) as int64.

    Parameters
    ----------
    path
        The counts table written by the ``rnaseq_counts`` rule.

    Returns
    -------
    pandas.DataFrame
        Genes x samples integer counts.
    """
    return read_gene_table(path).astype(np.int64)


def read_results(path: str | Path) -> pd.DataFrame:
    """The DESeq2 results table (deseq2_results.tsv) with "" for genes without a symbol.

    Parameters
    ----------
    path
        The table written by the ``rnaseq_deseq2`` rule.

    Returns
    -------
    pandas.DataFrame
        One row per gene; ``gene`` and ``symbol`` as text.
    """
    results = read_tsv(path, dtype={"gene": str, "symbol": str})
    results["symbol"] = results["symbol"].fillna("")
    return results


def signature_long(scores: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Signature scores in long form with each sample's patient and site.

    Parameters
    ----------
    scores
        Samples (index ``sample``) x signatures.
    design
        sample, patient, site of the samples.

    Returns
    -------
    pandas.DataFrame
        sample, signature, score, patient, site; samples missing from `design` are left out.
    """
    long = scores.reset_index().melt(id_vars="sample", var_name="signature", value_name="score")
    return long.merge(design[["sample", "patient", "site"]], on="sample", how="inner")
