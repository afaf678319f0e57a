"""Cancer cell fractions of passing variants, clonal/subclonal classes per patient and seeding."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection

import numpy as np
import pandas as pd
from scipy import stats

from organomics.excluded import Exclusions
from organomics.pairing import paired_patients
from organomics.stats import compare_measures
from organomics.wes.copynumber import segment_at

log = logging.getLogger(__name__)

KEY = ["chrom", "pos", "ref", "alt"]
CCF_COLUMNS = [
    "sample", "chrom", "pos", "ref", "alt", "vaf", "total_cn", "minor_cn", "purity",
    "mutation_copies", "multiplicity", "ccf", "ccf_low", "ccf_high", "clonal",
]  # fmt: skip
# Relative tolerance of the threshold comparisons (mutation_copies < 1, rounding at .5,
# ccf_high >= 1): a value that is on the boundary in exact arithmetic may land a few ulps off it
# after the products and divisions of the formula, and must fall on the side it belongs to.
BOUNDARY_RTOL = 1e-9


def at_least(values: np.ndarray, threshold: float) -> np.ndarray:
    """Elementwise ``values >= threshold``, counting values within BOUNDARY_RTOL of it as equal.

    A value on the boundary in exact arithmetic may land a few ulps below it after the CCF
    formula's products and divisions; it must still count as reaching the threshold.

    Parameters
    ----------
    values
        The values to compare (e.g. CCF upper bounds, mutation copies).
    threshold
        The threshold; the tolerance is relative to it (absolute below 1).

    Returns
    -------
    numpy.ndarray
        Boolean, one per value.
    """
    return values >= threshold - BOUNDARY_RTOL * max(1.0, abs(threshold))


def round_half_up(values: np.ndarray) -> np.ndarray:
    """Nearest integer, halves rounded up, tolerant at the half.

    numpy rounds halves to even; the multiplicity rounds 1.5 to 2, and a value meant to be on the
    half is rounded up even when the arithmetic left it a few ulps below.

    Parameters
    ----------
    values
        The values to round (e.g. mutation copies).

    Returns
    -------
    numpy.ndarray
        The rounded values as floats (NaN stays NaN).
    """
    return np.floor(values + 0.5 + BOUNDARY_RTOL * np.maximum(1.0, np.abs(values)))


def clopper_pearson(alt: np.ndarray, depth: np.ndarray, level: float) -> tuple:
    """Exact binomial (Clopper-Pearson) interval of alt/depth at confidence `level`.

    Parameters
    ----------
    alt
        Alt-allele read counts.
    depth
        Read depths, elementwise with `alt`.
    level
        Two-sided confidence level, e.g. 0.95.

    Returns
    -------
    low, high : numpy.ndarray
        The bounds of the VAF; 0 as the lower bound when alt is 0, 1 as the upper bound when alt
        equals depth.
    """
    alt = np.asarray(alt, dtype=float)
    depth = np.asarray(depth, dtype=float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        low = np.where(alt > 0, stats.beta.ppf(tail, alt, depth - alt + 1), 0.0)
        high = np.where(alt < depth, stats.beta.ppf(1 - tail, alt + 1, depth - alt), 1.0)
    return low, high


def cancer_cell_fractions(
    vaf: np.ndarray,
    alt_count: np.ndarray,
    depth: np.ndarray,
    total_cn: np.ndarray,
    minor_cn: np.ndarray,
    purity: float,
    level: float = 0.95,
) -> pd.DataFrame:
    """CCF of each variant from its VAF, read counts, local copy number and the purity.

    Parameters
    ----------
    vaf, alt_count, depth
        Per variant: allele fraction and the tumour read counts behind it.
    total_cn, minor_cn
        Copy number of the segment holding the variant (NaN outside every segment; minor NaN
        when the caller gives total copy number only).
    purity
        Tumour cell fraction of the sample (0 < purity <= 1).
    level
        Confidence level of the binomial interval.

    Returns
    -------
    pandas.DataFrame
        mutation_copies, multiplicity, ccf, ccf_low, ccf_high, clonal (NaN / NA where the
        variant has no copy number).

    Notes
    -----
    McGranahan et al., Science 2016 (and Landau et al., Cell 2013):
    ``mutation_copies = vaf * (purity * total_cn + 2 * (1 - purity)) / purity``; the
    multiplicity is 1 when mutation_copies < 1, else mutation_copies rounded to the nearest
    integer (halves up) and capped at the major copy number ``total_cn - minor_cn`` (the total
    when the minor is unknown), at least 1; ``ccf = min(1, mutation_copies / multiplicity)``.
    ccf_low and ccf_high push the Clopper-Pearson interval of alt_count / depth through the same
    formula with the same multiplicity; a variant is clonal when ccf_high reaches 1.
    """
    vaf = np.asarray(vaf, dtype=float)
    total = np.asarray(total_cn, dtype=float)
    minor = np.asarray(minor_cn, dtype=float)
    scale = (purity * total + 2 * (1 - purity)) / purity
    copies = vaf * scale
    major = np.where(np.isnan(minor), total, total - minor)
    major = np.maximum(major, 1.0)
    rounded = np.minimum(round_half_up(copies), major)
    multiplicity = np.where(at_least(copies, 1.0), rounded, 1.0)
    multiplicity[np.isnan(copies)] = np.nan
    low, high = clopper_pearson(alt_count, depth, level)
    ccf = np.minimum(1.0, copies / multiplicity)
    high_raw = high * scale / multiplicity
    clonal = pd.array(at_least(high_raw, 1.0), dtype="boolean")
    clonal[np.isnan(high_raw)] = pd.NA
    return pd.DataFrame(
        {
            "mutation_copies": copies,
            "multiplicity": multiplicity,
            "ccf": ccf,
            "ccf_low": np.minimum(1.0, low * scale / multiplicity),
            "ccf_high": np.minimum(1.0, high_raw),
            "clonal": clonal,
        }
    )


def ccf_table(
    variants: pd.DataFrame, segments: pd.DataFrame, purity: float, level: float = 0.95
) -> pd.DataFrame:
    """One sample's passing variants with their copy number and CCF (CCF_COLUMNS).

    Parameters
    ----------
    variants
        The sample's passing variants (sample, chrom, pos, ref, alt, vaf, alt_count, depth).
    segments
        The sample's `copynumber.read_segments` table.
    purity
        The sample's purity.
    level
        Confidence level of the CCF interval.

    Returns
    -------
    pandas.DataFrame
        CCF_COLUMNS; variants outside every segment keep their VAF and purity with empty
        copy number and CCF.
    """
    index = segment_at(segments, variants["chrom"].astype(str), variants["pos"])
    inside = index >= 0
    total = np.full(len(variants), np.nan)
    minor = np.full(len(variants), np.nan)
    total[inside] = segments["total_cn"].to_numpy()[index[inside]]
    minor[inside] = segments["minor_cn"].to_numpy()[index[inside]]
    fractions = cancer_cell_fractions(
        variants["vaf"].to_numpy(dtype=float),
        variants["alt_count"].to_numpy(dtype=float),
        variants["depth"].to_numpy(dtype=float),
        total,
        minor,
        purity,
        level,
    )
    table = variants[["sample", *KEY, "vaf"]].reset_index(drop=True).copy()
    table["total_cn"] = total
    table["minor_cn"] = minor
    table["purity"] = purity
    table = pd.concat([table, fractions], axis=1)
    return table[CCF_COLUMNS]


def math_score(vaf: np.ndarray) -> float:
    """Mutant-allele tumour heterogeneity (MATH; Mroz & Rocco, Oral Oncol 2013) of one sample.

    ``100 * 1.4826 * median(|vaf - median(vaf)|) / median(vaf)``: the spread of the VAFs relative
    to their median.

    Parameters
    ----------
    vaf
        The sample's variant allele fractions; NaN values are ignored.

    Returns
    -------
    float
        The MATH score; NaN for fewer than two variants (no spread to measure) or a median VAF of
        0 or less.
    """
    vaf = np.asarray(vaf, dtype=float)
    vaf = vaf[~np.isnan(vaf)]
    if len(vaf) < 2:
        return np.nan
    middle = float(np.median(vaf))
    if middle <= 0:
        return np.nan
    return 100.0 * 1.4826 * float(np.median(np.abs(vaf - middle))) / middle


_VARIANT = re.compile(r"^(?:chr)?([^:]+):(\d+)(?:-(\d+))?:([^>]*)>(.*)$", re.IGNORECASE)


def neoantigen_key(variant: str) -> tuple | None:
    """The position key of a neoantigen table's variant name, or None if unreadable.

    pVACseq variants are ``chrom:start-stop:ref>alt`` (0-based start); a generic table's
    ``chrom:pos:ref>alt`` is read as a 1-based VCF position. A ``chr`` prefix is dropped and
    ``M`` becomes ``MT``, so that the key matches `variant_keys` of the VCF.

    Parameters
    ----------
    variant
        The variant column's value.

    Returns
    -------
    tuple or None
        (chrom, 0-based start, ref, alt) with '-' for an empty allele; None when the name is not
        in either form.
    """
    match = _VARIANT.match(str(variant))
    if not match:
        return None
    chrom, first, stop, ref, alt = match.groups()
    start = int(first) if stop is not None else int(first) - 1
    chrom = "MT" if chrom.upper() == "M" else chrom
    return chrom, start, ref or "-", alt or "-"


def variant_keys(chrom: str, pos: int, ref: str, alt: str) -> list[tuple]:
    """Keys under which a neoantigen tool may name a VCF variant (VCF or trimmed alleles).

    VEP and pVACseq drop the shared first base of an indel ('-' for the empty allele), and tools
    differ in whether the start then moves by one; each form is a key.

    Parameters
    ----------
    chrom
        Chromosome as in the CCF table (no ``chr`` prefix).
    pos
        1-based VCF position.
    ref, alt
        The VCF alleles.

    Returns
    -------
    list of tuple
        (chrom, 0-based start, ref, alt) keys comparable to `neoantigen_key`: the VCF alleles,
        plus two trimmed forms for an indel with a shared first base.
    """
    keys = [(chrom, pos - 1, ref, alt)]
    if len(ref) != len(alt) and ref[:1] == alt[:1]:
        # VEP/pVACseq drop the shared first base of an indel ('-' for the empty allele)
        trimmed_ref, trimmed_alt = ref[1:] or "-", alt[1:] or "-"
        keys += [(chrom, pos, trimmed_ref, trimmed_alt), (chrom, pos - 1, trimmed_ref, trimmed_alt)]
    return keys


def clonal_neoantigens(
    epitopes: pd.DataFrame, ccf: pd.DataFrame, max_ic50_nm: float
) -> tuple[int | None, int | None]:
    """(neoantigens from clonal variants, from subclonal variants) of one sample.

    Parameters
    ----------
    epitopes
        `neoantigens.read_neoantigens` table (variant, peptide, hla, ic50_nm).
    ccf
        The sample's CCF table.
    max_ic50_nm
        Binding cut-off (a neoantigen: IC50 at most this).

    Returns
    -------
    tuple
        Distinct (variant, peptide, HLA) binders whose variant is clonal / subclonal; (None,
        None) when no variant name of the table can be read as a position.
    """
    binders = epitopes[epitopes["ic50_nm"] <= max_ic50_nm].drop_duplicates(
        ["variant", "peptide", "hla"]
    )
    status: dict[tuple, bool] = {}
    for row in ccf[ccf["clonal"].notna()].itertuples(index=False):
        for key in variant_keys(str(row.chrom), int(row.pos), row.ref, row.alt):
            status[key] = bool(row.clonal)
    keys = [neoantigen_key(v) for v in binders["variant"]]
    if binders.shape[0] and all(k is None for k in keys):
        return None, None
    found = [status.get(k) for k in keys if k is not None]
    return sum(s is True for s in found), sum(s is False for s in found)


def variant_classes(
    ccf: pd.DataFrame, samples: list[dict], reference: str, compare: str
) -> pd.DataFrame:
    """Per paired patient and variant: CCF and clonal status at each site and the class.

    Parameters
    ----------
    ccf
        ccf.tsv rows of every sample with copy number.
    samples
        ``{"sample", "patient", "site"}`` of the samples with a CCF table.
    reference, compare
        Site labels.

    Returns
    -------
    pandas.DataFrame
        patient, chrom, pos, ref, alt, ccf_<ref>, ccf_<cmp> (0 where the variant was not
        called), clonal_<ref>, clonal_<cmp> (empty where not called or without copy number),
        class: ``shared_clonal`` (clonal at both sites), ``shared_subclonal`` (subclonal at
        both), ``shared_mixed`` (clonal at one site only), ``private_<site>_clonal`` /
        ``private_<site>_subclonal``, or ``unknown`` (called at a site without copy number
        there).
    """
    columns = ["patient", *KEY]
    columns += [f"{m}_{s}" for m in ("ccf", "clonal") for s in (reference, compare)]
    frames = []
    for patient, sites in paired_patients(samples, reference, compare).items():
        per_site = []
        for site in (reference, compare):
            table = ccf[ccf["sample"] == sites[site]].set_index(KEY)[["ccf", "clonal"]]
            per_site.append(table.assign(called=True).add_suffix(f"_{site}"))
        joined = per_site[0].join(per_site[1], how="outer").reset_index()
        frames.append(joined.assign(patient=patient))
    if not frames:
        return pd.DataFrame(columns=[*columns, "class"])
    table = pd.concat(frames, ignore_index=True)
    called = {s: table[f"called_{s}"].eq(True).to_numpy() for s in (reference, compare)}
    status = {s: table[f"clonal_{s}"].astype("boolean") for s in (reference, compare)}
    classes = []
    for i in range(len(table)):
        seen = [s for s in (reference, compare) if called[s][i]]
        values = [status[s].iloc[i] for s in seen]
        if any(v is pd.NA for v in values):
            classes.append("unknown")
        elif len(seen) == 2:
            n_clonal = sum(bool(v) for v in values)
            classes.append(("shared_subclonal", "shared_mixed", "shared_clonal")[n_clonal])
        else:
            classes.append(f"private_{seen[0]}_{'clonal' if values[0] else 'subclonal'}")
    table["class"] = classes
    for site in (reference, compare):
        # a variant not called at a site has no cancer cells there carrying it
        table[f"ccf_{site}"] = table[f"ccf_{site}"].where(called[site], 0.0)
        table[f"clonal_{site}"] = status[site].where(called[site], pd.NA)
    return table[[*columns, "class"]]


CLASSES = ("shared_clonal", "shared_subclonal", "shared_mixed")


def patient_clonality(
    classes: pd.DataFrame, reference: str, compare: str, polyclonal_jsi: float
) -> pd.DataFrame:
    """Per patient: shared/private counts by clonality, clonal Jaccard, JSI and seeding.

    Parameters
    ----------
    classes
        `variant_classes` rows.
    reference, compare
        Site labels.
    polyclonal_jsi
        Seeding is called polyclonal when the JSI exceeds this (Hu et al., Nat Genet 2020).

    Returns
    -------
    pandas.DataFrame
        patient, n_shared_clonal, n_shared_subclonal, n_shared_mixed, n_private_<site> and its
        _clonal/_subclonal split per site, n_unknown, jaccard_clonal (clonal at both sites /
        clonal at either), jsi (shared subclonal / (shared subclonal + private clonal of both
        sites), Hu et al. 2020 as implemented by MesKit's calJSI), seeding (monoclonal /
        polyclonal; empty when the JSI has no denominator).
    """
    rows = []
    for patient, group in classes.groupby("patient", sort=False):
        counts = group["class"].value_counts()
        n = {name: int(counts.get(name, 0)) for name in counts.index}
        row = {"patient": patient}
        for name in CLASSES:
            row[f"n_{name}"] = n.get(name, 0)
        for site in (reference, compare):
            clonal = n.get(f"private_{site}_clonal", 0)
            subclonal = n.get(f"private_{site}_subclonal", 0)
            row[f"n_private_{site}"] = clonal + subclonal
            row[f"n_private_{site}_clonal"] = clonal
            row[f"n_private_{site}_subclonal"] = subclonal
        row["n_unknown"] = n.get("unknown", 0)
        clonal_ref = group[f"clonal_{reference}"].eq(True)
        clonal_cmp = group[f"clonal_{compare}"].eq(True)
        either = int((clonal_ref | clonal_cmp).sum())
        row["jaccard_clonal"] = int((clonal_ref & clonal_cmp).sum()) / either if either else np.nan
        shared_sub = row["n_shared_subclonal"]
        denominator = shared_sub + row[f"n_private_{reference}_clonal"]
        denominator += row[f"n_private_{compare}_clonal"]
        row["jsi"] = shared_sub / denominator if denominator else np.nan
        if denominator:
            # compared as integers (shared * den vs cut-off): a JSI equal to the cut-off in
            # exact arithmetic is not polyclonal, whatever its floating-point rounding
            polyclonal = shared_sub > polyclonal_jsi * denominator * (1 + BOUNDARY_RTOL)
            row["seeding"] = "polyclonal" if polyclonal else "monoclonal"
        else:
            row["seeding"] = ""
        rows.append(row)
    columns = ["patient", *(f"n_{c}" for c in CLASSES)]
    for site in (reference, compare):
        columns += [f"n_private_{site}", f"n_private_{site}_clonal", f"n_private_{site}_subclonal"]
    columns += ["n_unknown", "jaccard_clonal", "jsi", "seeding"]
    return pd.DataFrame(rows, columns=columns)


SAMPLE_COLUMNS = [
    "sample", "patient", "site", "purity", "n_variants", "math", "n_ccf", "n_clonal",
    "n_subclonal", "fraction_clonal", "n_clonal_neoantigens", "n_subclonal_neoantigens",
]  # fmt: skip


def sample_clonality(
    samples: list[dict],
    variants: pd.DataFrame,
    ccf: pd.DataFrame,
    purity: dict[str, float],
    neoantigens: dict[str, tuple[int | None, int | None]],
) -> pd.DataFrame:
    """Per WES sample: MATH, clonal/subclonal counts and the clonal neoantigen burden.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    variants
        Passing variants of every sample (sample, vaf).
    ccf
        ccf.tsv rows (samples with purity and copy number).
    purity
        Purity of the samples with copy number.
    neoantigens
        (clonal, subclonal) neoantigen counts of the samples with a CCF and a neoantigen
        table (`clonal_neoantigens`).

    Returns
    -------
    pandas.DataFrame
        SAMPLE_COLUMNS; MATH for every sample with two or more passing variants, the CCF
        columns empty for samples without copy number, the neoantigen ones empty without a
        neoantigen table.
    """
    rows = []
    vafs = variants.groupby("sample")["vaf"]
    for record in samples:
        sample = record["sample"]
        values = vafs.get_group(sample).to_numpy(float) if sample in vafs.groups else []
        row = {**record, "n_variants": len(values), "math": math_score(values)}
        if sample in purity:
            own = ccf[(ccf["sample"] == sample) & ccf["clonal"].notna()]
            n_clonal = int(own["clonal"].astype(bool).sum())
            row.update(
                purity=purity[sample],
                n_ccf=len(own),
                n_clonal=n_clonal,
                n_subclonal=len(own) - n_clonal,
                fraction_clonal=n_clonal / len(own) if len(own) else np.nan,
            )
        clonal, subclonal = neoantigens.get(sample, (None, None))
        row["n_clonal_neoantigens"] = clonal
        row["n_subclonal_neoantigens"] = subclonal
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SAMPLE_COLUMNS)
    for column in ("n_ccf", "n_clonal", "n_subclonal", "n_clonal_neoantigens"):
        table[column] = table[column].astype("Int64")
    table["n_subclonal_neoantigens"] = table["n_subclonal_neoantigens"].astype("Int64")
    return table


def clonality_comparison(
    per_sample: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired site tests of math, fraction_clonal and n_clonal_neoantigens (exact Wilcoxon, BH).

    Parameters
    ----------
    per_sample
        The per-sample clonality table: patient, site and the three measures (NaN where a sample
        lacks one; those values are dropped).
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
        `organomics.stats.paired_site_comparison` with one row per measure; a measure nobody has
        is left out, and the columns metric, n_pairs and n_unpaired alone (no rows) remain when
        nobody has any.
    """
    return compare_measures(
        per_sample,
        ("math", "fraction_clonal", "n_clonal_neoantigens"),
        reference,
        compare,
        simultaneous,
    )


def clonality_exclusions(
    samples: list[dict],
    with_cn: set[str],
    reference: str,
    compare: str,
    unreadable_neoantigens: set[str] = frozenset(),
) -> Exclusions:
    """What the clonality step leaves out, with reasons.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    with_cn
        Samples with both a purity and a copy-number file.
    reference, compare
        Site labels.
    unreadable_neoantigens
        Samples whose neoantigen table names no variant by position.

    Returns
    -------
    Exclusions
        Step ``clonality``: samples without purity or copy number (no rows in ccf.tsv, CCF
        columns empty in clonality_samples.tsv), paired patients with copy number at one site
        only (not in clonality.tsv), samples whose neoantigens cannot be matched to variants.
    """
    excluded = Exclusions("clonality")
    for record in samples:
        if record["sample"] not in with_cn:
            excluded.add(
                "sample",
                record["sample"],
                "no purity and cn in the sheet: no rows in ccf.tsv, CCF columns empty in "
                "clonality_samples.tsv (MATH kept)",
                record["patient"],
                record["site"],
            )
    for patient, sites in paired_patients(samples, reference, compare).items():
        missing = [site for site in (reference, compare) if sites[site] not in with_cn]
        if len(missing) == 1:
            excluded.add(
                "patient",
                patient,
                f"no copy number for the {missing[0]} sample: not in clonality.tsv",
                patient,
                missing[0],
            )
    for record in samples:
        if record["sample"] in unreadable_neoantigens:
            excluded.add(
                "sample",
                record["sample"],
                "neoantigen table names no variant as chrom:start-stop:ref>alt (pVACseq) or "
                "chrom:pos:ref>alt: clonal neoantigen burden left empty",
                record["patient"],
                record["site"],
            )
    return excluded


def cohort_clonality(
    samples: list[dict],
    variants: pd.DataFrame,
    copy_number: list[dict],
    segments: dict[str, pd.DataFrame],
    neoantigens: dict[str, pd.DataFrame],
    reference: str,
    compare: str,
    level: float = 0.95,
    polyclonal_jsi: float = 0.3,
    max_ic50_nm: float = 500,
    simultaneous: Collection[str] | None = None,
) -> dict:
    """Every clonality table of the cohort.

    Parameters
    ----------
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    variants
        Passing variants of every sample.
    copy_number
        ``{"sample", "patient", "site", "purity"}`` of the samples with purity and copy number.
    segments
        Those samples' `copynumber.read_segments` tables.
    neoantigens
        `neoantigens.read_neoantigens` table of each sample that has one.
    reference, compare
        Site labels.
    level, polyclonal_jsi, max_ic50_nm
        CCF interval level, seeding cut-off, neoantigen IC50 cut-off.
    simultaneous
        See `clonality_comparison`.

    Returns
    -------
    dict
        ``ccf`` (ccf.tsv), ``classes`` (clonality_variants.tsv), ``patients``
        (clonality.tsv), ``samples`` (clonality_samples.tsv), ``comparison``
        (clonality_comparison.tsv), ``excluded`` (Exclusions).
    """
    purity = {r["sample"]: float(r["purity"]) for r in copy_number}
    parts = [
        ccf_table(variants[variants["sample"] == s], segments[s], purity[s], level) for s in purity
    ]
    ccf = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CCF_COLUMNS)
    counts, unreadable = {}, set()
    for sample, epitopes in neoantigens.items():
        if sample in purity:
            found = clonal_neoantigens(epitopes, ccf[ccf["sample"] == sample], max_ic50_nm)
            counts[sample] = found
            if found == (None, None):
                unreadable.add(sample)
    with_cn = [r for r in samples if r["sample"] in purity]
    classes = variant_classes(ccf, with_cn, reference, compare)
    per_sample = sample_clonality(samples, variants, ccf, purity, counts)
    return {
        "ccf": ccf,
        "classes": classes,
        "patients": patient_clonality(classes, reference, compare, polyclonal_jsi),
        "samples": per_sample,
        "comparison": clonality_comparison(per_sample, reference, compare, simultaneous),
        "excluded": clonality_exclusions(samples, set(purity), reference, compare, unreadable),
    }
