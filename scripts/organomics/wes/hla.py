"""HLA loss of heterozygosity (LOHHLA or DASH tables) per allele and site, and the neoantigens
restricted to lost alleles."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.pairing import paired_patients
from organomics.stats import compare_measures
from organomics.tables import read_table, to_number

# LOHHLA's *.HLAlossPrediction_CI.xls (McGranahan et al., Cell 2017; mcgranahanlab/lohhla):
# one row per region and HLA gene, the gene's two alleles in HLA_A_type1/HLA_A_type2 whatever
# the gene, copy numbers from binned logR and BAF, and PVal_unique (allelic imbalance).
LOHHLA = (
    "region", "HLA_A_type1", "HLA_A_type2", "HLA_type1copyNum_withBAFBin",
    "HLA_type2copyNum_withBAFBin", "PVal_unique",
)  # fmt: skip
# DASH's DASH.output.txt (Montesion et al., Cancer Discov 2021): one row per allele, the call in
# DASH_deletion; Confidence -1 marks a homozygous gene or one with too few mismatch sites.
DASH = ("Alleles", "DASH_deletion")
LOH_COLUMNS = [
    "sample", "patient", "site", "gene", "allele", "lost", "copy_number", "p_value", "tool",
    "allele_raw",
]  # fmt: skip
_POLYSOLVER = re.compile(r"^hla_([a-z0-9]+)_(\d+)_(\d+)", re.IGNORECASE)
# the gene ends in a digit only before the "*" (DRB1*15:01), so that HLA-A02:01 reads as A
_NOMENCLATURE = re.compile(r"^(?:HLA-)?([A-Z]+(?:\d(?=\*))?)\*?(\d+):(\d+)", re.IGNORECASE)


@dataclass
class Settings:
    """LOHHLA call thresholds (config ``wes.hla``)."""

    SCHEMA_SECTION = "wes.hla"
    max_copy_number: float = 0.5
    max_p: float = 0.01


def normalise_allele(name: str) -> str:
    """An HLA allele at two-field resolution, ``HLA-A*02:01``; "" when it is not one.

    Reads POLYSOLVER/LOHHLA/DASH names (``hla_a_02_01_01_01``) and WHO nomenclature with or
    without the ``HLA-`` prefix or the ``*`` (``HLA-A*02:01:01``, ``A*02:01``, ``HLA-A02:01``).
    Two fields are kept because the neoantigen tools and the LOH tools name alleles at different
    resolutions; the two-field name is what both can be matched on.

    Parameters
    ----------
    name
        An allele name as a tool writes it (converted with ``str``; surrounding blanks ignored).

    Returns
    -------
    str
        ``HLA-<gene>*<field1>:<field2>`` with the gene upper-cased, or "" when `name` is not an
        allele name.
    """
    text = str(name).strip()
    match = _POLYSOLVER.match(text) or _NOMENCLATURE.match(text)
    if not match:
        return ""
    gene, first, second = match.groups()
    return f"HLA-{gene.upper()}*{first}:{second}"


def _numbers(table: pd.DataFrame, columns, path) -> pd.DataFrame:
    """LOHHLA writes NA for what it could not estimate: missing, not an error."""
    table = table.replace({"NA": None, "NaN": None, "nan": None, "-": None})
    for column in columns:
        table[column] = to_number(table, column, path, allow_missing=True)
    return table


def read_hla_loh(path: str, sample_id: str, settings: Settings | None = None) -> pd.DataFrame:
    """One sample's HLA alleles with their loss call, from a LOHHLA or a DASH table.

    Parameters
    ----------
    path
        LOHHLA ``*.HLAlossPrediction_CI.xls`` (tab-separated text) or DASH ``DASH.output.txt``;
        the format is recognised from the header.
    sample_id
        LOHHLA: the ``region`` to read when the file holds several (LOHHLA writes one row per
        tumour BAM and gene); ignored when it holds one region, and for DASH.
    settings
        LOHHLA thresholds (default: copy number < 0.5 and PVal_unique < 0.01).

    Returns
    -------
    pandas.DataFrame
        gene, allele (``HLA-A*02:01``), lost (boolean; NA when not evaluable), copy_number,
        p_value (LOHHLA only), tool, allele_raw; one row per distinct allele.

    Raises
    ------
    InputError
        An unknown header (naming both layouts' columns), a region not in the file, an allele
        name that is not one, or a copy number or p-value that is not a number (row, column).
    """
    settings = settings or Settings()
    table = read_table(path)
    columns = set(table.columns)
    if set(LOHHLA) <= columns:
        rows = _lohhla(table, path, sample_id, settings)
    elif set(DASH) <= columns:
        rows = _dash(table, path)
    else:
        raise InputError(
            path,
            "neither a LOHHLA HLAlossPrediction table (" + ", ".join(LOHHLA) + ") nor a DASH "
            f"output ({', '.join(DASH)}); columns: {', '.join(table.columns)}",
            row=1,
        )
    result = pd.DataFrame(rows, columns=LOH_COLUMNS[3:])
    result["lost"] = result["lost"].astype("boolean")
    return result.drop_duplicates("allele").reset_index(drop=True)


def _allele(raw: str, path: str, row: int, column: str) -> str:
    allele = normalise_allele(raw)
    if not allele:
        raise InputError(path, f"{raw!r} is not an HLA allele", row=row, column=column)
    return allele


def _lohhla(table: pd.DataFrame, path: str, sample_id: str, settings: Settings) -> list[tuple]:
    regions = list(dict.fromkeys(table["region"].astype(str)))
    if len(regions) > 1:
        if sample_id not in regions:
            raise InputError(
                path,
                f"holds regions {', '.join(regions)}; none is {sample_id!r} (sheet column "
                "hla_loh_id names the sample's region)",
                column="region",
            )
        keep = table["region"].astype(str) == sample_id
    else:
        keep = pd.Series(True, index=table.index)
    numbers = [
        *LOHHLA[3:],
        "HLA_type1copyNum_withBAFBin_lower",
        "HLA_type2copyNum_withBAFBin_lower",
    ]
    table = _numbers(table, [c for c in numbers if c in table.columns], path)
    rows = []
    for index in table.index[keep]:
        line = int(index) + 2
        p_value = table.at[index, "PVal_unique"]
        for k in (1, 2):
            raw = str(table.at[index, f"HLA_A_type{k}"])
            allele = _allele(raw, path, line, f"HLA_A_type{k}")
            copies = table.at[index, f"HLA_type{k}copyNum_withBAFBin"]
            lost = (
                pd.NA
                if pd.isna(copies) or pd.isna(p_value)
                else bool(copies < settings.max_copy_number and p_value < settings.max_p)
            )
            gene = allele.split("*")[0]
            rows.append((gene, allele, lost, copies, p_value, "LOHHLA", raw))
    return rows


def _dash(table: pd.DataFrame, path: str) -> list[tuple]:
    rows = []
    confidence = (
        _numbers(table, ["Confidence"], path)["Confidence"] if "Confidence" in table else None
    )
    for index in table.index:
        line = int(index) + 2
        raw = str(table.at[index, "Alleles"])
        allele = _allele(raw, path, line, "Alleles")
        call = str(table.at[index, "DASH_deletion"]).strip()
        if call not in ("True", "False"):
            raise InputError(path, f"expected True or False, got {call!r}", line, "DASH_deletion")
        evaluated = confidence is None or not confidence.iloc[index] == -1
        lost = (call == "True") if evaluated else pd.NA
        gene = allele.split("*")[0]
        rows.append((gene, allele, lost, np.nan, np.nan, "DASH", raw))
    return rows


def flag_neoantigens(epitopes: pd.DataFrame, loh: pd.DataFrame, max_ic50_nm: float) -> pd.DataFrame:
    """One sample's neoantigens with whether their HLA allele is lost there.

    Parameters
    ----------
    epitopes
        `neoantigens.read_neoantigens` table (variant, peptide, hla, ic50_nm).
    loh
        The sample's `read_hla_loh` table.
    max_ic50_nm
        A neoantigen binds with IC50 at most this (as in neoantigens.tsv).

    Returns
    -------
    pandas.DataFrame
        variant, peptide, hla, allele (two-field), ic50_nm, allele_lost (True: restricted to a
        lost allele; False: to an allele LOH calls retained; NA: allele not evaluated, e.g.
        homozygous, class II or not typed by the LOH tool); distinct (variant, peptide, HLA).
    """
    binders = epitopes[epitopes["ic50_nm"] <= max_ic50_nm]
    binders = binders.drop_duplicates(["variant", "peptide", "hla"]).reset_index(drop=True)
    status = dict(zip(loh["allele"], loh["lost"], strict=True))
    table = binders[["variant", "peptide", "hla"]].copy()
    table["allele"] = [normalise_allele(h) for h in table["hla"]]
    table["ic50_nm"] = binders["ic50_nm"].to_numpy()
    table["allele_lost"] = pd.array([status.get(a, pd.NA) for a in table["allele"]], "boolean")
    return table


BURDEN_COLUMNS = [
    "sample", "patient", "site", "n_alleles_evaluated", "n_alleles_lost", "lost_alleles",
    "n_neoantigens", "n_lost_allele", "n_retained", "n_not_evaluated",
]  # fmt: skip


def cohort_hla(
    samples: list[dict],
    loh: dict[str, pd.DataFrame],
    neoantigens: dict[str, pd.DataFrame],
    max_ic50_nm: float,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> dict:
    """Every HLA-loss table of the cohort.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    loh
        `read_hla_loh` table of each sample with an ``hla_loh`` file.
    neoantigens
        `neoantigens.read_neoantigens` table of each sample with one.
    max_ic50_nm
        Neoantigen binding cut-off.
    reference, compare
        Site labels.
    simultaneous
        See `burden_comparison`.

    Returns
    -------
    dict
        ``loh`` (hla_loh.tsv), ``paired`` (hla_loh_paired.tsv), ``neoantigens``
        (hla_neoantigens.tsv: every neoantigen of a sample with LOH calls, flagged),
        ``burden`` (hla_burden.tsv), ``comparison`` (hla_comparison.tsv), ``excluded``.
    """
    meta = {r["sample"]: r for r in samples}
    parts = [
        table.assign(**{k: meta[s][k] for k in ("sample", "patient", "site")})
        for s, table in loh.items()
    ]
    loh_table = (
        pd.concat(parts, ignore_index=True)[LOH_COLUMNS]
        if parts
        else pd.DataFrame(columns=LOH_COLUMNS)
    )
    flagged, burden = [], []
    for record in samples:
        sample = record["sample"]
        if sample not in loh:
            continue
        calls = loh[sample]
        lost = calls.loc[calls["lost"].eq(True).fillna(False), "allele"].tolist()
        row = {
            **{k: record[k] for k in ("sample", "patient", "site")},
            "n_alleles_evaluated": int(calls["lost"].notna().sum()),
            "n_alleles_lost": len(lost),
            "lost_alleles": ";".join(lost),
        }
        if sample in neoantigens:
            table = flag_neoantigens(neoantigens[sample], calls, max_ic50_nm)
            flagged.append(table.assign(sample=sample))
            n_lost = int(table["allele_lost"].eq(True).fillna(False).sum())
            row.update(
                n_neoantigens=len(table),
                n_lost_allele=n_lost,
                n_retained=len(table) - n_lost,
                n_not_evaluated=int(table["allele_lost"].isna().sum()),
            )
        burden.append(row)
    burden_table = pd.DataFrame(burden, columns=BURDEN_COLUMNS)
    for column in ("n_neoantigens", "n_lost_allele", "n_retained", "n_not_evaluated"):
        burden_table[column] = burden_table[column].astype("Int64")
    columns = ["sample", "variant", "peptide", "hla", "allele", "ic50_nm", "allele_lost"]
    neo_table = (
        pd.concat(flagged, ignore_index=True)[columns] if flagged else pd.DataFrame(columns=columns)
    )
    return {
        "loh": loh_table,
        "paired": paired_alleles(loh_table, samples, reference, compare),
        "neoantigens": neo_table,
        "burden": burden_table,
        "comparison": burden_comparison(burden_table, reference, compare, simultaneous),
        "excluded": hla_exclusions(samples, set(loh), set(neoantigens), reference, compare),
    }


def paired_alleles(
    loh_table: pd.DataFrame, samples: list[dict], reference: str, compare: str
) -> pd.DataFrame:
    """Per paired patient with LOH calls at both sites and allele: lost at each site and class.

    Parameters
    ----------
    loh_table
        The cohort's LOH calls (LOH_COLUMNS): one row per sample and allele, ``lost`` True,
        False or missing (not evaluable).
    samples
        ``{"sample", "patient", "site"}`` of the WES samples.
    reference, compare
        The two site labels; patients without LOH calls at both sites are left out.

    Returns
    -------
    pandas.DataFrame
        patient, gene, allele, lost_<ref>, lost_<cmp> (nullable boolean), class: ``shared`` (lost
        at both sites), ``private_<site>`` (lost at that site only), ``retained`` (at neither),
        ``unknown`` (not evaluable, or not reported, at a site).
    """
    columns = ["patient", "gene", "allele", f"lost_{reference}", f"lost_{compare}", "class"]
    rows = []
    with_loh = set(loh_table["sample"])
    for patient, sites in paired_patients(samples, reference, compare).items():
        if not {sites[reference], sites[compare]} <= with_loh:
            continue
        calls = {
            site: loh_table[loh_table["sample"] == sites[site]].set_index("allele")
            for site in (reference, compare)
        }
        alleles = list(dict.fromkeys([*calls[reference].index, *calls[compare].index]))
        for allele in alleles:
            status = {
                site: calls[site].at[allele, "lost"] if allele in calls[site].index else pd.NA
                for site in (reference, compare)
            }
            known = [status[s] for s in (reference, compare) if status[s] is not pd.NA]
            if len(known) < 2:
                label = "unknown"
            elif all(known):
                label = "shared"
            elif any(known):
                label = f"private_{reference if status[reference] else compare}"
            else:
                label = "retained"
            gene = allele.split("*")[0]
            rows.append((patient, gene, allele, status[reference], status[compare], label))
    table = pd.DataFrame(rows, columns=columns)
    for site in (reference, compare):
        table[f"lost_{site}"] = table[f"lost_{site}"].astype("boolean")
    return table


def burden_comparison(
    burden: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired site tests of n_alleles_lost and n_retained (the retained-allele neoantigen burden).

    Wilcoxon signed-rank with Benjamini-Hochberg across the rows.

    Parameters
    ----------
    burden
        The per-sample burden table (BURDEN_COLUMNS); n_retained is missing for samples without a
        neoantigen table and those values are dropped.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days; given, every
        test is repeated on them (first column ``subset``); None leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        `organomics.stats.paired_site_comparison` with one row per measure; a measure nobody has
        is left out, and the columns metric, n_pairs and n_unpaired alone (no rows) remain when
        nobody has any.
    """
    return compare_measures(
        burden, ("n_alleles_lost", "n_retained"), reference, compare, simultaneous
    )


def hla_exclusions(
    samples: list[dict], with_loh: set, with_neoantigens: set, reference: str, compare: str
) -> Exclusions:
    """What the ``hla`` step leaves out, with reasons.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    with_loh
        Samples with an hla_loh table in the sheet.
    with_neoantigens
        Samples with a neoantigen table.
    reference, compare
        The two site labels.

    Returns
    -------
    Exclusions
        Step ``hla``: WES samples without an hla_loh table (not in the HLA tables), samples with
        LOH calls but no neoantigen table (burden columns empty), and paired patients with LOH
        calls at one site only (not in hla_loh_paired.tsv).
    """
    excluded = Exclusions("hla")
    for record in samples:
        ids = (record["patient"], record["site"])
        if record["sample"] not in with_loh:
            excluded.add("sample", record["sample"], "no hla_loh table in the sheet: not in "
                         "the HLA tables", *ids)  # fmt: skip
        elif record["sample"] not in with_neoantigens:
            excluded.add("sample", record["sample"], "no neoantigen table: its neoantigen "
                         "columns in hla_burden.tsv are empty", *ids)  # fmt: skip
    for patient, sites in paired_patients(samples, reference, compare).items():
        missing = [site for site in (reference, compare) if sites[site] not in with_loh]
        if len(missing) == 1:
            excluded.add("patient", patient, f"no hla_loh table for the {missing[0]} sample: "
                         "not in hla_loh_paired.tsv", patient, missing[0])  # fmt: skip
    return excluded
