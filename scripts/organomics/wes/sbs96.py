"""SBS96 counts (COSMIC trinucleotide classes) of passing SNVs, contexts read from the FASTA."""

from __future__ import annotations

import logging

import pandas as pd
import pysam

from organomics.errors import InputError
from organomics.excluded import Exclusions

log = logging.getLogger(__name__)

SUBSTITUTIONS = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
BASES = "ACGT"
# COSMIC order: substitution, then 5' base, then 3' base (A[C>A]A, A[C>A]C, ...)
SBS96 = [f"{five}[{sub}]{three}" for sub in SUBSTITUTIONS for five in BASES for three in BASES]
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
# Above this share of SNVs whose REF differs from the FASTA, the FASTA is the wrong build or
# assembly rather than a few odd records: stop instead of counting.
MAX_MISMATCH = 0.1


def sbs96_class(context: str, alt: str) -> str:
    """COSMIC class of a substitution from its reference trinucleotide and ALT base.

    Parameters
    ----------
    context
        5' base, reference base, 3' base on the forward strand (upper case).
    alt
        The ALT base.

    Returns
    -------
    str
        e.g. ``A[C>T]G``; the pyrimidine (C/T) strand: a purine reference is reverse-complemented
        with its context and ALT. "" for a context with a base other than A, C, G, T.
    """
    if len(context) != 3 or any(b not in BASES for b in context) or alt not in BASES:
        return ""
    if context[1] in "AG":
        context = context.translate(_COMPLEMENT)[::-1]
        alt = alt.translate(_COMPLEMENT)
    return f"{context[0]}[{context[1]}>{alt}]{context[2]}"


def _contig(fasta: pysam.FastaFile, chrom: str) -> str | None:
    names = set(fasta.references)
    candidates = [chrom, f"chr{chrom}"] + (["chrM", "M"] if chrom == "MT" else [])
    return next((name for name in candidates if name in names), None)


# Why an SNV is not counted, in the order excluded.tsv lists them (step sbs96).
SKIPPED = {
    "absent": "on contigs absent from the FASTA ({detail}): not counted in sbs96.tsv",
    "edge": "at the first or last base of a contig (no trinucleotide): not counted in sbs96.tsv",
    "n_context": "an N (or another base than A, C, G, T) in the FASTA trinucleotide: not counted "
    "in sbs96.tsv",
    "mismatch": "REF differs from the FASTA base ({detail}; the run stops above "
    f"{MAX_MISMATCH:.0%} of the SNVs): not counted in sbs96.tsv",
}


def sbs96_table(
    variants: pd.DataFrame,
    samples: list[dict],
    fasta_path: str,
    excluded: Exclusions | None = None,
) -> pd.DataFrame:
    """Counts of the 96 classes per sample.

    Parameters
    ----------
    variants
        Passing variants of every sample (sample, chrom, pos, ref, alt).
    samples
        ``{"sample", "patient", "site"}`` of every WES sample (a row each, zeros when none has
        an SNV).
    fasta_path
        Reference FASTA (plain or bgzipped, with its .fai, and .gzi when bgzipped).
    excluded
        When given, receives one ``snvs`` row per sample and reason for the SNVs left out:
        on a contig absent from the FASTA, at a contig end, with an N in the trinucleotide, or
        with a REF other than the FASTA's (`SKIPPED`).

    Returns
    -------
    pandas.DataFrame
        ``sample`` and the 96 SBS96 columns.

    Raises
    ------
    InputError
        When more than MAX_MISMATCH of the SNVs on the FASTA's contigs have a REF other than the
        FASTA's base, or none of their chromosomes is in the FASTA.
    """
    snv = variants[(variants["ref"].str.len() == 1) & (variants["alt"].str.len() == 1)]
    snv = snv[snv["ref"].isin(list(BASES)) & snv["alt"].isin(list(BASES))]
    counts = {record["sample"]: dict.fromkeys(SBS96, 0) for record in samples}
    skipped: dict[str, dict[str, list[str]]] = {}
    mismatched, checked = [], 0
    try:
        fasta = pysam.FastaFile(fasta_path)
    except (OSError, ValueError) as error:
        raise InputError(fasta_path, f"cannot open the FASTA: {error}") from None

    def skip(sample: str, reason: str, what: str) -> None:
        skipped.setdefault(sample, {}).setdefault(reason, []).append(what)

    with fasta:
        for row in snv.itertuples(index=False):
            contig = _contig(fasta, str(row.chrom))
            if contig is None:
                skip(row.sample, "absent", str(row.chrom))
                continue
            context = fasta.fetch(contig, max(0, row.pos - 2), row.pos + 1).upper()
            if len(context) != 3:  # first or last base of a contig: no trinucleotide
                skip(row.sample, "edge", f"{row.chrom}:{row.pos}")
                continue
            checked += 1
            if context[1] != row.ref:
                what = f"{row.chrom}:{row.pos} {row.ref} (FASTA {context[1:2] or '-'})"
                mismatched.append(what)
                skip(row.sample, "mismatch", what)
                continue
            name = sbs96_class(context, row.alt)
            if not name:
                skip(row.sample, "n_context", f"{row.chrom}:{row.pos} {context}")
            elif row.sample in counts:
                counts[row.sample][name] += 1
    if len(snv) and not checked:
        raise InputError(fasta_path, "none of the variants' chromosomes is in the FASTA")
    if checked and len(mismatched) > MAX_MISMATCH * checked:
        raise InputError(
            fasta_path,
            f"{len(mismatched)} of {checked} SNVs have a REF other than the FASTA's base (e.g. "
            f"{', '.join(mismatched[:3])}); is it the build the VCFs were called on?",
        )
    n_skipped = {r: sum(len(s.get(r, [])) for s in skipped.values()) for r in SKIPPED}
    if any(n_skipped.values()):
        log.warning("SBS96: SNVs left out: %s", n_skipped)
    if excluded is not None:
        _add_exclusions(excluded, samples, snv, skipped)
    table = pd.DataFrame.from_dict(counts, orient="index", columns=SBS96)
    return table.rename_axis("sample").reset_index()


def _add_exclusions(excluded: Exclusions, samples: list[dict], snv: pd.DataFrame, skipped: dict):
    """One ``snvs`` row per sample and reason, naming the contigs or the first positions."""
    n_snv = snv.groupby("sample").size()
    for record in samples:
        sample = record["sample"]
        for reason, text in SKIPPED.items():
            found = skipped.get(sample, {}).get(reason, [])
            if not found:
                continue
            if reason == "absent":
                detail = ", ".join(dict.fromkeys(found))
            else:
                detail = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
            excluded.add(
                "snvs",
                f"{sample}: {len(found)} of {int(n_snv.get(sample, 0))} SNVs",
                text.format(detail=detail) + ("" if "{detail}" in text else f" ({detail})"),
                record.get("patient", ""),
                record.get("site", ""),
            )
