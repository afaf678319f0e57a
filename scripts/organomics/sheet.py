"""Load the sample sheet and cross-check it: sites, duplicates, one sample per site, files exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from organomics.errors import InputError
from organomics.pairing import site_table
from organomics.tables import read_table

REQUIRED_COLUMNS = ("sample", "patient", "site")
# Sheet columns whose cells are paths to input files (';' separates several files in one cell).
PATH_COLUMNS = ("wes", "neoantigens", "cn", "hla_loh", "rna", "mihc", "scrna")
PATH_COLUMNS += ("tcr",)
# Optional whole-number columns: sampling time (days from treatment start, negative before) and
# treatment line; checked here so that a decimal or a date stops the run with its row.
INTEGER_COLUMNS = {
    "collection_day": "an integer number of days from the start of treatment (negative before)",
    "treatment_line": "a whole number (1 = first line)",
}


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read the sample sheet as strings, whitespace stripped from the cells.

    Parameters
    ----------
    path
        The sample sheet (TSV, or CSV by its extension).

    Returns
    -------
    pandas.DataFrame
        One row per sample; empty cells are NaN, as the schema validation (`validate_rows`)
        expects.

    Raises
    ------
    InputError
        When a column of REQUIRED_COLUMNS is missing or the table is malformed (`read_table`).
    """
    sheet = read_table(path, required=REQUIRED_COLUMNS, comment=None)
    return sheet.apply(lambda column: column.str.strip() if column.dtype == object else column)


def validate_rows(sheet: pd.DataFrame, schema_path: str | Path, path: str | Path) -> None:
    """Check each row against the sheet's JSON schema; the first error names row and column.

    The schema (workflow/schemas/samples.schema.yaml) is the one place that says what each
    column may hold; this turns its verdict into a message a user can act on.

    Parameters
    ----------
    sheet
        The sheet from `read_sample_sheet`; NaN cells are left out of the validated rows.
    schema_path
        The YAML file of the JSON schema (draft 2020-12).
    path
        The sheet's path, named in the error.

    Raises
    ------
    InputError
        For the first row that breaks the schema, with the schema's description of the column
        when it has one.
    """
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for position, record in enumerate(sheet.to_dict("records")):
        row = {key: value for key, value in record.items() if isinstance(value, str)}
        for error in validator.iter_errors(row):
            column = str(error.path[0]) if error.path else None
            described = schema["properties"].get(column, {}).get("description", "")
            raise InputError(
                path,
                f"{error.message}" + (f" (expected: {described})" if described else ""),
                row=position + 2,
                column=column,
            )


def split_paths(cell: str) -> list[str]:
    """Split one sheet cell into its paths.

    Parameters
    ----------
    cell
        A cell of a PATH_COLUMNS column; several files are ';'-separated.

    Returns
    -------
    list of str
        The paths, stripped, blanks ignored (empty for an empty cell).
    """
    return [part.strip() for part in str(cell).split(";") if part.strip()]


def check_sample_sheet(
    sheet: pd.DataFrame,
    path: str | Path,
    sites: tuple[str, str],
    resolve: Callable[[str], str],
) -> pd.DataFrame:
    """Cross-check the sheet and return it indexed by sample, with "" for empty cells.

    Parameters
    ----------
    sheet
        The sheet from `read_sample_sheet` (and `validate_rows`).
    path
        The sheet's path, named in errors.
    sites
        The config's (reference, compare) site labels; every row's site must be one of them.
    resolve
        Turns a path as written in the sheet into the one to check for existence (the
        workflow's ``resolve_path``: relative to the working directory, else to the workflow).

    Returns
    -------
    pandas.DataFrame
        The sheet with NaN replaced by "", indexed by sample (the sample column is kept).

    Raises
    ------
    InputError
        For an empty sample, patient or site, an unknown site label, a duplicate sample id, a
        patient with two samples at one site, a path in PATH_COLUMNS that does not exist, or a
        cell of INTEGER_COLUMNS that is not a whole number; each names the row (header is line
        1) and column.
    """
    line = {index: index + 2 for index in sheet.index}  # header is line 1
    for column in REQUIRED_COLUMNS:
        empty = sheet[column].isna() | (sheet[column].astype(str).str.strip() == "")
        if empty.any():
            raise InputError(path, "must not be empty", row=line[empty.idxmax()], column=column)
    unknown = ~sheet["site"].isin(sites)
    if unknown.any():
        index = unknown.idxmax()
        raise InputError(
            path,
            f"unknown site {sheet.at[index, 'site']!r}; config sites are {sites[0]!r} "
            f"(reference) and {sites[1]!r} (compare)",
            row=line[index],
            column="site",
        )
    duplicated = sheet["sample"].duplicated(keep="first")
    if duplicated.any():
        index = duplicated.idxmax()
        first = sheet.index[sheet["sample"] == sheet.at[index, "sample"]][0]
        raise InputError(
            path,
            f"sample id {sheet.at[index, 'sample']!r} repeats row {line[first]}",
            row=line[index],
            column="sample",
        )
    twice = sheet.duplicated(["patient", "site"], keep="first")
    if twice.any():
        index = twice.idxmax()
        patient, site = sheet.at[index, "patient"], sheet.at[index, "site"]
        first = sheet.index[(sheet["patient"] == patient) & (sheet["site"] == site)][0]
        raise InputError(
            path,
            f"patient {patient!r} already has a {site} sample in row {line[first]}; "
            "one sample per patient and site",
            row=line[index],
            column="site",
        )
    for column, expected in INTEGER_COLUMNS.items():
        if column not in sheet.columns:
            continue
        for index, cell in sheet[column].dropna().items():
            text = str(cell).strip()
            signed = column == "collection_day"
            digits = text[1:] if signed and text[:1] in "+-" else text
            if text and not (digits.isascii() and digits.isdigit()):
                raise InputError(
                    path, f"{text!r} is not {expected}", row=line[index], column=column
                )
    for column in PATH_COLUMNS:
        if column not in sheet.columns:
            continue
        for index, cell in sheet[column].dropna().items():
            for part in split_paths(cell):
                if not Path(resolve(part)).exists():
                    raise InputError(
                        path, f"file not found: {part}", row=line[index], column=column
                    )
    return sheet.fillna("").set_index("sample", drop=False)


def pairing(sheet: pd.DataFrame, layer: str, reference: str, compare: str) -> pd.DataFrame:
    """Per patient with `layer` data: the sample at each site and whether both are there.

    Parameters
    ----------
    sheet
        The sample sheet (columns sample, patient, site and the layer columns, "" = missing).
    layer
        A layer column (``wes``, ``rna``, ...).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        ``layer`` and the columns of `organomics.pairing.site_table`.
    """
    present = sheet[sheet[layer] != ""] if layer in sheet.columns else sheet.iloc[0:0]
    table = site_table(present, reference, compare)
    table.insert(0, "layer", layer)
    return table.reset_index(drop=True)
