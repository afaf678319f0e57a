"""Neoantigen tables: pVACseq all_epitopes/filtered TSV or a generic (hla, peptide, ic50_nm)."""

from __future__ import annotations

import pandas as pd

from organomics.errors import InputError
from organomics.tables import read_table, to_number

PVACSEQ_VARIANT = ("Chromosome", "Start", "Stop", "Reference", "Variant")
PVACSEQ_IC50 = ("Median MT IC50 Score", "Best MT IC50 Score", "Median MT Score", "Best MT Score")
GENERIC = ("hla", "peptide", "ic50_nm")


def read_neoantigens(path: str) -> pd.DataFrame:
    """Read a neoantigen prediction table as one row per predicted epitope.

    Two layouts are read: pVACseq's (HLA Allele, MT Epitope Seq, the variant's Chromosome, Start,
    Stop, Reference, Variant and the first IC50 column of PVACSEQ_IC50) and a generic table with
    hla, peptide, ic50_nm and optionally variant (any case). NA cells (epitopes a predictor could
    not score) are missing values.

    Parameters
    ----------
    path
        The sample's neoantigen table (TSV, or CSV by its extension).

    Returns
    -------
    pandas.DataFrame
        variant (pVACseq: ``chrom:start-stop:ref>alt`` without ``chr``; generic: the variant
        column, else the peptide, so that each peptide counts as its own variant), peptide, hla
        and ic50_nm (float, NaN where missing).

    Raises
    ------
    InputError
        Naming the file, the header line (row 1) and the missing column, or the row and column
        of an IC50 that is not a number; also when the table is neither layout.
    """
    table = read_table(path)
    # pVACseq writes NA for epitopes a predictor could not score
    table = table.replace({"NA": None, "NaN": None, "nan": None, "N/A": None})
    columns = set(table.columns)
    if {"HLA Allele", "MT Epitope Seq"} <= columns:
        score = next((c for c in PVACSEQ_IC50 if c in columns), None)
        if score is None:
            raise InputError(
                path,
                f"pVACseq table lacks an IC50 column (one of {', '.join(PVACSEQ_IC50)})",
                row=1,
                column=PVACSEQ_IC50[0],
            )
        missing = [c for c in PVACSEQ_VARIANT if c not in columns]
        if missing:
            raise InputError(
                path, f"pVACseq table lacks {', '.join(missing)}", row=1, column=missing[0]
            )
        variant = (
            table["Chromosome"].str.removeprefix("chr")
            + ":"
            + table["Start"]
            + "-"
            + table["Stop"]
            + ":"
            + table["Reference"]
            + ">"
            + table["Variant"]
        )
        return pd.DataFrame(
            {
                "variant": variant,
                "peptide": table["MT Epitope Seq"],
                "hla": table["HLA Allele"],
                "ic50_nm": to_number(table, score, path, allow_missing=True),
            }
        )
    lower = {c.lower(): c for c in table.columns}
    missing = [c for c in GENERIC if c not in lower]
    if missing and len(missing) < len(GENERIC):
        raise InputError(
            path,
            "neither a pVACseq table (HLA Allele, MT Epitope Seq, ...) nor a generic table "
            f"(hla, peptide, ic50_nm): lacks {', '.join(missing)}",
            row=1,
            column=missing[0],
        )
    if not missing:
        table = table.rename(columns={lower[c]: c for c in (*GENERIC, "variant") if c in lower})
        return pd.DataFrame(
            {
                # without a variant column each peptide counts as its own variant
                "variant": table["variant"] if "variant" in table else table["peptide"],
                "peptide": table["peptide"],
                "hla": table["hla"],
                "ic50_nm": to_number(table, "ic50_nm", path, allow_missing=True),
            }
        )
    raise InputError(
        path,
        "neither a pVACseq table (HLA Allele, MT Epitope Seq, ...) nor a generic table "
        f"(hla, peptide, ic50_nm); columns: {', '.join(table.columns)}",
    )


def count_neoantigens(epitopes: pd.DataFrame, max_ic50_nm: float) -> tuple[int, int]:
    """Count the predicted binders of one sample.

    Parameters
    ----------
    epitopes
        `read_neoantigens` table.
    max_ic50_nm
        Binding cut-off: a neoantigen has a predicted IC50 of at most this (nM); NaN IC50s never
        pass.

    Returns
    -------
    tuple of int
        Distinct (variant, peptide, HLA) binders, and distinct variants among them.
    """
    binders = epitopes[epitopes["ic50_nm"] <= max_ic50_nm]
    distinct = binders.drop_duplicates(["variant", "peptide", "hla"])
    return len(distinct), distinct["variant"].nunique()
