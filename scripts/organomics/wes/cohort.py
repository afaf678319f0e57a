"""Cohort tables from per-sample variants: TMB, shared/private, drivers, neoantigens, SBS6."""

from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np
import pandas as pd

from organomics.excluded import Exclusions
from organomics.pairing import paired_patients, site_table
from organomics.stats import paired_site_comparison
from organomics.wes.neoantigens import count_neoantigens, read_neoantigens

log = logging.getLogger(__name__)

SBS6 = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
KEY = ["chrom", "pos", "ref", "alt"]


def load_variants(paths: list[str]) -> pd.DataFrame:
    """Concatenate the per-sample passing-variant tables into one cohort table.

    Parameters
    ----------
    paths
        The per-sample parquet files (one per WES sample, from `sample.sample_variants`).

    Returns
    -------
    pandas.DataFrame
        All rows of all files; categorical columns become plain strings so that joins across
        samples compare values, not category codes. Empty with columns sample, chrom, pos, ref,
        alt, gene, nonsynonymous and variant_class when `paths` is empty.
    """
    tables = [pd.read_parquet(p) for p in paths]
    if not tables:
        return pd.DataFrame(columns=["sample", *KEY, "gene", "nonsynonymous", "variant_class"])
    table = pd.concat(tables, ignore_index=True)
    # per-sample files store repeated strings as categories; joined tables use plain strings
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    return table.astype({c: str for c in categorical})


def filter_summary(per_sample: list[pd.DataFrame], steps: list[str]) -> pd.DataFrame:
    """One row per sample of the per-sample filter counts.

    Parameters
    ----------
    per_sample
        Each sample's filter_counts table (columns sample, step, n).
    steps
        The steps, in order (the columns after ``sample``; absent ones are 0).

    Returns
    -------
    pandas.DataFrame
        ``sample`` and one column per step.
    """
    long = pd.concat(per_sample, ignore_index=True)
    wide = long.pivot(index="sample", columns="step", values="n").reset_index()
    return wide.reindex(columns=["sample", *steps], fill_value=0)


def tmb_table(
    variants: pd.DataFrame,
    samples: list[dict],
    callable_mb: float,
    unannotated: set[str] | frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """TMB per sample: non-synonymous passing variants per callable Mb.

    Parameters
    ----------
    variants
        Passing variants of every sample (columns sample, nonsynonymous).
    samples
        ``{"sample", "patient", "site"}`` per sample; a sample without variants gets 0.
    callable_mb
        Callable size in Mb (merged capture BED or ``exome_size_mb``).
    unannotated
        Samples with passing variants from a VCF without CSQ/ANN: their non-synonymous count
        and TMB are unknown, so left empty (NA) rather than 0.

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, n_pass, n_nonsynonymous, callable_mb, tmb.
    """
    meta = pd.DataFrame(samples, columns=["sample", "patient", "site"])
    grouped = variants.groupby("sample")
    meta["n_pass"] = meta["sample"].map(grouped.size()).fillna(0).astype(int)
    nonsyn = meta["sample"].map(grouped["nonsynonymous"].sum()).fillna(0).astype("Int64")
    unknown = meta["sample"].isin(list(unannotated)).to_numpy()
    meta["n_nonsynonymous"] = nonsyn.mask(unknown)
    meta["callable_mb"] = callable_mb
    meta["tmb"] = meta["n_nonsynonymous"].astype(float) / callable_mb
    return meta


def cohort_exclusions(
    samples: list[dict],
    filter_summary: pd.DataFrame,
    neoantigen_records: list[dict],
    reference: str,
    compare: str,
) -> Exclusions:
    """What the cohort tables leave out, per sample and patient, each with its reason.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample, in sheet order.
    filter_summary
        One row per sample with the per-sample filter counts (columns of filter_summary.tsv:
        ``records``, ``alleles``, ``filter``, ``depth``, ``alt_reads``, ``vaf``, ``symbolic``,
        ``off_target``, ``duplicate``, ``passing``).
    neoantigen_records
        ``{"sample", ...}`` of the samples that have a neoantigen table.
    reference, compare
        Site labels.

    Returns
    -------
    Exclusions
        Step ``cohort``: samples without a passing variant (TMB 0, no row in the mutation
        tables), samples without a neoantigen table, and patients without both sites (left out
        of shared/private, drivers and the paired tests).
    """
    excluded = Exclusions("cohort")
    counts = filter_summary.set_index("sample")
    if "unannotated" in counts:
        for record in samples:
            sample = record["sample"]
            if sample in counts.index and int(counts.at[sample, "unannotated"]) > 0:
                excluded.add(
                    "sample",
                    sample,
                    "VCF without CSQ/ANN annotation (wes.allow_unannotated): n_nonsynonymous "
                    "and TMB left empty, not in the TMB test",
                    record["patient"],
                    record["site"],
                )
    reasons = ("filter", "depth", "alt_reads", "vaf", "symbolic", "off_target", "duplicate")
    for record in samples:
        sample, patient, site = record["sample"], record["patient"], record["site"]
        row = counts.loc[sample] if sample in counts.index else None
        if row is not None and int(row.get("passing", 0)) == 0:
            failed = [f"{k} {int(row[k])}" for k in reasons if k in row and int(row[k]) > 0]
            detail = (
                f"{int(row.get('records', 0))} record(s), failing: {', '.join(failed)}"
                if failed
                else "the file has no variant records"
            )
            excluded.add(
                "sample",
                sample,
                f"no variant passes the filters ({detail}); TMB counted as 0, no rows in the "
                "mutation tables",
                patient,
                site,
            )
    with_neo = {r["sample"] for r in neoantigen_records}
    if with_neo:  # only worth saying when the cohort uses neoantigen tables at all
        for record in samples:
            if record["sample"] not in with_neo:
                excluded.add(
                    "sample",
                    record["sample"],
                    "no neoantigen table in the sheet: not in neoantigens.tsv or the "
                    "n_neoantigens test",
                    record["patient"],
                    record["site"],
                )
    for row in site_table(samples, reference, compare).itertuples(index=False):
        if not row.paired:
            present, missing = (
                (reference, compare)
                if getattr(row, f"sample_{reference}")
                else (compare, reference)
            )
            excluded.add(
                "patient",
                row.patient,
                f"no {missing} WES sample: left out of shared_private, drivers and the paired "
                "site tests (kept in tmb.tsv)",
                row.patient,
                present,
            )
    return excluded


def shared_private(
    variants: pd.DataFrame, samples: list[dict], reference: str, compare: str
) -> pd.DataFrame:
    """Shared and site-private passing variants per paired patient.

    Parameters
    ----------
    variants
        The cohort's passing variants (`load_variants`); a variant is its chrom, pos, ref, alt.
    samples
        ``{"sample", "patient", "site"}`` of the WES samples.
    reference, compare
        The two site labels; only patients with a sample at both are rows.

    Returns
    -------
    pandas.DataFrame
        patient, shared, private_<reference>, private_<compare> (counts of variants) and jaccard
        (shared / union; NaN when neither sample has a variant).
    """
    keys = {
        sample: set(map(tuple, group[KEY].astype(str).to_numpy()))
        for sample, group in variants.groupby("sample")
    }
    rows = []
    for patient, sites in paired_patients(samples, reference, compare).items():
        a = keys.get(sites[reference], set())
        b = keys.get(sites[compare], set())
        union = len(a | b)
        rows.append(
            {
                "patient": patient,
                "shared": len(a & b),
                f"private_{reference}": len(a - b),
                f"private_{compare}": len(b - a),
                "jaccard": len(a & b) / union if union else np.nan,
            }
        )
    columns = ["patient", "shared", f"private_{reference}", f"private_{compare}", "jaccard"]
    return pd.DataFrame(rows, columns=columns)


def drivers_table(
    variants: pd.DataFrame,
    samples: list[dict],
    drivers: list[str],
    reference: str,
    compare: str,
) -> pd.DataFrame:
    """Non-synonymous mutations of the driver genes per paired patient, site by site.

    Parameters
    ----------
    variants
        The cohort's passing variants (columns sample, gene, nonsynonymous).
    samples
        ``{"sample", "patient", "site"}`` of the WES samples.
    drivers
        The config's driver gene symbols, in the order of the rows.
    reference, compare
        The two site labels; only patients with a sample at both are counted.

    Returns
    -------
    pandas.DataFrame
        patient, gene, in_<reference>, in_<compare> (bool): one row per patient and driver gene
        mutated at either site.
    """
    hits = variants[variants["nonsynonymous"] & variants["gene"].isin(drivers)]
    mutated = set(zip(hits["sample"], hits["gene"], strict=True))
    rows = []
    for patient, sites in paired_patients(samples, reference, compare).items():
        for gene in drivers:
            in_ref = (sites[reference], gene) in mutated
            in_cmp = (sites[compare], gene) in mutated
            if in_ref or in_cmp:
                rows.append(
                    {
                        "patient": patient,
                        "gene": gene,
                        f"in_{reference}": in_ref,
                        f"in_{compare}": in_cmp,
                    }
                )
    return pd.DataFrame(rows, columns=["patient", "gene", f"in_{reference}", f"in_{compare}"])


def neoantigen_table(records: list[dict], max_ic50_nm: float) -> pd.DataFrame:
    """Neoantigen counts per sample with a neoantigen file.

    Parameters
    ----------
    records
        ``{"sample", "patient", "site", "path"}`` per sample; path is its neoantigen table
        (`neoantigens.read_neoantigens`).
    max_ic50_nm
        Binding cut-off: a neoantigen has a predicted IC50 of at most this (nM).

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, n_neoantigens (distinct variant, peptide, HLA binders) and
        n_neoantigen_variants (distinct variants among them).

    Raises
    ------
    InputError
        When a neoantigen table cannot be read (from `read_neoantigens`).
    """
    rows = []
    for record in records:
        n, n_variants = count_neoantigens(read_neoantigens(record["path"]), max_ic50_nm)
        rows.append(
            {
                "sample": record["sample"],
                "patient": record["patient"],
                "site": record["site"],
                "n_neoantigens": n,
                "n_neoantigen_variants": n_variants,
            }
        )
    columns = ["sample", "patient", "site", "n_neoantigens", "n_neoantigen_variants"]
    return pd.DataFrame(rows, columns=columns)


def site_comparison(
    tmb: pd.DataFrame,
    neoantigens: pd.DataFrame | None,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired site tests of tmb, n_nonsynonymous and n_neoantigens (exact Wilcoxon, BH across them).

    Parameters
    ----------
    tmb
        `tmb_table` (patient, site, tmb, n_nonsynonymous).
    neoantigens
        `neoantigen_table`, or None (or empty) when no sample has neoantigens; then that metric is
        left out.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous); None (no collection days) leaves the table
        as it was.

    Returns
    -------
    pandas.DataFrame
        `organomics.stats.paired_site_comparison` with one row per metric (and subset).
    """
    long = [
        tmb[["patient", "site", metric]].rename(columns={metric: "value"}).assign(metric=metric)
        for metric in ("tmb", "n_nonsynonymous")
    ]
    if neoantigens is not None and len(neoantigens):
        long.append(
            neoantigens[["patient", "site", "n_neoantigens"]]
            .rename(columns={"n_neoantigens": "value"})
            .assign(metric="n_neoantigens")
        )
    table = pd.concat(long, ignore_index=True)
    return paired_site_comparison(table, "value", ["metric"], reference, compare, simultaneous)


def sbs6(ref: str, alt: str) -> str:
    """SBS6 class of a single-base substitution, on the pyrimidine strand.

    Parameters
    ----------
    ref, alt
        The variant's alleles; a purine reference (G, A) is reverse-complemented, so that G>T
        counts as C>A.

    Returns
    -------
    str
        One of SBS6 (e.g. ``"C>T"``); "" for anything but a substitution of one A, C, G or T base.
    """
    if len(ref) != 1 or len(alt) != 1 or ref == alt or ref not in "ACGT" or alt not in "ACGT":
        return ""
    if ref in "GA":
        ref, alt = ref.translate(_COMPLEMENT), alt.translate(_COMPLEMENT)
    return f"{ref}>{alt}"


def spectrum_table(variants: pd.DataFrame, samples: list[dict]) -> pd.DataFrame:
    """SBS6 substitution spectrum of each sample.

    Parameters
    ----------
    variants
        The cohort's passing variants (columns sample, ref, alt); indels and other non-SBS rows
        are ignored.
    samples
        ``{"sample", "patient", "site"}`` of the WES samples; every sample gets all six rows, also
        without variants.

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, substitution, n and fraction (of the sample's SBS; 0 when it has
        none).
    """
    classes = [sbs6(r, a) for r, a in zip(variants["ref"], variants["alt"], strict=True)]
    snv = variants.assign(substitution=classes)
    snv = snv[snv["substitution"] != ""]
    counts = snv.groupby(["sample", "substitution"]).size()
    rows = []
    for record in samples:
        total = sum(counts.get((record["sample"], s), 0) for s in SBS6)
        for s in SBS6:
            n = int(counts.get((record["sample"], s), 0))
            rows.append(
                {**record, "substitution": s, "n": n, "fraction": n / total if total else 0}
            )
    return pd.DataFrame(
        rows, columns=["sample", "patient", "site", "substitution", "n", "fraction"]
    )


def top_genes(variants: pd.DataFrame, samples: list[dict], n: int = 20) -> list[str]:
    """Genes with non-synonymous mutations in the most patients (either site), for the plots.

    Parameters
    ----------
    variants
        The cohort's passing variants (columns sample, gene, nonsynonymous); rows without a gene
        are ignored.
    samples
        ``{"sample", "patient", "site"}`` of the WES samples, to count patients, not samples.
    n
        How many genes.

    Returns
    -------
    list of str
        Up to `n` gene symbols, most patients first (ties keep the variants' order of genes).
    """
    patient = {r["sample"]: r["patient"] for r in samples}
    hits = variants[variants["nonsynonymous"] & (variants["gene"] != "")]
    per_gene = hits.assign(patient=hits["sample"].map(patient)).groupby("gene")["patient"].nunique()
    return per_gene.sort_values(ascending=False, kind="stable").head(n).index.tolist()


def with_samples(variants: pd.DataFrame, samples: list[dict]) -> pd.DataFrame:
    """All passing variants with each sample's patient and site (the cohort mutation table).

    Parameters
    ----------
    variants
        The cohort's passing variants (column sample and the variant columns).
    samples
        ``{"sample", "patient", "site"}`` of the WES samples; variants of other samples are
        dropped.

    Returns
    -------
    pandas.DataFrame
        sample, patient, site, then the variant columns.
    """
    meta = pd.DataFrame(samples, columns=["sample", "patient", "site"])
    return meta.merge(variants, on="sample", how="inner")
