"""Neoantigen tables: pVACseq all_epitopes/filtered TSV or a generic (hla, peptide, ic50_nm)."""

from __future__ import annotations

import pandas as pd

from organomics.errors import InputError
from organomics.tables import read_table, to_number

PVACSEQ_VARIANT = ("Chromosome", "Start", "Stop", "Reference", "Variant")
PVACSEQ_IC50 = ("Median MT IC50 Score", "Best MT IC50 Score", "Median MT Score", "Best MT Score")
GENERIC = ("hla", "peptide", "ic50_nm")


def read_neoantigens(path: str) -> pd.DataFrame:
    """Epitopes as columns variant, peptide, hla, ic50_nm (one row per predicted epitope).

    Raises
    ------
    InputError
        Naming the file, the header line (row 1) and the missing column, or the row and column
        of an IC50 that is not a number.
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
    """(distinct (variant, peptide, HLA) binders with IC50 <= max, distinct variants among them)."""
    binders = epitopes[epitopes["ic50_nm"] <= max_ic50_nm]
    distinct = binders.drop_duplicates(["variant", "peptide", "hla"])
    return len(distinct), distinct["variant"].nunique()
