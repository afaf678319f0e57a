"""Consequence annotation: VEP CSQ / SnpEff ANN parsing, severity ranking and MAF classes."""

from __future__ import annotations

from functools import lru_cache

# Ensembl VEP consequence order, most severe first
# (https://www.ensembl.org/info/genome/variation/prediction/predicted_data.html).
SO_SEVERITY = [
    "transcript_ablation",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_donor_5th_base_variant",
    "splice_region_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "incomplete_terminal_codon_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "mature_miRNA_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "NMD_transcript_variant",
    "non_coding_transcript_variant",
    "coding_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "TFBS_ablation",
    "TFBS_amplification",
    "TF_binding_site_variant",
    "regulatory_region_ablation",
    "regulatory_region_amplification",
    "regulatory_region_variant",
    "intergenic_variant",
    "sequence_variant",
]
# SnpEff terms that are not in VEP's list, ranked with their VEP equivalent.
SNPEFF_EQUIVALENT = {
    "exon_loss_variant": "transcript_ablation",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "conservative_inframe_deletion": "inframe_deletion",
    "rare_amino_acid_variant": "missense_variant",
    "initiator_codon_variant": "start_retained_variant",
    "5_prime_UTR_premature_start_codon_gain_variant": "5_prime_UTR_variant",
    "intragenic_variant": "intron_variant",
    "non_coding_exon_variant": "non_coding_transcript_exon_variant",
    "intergenic_region": "intergenic_variant",
    "conserved_intergenic_variant": "intergenic_variant",
    "conserved_intron_variant": "intron_variant",
}
_RANK = {term: i for i, term in enumerate(SO_SEVERITY)}
for _term, _equivalent in SNPEFF_EQUIVALENT.items():
    _RANK[_term] = _RANK[_equivalent]
UNKNOWN_RANK = len(SO_SEVERITY)

# Non-synonymous terms counted by TMB (issue definition), with SnpEff's equivalents.
NONSYNONYMOUS_SO = frozenset(
    {
        "missense_variant",
        "stop_gained",
        "stop_lost",
        "start_lost",
        "frameshift_variant",
        "inframe_insertion",
        "inframe_deletion",
        "splice_acceptor_variant",
        "splice_donor_variant",
        "protein_altering_variant",
        "disruptive_inframe_insertion",
        "conservative_inframe_insertion",
        "disruptive_inframe_deletion",
        "conservative_inframe_deletion",
        "rare_amino_acid_variant",
        "exon_loss_variant",
    }
)
# maftools' default non-synonymous Variant_Classification set (tmb(), oncoplot()).
NONSYNONYMOUS_MAF = frozenset(
    {
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonsense_Mutation",
        "Nonstop_Mutation",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Missense_Mutation",
    }
)


def parse_format(description: str) -> list[str]:
    """Field names of a CSQ/ANN INFO header's Description.

    Parameters
    ----------
    description
        The Description of the ``##INFO=<ID=CSQ`` (VEP: ``"... Format: A|B|C"``) or ``ID=ANN``
        (SnpEff: ``"Functional annotations: 'A | B | C' "``) header line, quotes included or not.

    Returns
    -------
    list of str
        The '|'-separated field names, stripped, in order; empty when the text holds no '|'
        (not an annotation format the reader can use).
    """
    text = description.strip().strip('"')
    if "Format:" in text:
        text = text.split("Format:", 1)[1]
    elif ":" in text:
        text = text.split(":", 1)[1]
    text = text.strip().strip("'\"").strip()
    if "|" not in text:
        return []
    return [field.strip() for field in text.split("|")]


@lru_cache(maxsize=4096)
def term_rank(consequence: str) -> int:
    """Severity rank of an '&'-joined consequence string (lower = more severe).

    Cached: the same few consequence strings recur across the entries of every variant.

    Parameters
    ----------
    consequence
        SO terms joined by '&' (e.g. ``"missense_variant&splice_region_variant"``).

    Returns
    -------
    int
        The rank of its most severe term in SO_SEVERITY; UNKNOWN_RANK (after every known term)
        for unknown terms or an empty string.
    """
    return min((_RANK.get(t, UNKNOWN_RANK) for t in consequence.split("&")), default=UNKNOWN_RANK)


def most_severe_term(consequence: str) -> str:
    """The most severe single term of an '&'-joined consequence string.

    Parameters
    ----------
    consequence
        SO terms joined by '&'.

    Returns
    -------
    str
        The term with the lowest SO_SEVERITY rank (unknown terms rank last; the first wins a
        tie); "" for an empty string.
    """
    terms = [t for t in consequence.split("&") if t]
    return min(terms, key=lambda t: _RANK.get(t, UNKNOWN_RANK)) if terms else ""


@lru_cache(maxsize=4096)
def is_nonsynonymous(consequence: str) -> bool:
    """Tell whether any term of an '&'-joined SO consequence string is non-synonymous.

    Parameters
    ----------
    consequence
        SO terms joined by '&'.

    Returns
    -------
    bool
        True when at least one term is in NONSYNONYMOUS_SO.
    """
    return any(t in NONSYNONYMOUS_SO for t in consequence.split("&"))


def vep_allele(ref: str, alts: list[str], alt: str) -> str:
    """The allele string VEP writes in a CSQ entry's 'Allele' field for one ALT.

    VEP trims the first base only when every allele (REF and all ALTs) shares it and the record
    has an indel, and writes an empty remainder as '-'; matching this picks the entries of the
    right ALT at a multi-allelic site when CSQ has no ALLELE_NUM.

    Parameters
    ----------
    ref
        The VCF REF allele.
    alts
        All ALT alleles of the record.
    alt
        The ALT whose CSQ allele string is wanted (one of `alts`).

    Returns
    -------
    str
        `alt` as VEP writes it.
    """
    if len({a[:1] for a in (ref, *alts)}) == 1 and any(len(a) != len(ref) for a in alts):
        return alt[1:] or "-"
    return alt


def maf_class(consequence: str, ref: str, alt: str) -> str:
    """MAF Variant_Classification of a variant (after vcf2maf's mapping).

    Parameters
    ----------
    consequence
        The chosen annotation's SO terms joined by '&' (SnpEff terms are mapped to their SO
        equivalents).
    ref, alt
        The VCF alleles; their lengths tell SNV from insertion or deletion (e.g. Frame_Shift_Del
        vs Frame_Shift_Ins).

    Returns
    -------
    str
        The MAF class of the most severe term, e.g. ``"Missense_Mutation"``, ``"Splice_Site"``.
    """
    return _maf_class(consequence, len(ref) != len(alt), len(ref) > len(alt))


@lru_cache(maxsize=4096)
def _maf_class(consequence: str, indel: bool, deletion: bool) -> str:
    term = most_severe_term(consequence)
    if term not in NONSYNONYMOUS_SO:
        term = SNPEFF_EQUIVALENT.get(term, term)
    if term in ("transcript_ablation", "splice_acceptor_variant", "splice_donor_variant"):
        return "Splice_Site"
    if term == "exon_loss_variant":
        return "Splice_Site"
    if term == "stop_gained":
        return "Nonsense_Mutation"
    if term == "frameshift_variant":
        return "Frame_Shift_Del" if deletion else "Frame_Shift_Ins"
    if term == "stop_lost":
        return "Nonstop_Mutation"
    if term == "start_lost":
        return "Translation_Start_Site"
    if "inframe_insertion" in term:
        return "In_Frame_Ins"
    if "inframe_deletion" in term:
        return "In_Frame_Del"
    if term == "protein_altering_variant" and indel:
        return "In_Frame_Del" if deletion else "In_Frame_Ins"
    if term in ("missense_variant", "protein_altering_variant", "rare_amino_acid_variant"):
        return "Missense_Mutation"
    if term in ("splice_region_variant", "splice_donor_5th_base_variant"):
        return "Splice_Region"
    if term in (
        "synonymous_variant",
        "stop_retained_variant",
        "start_retained_variant",
        "incomplete_terminal_codon_variant",
        "coding_sequence_variant",
    ):
        return "Silent"
    if term in ("mature_miRNA_variant", "non_coding_transcript_exon_variant"):
        return "RNA"
    if term == "5_prime_UTR_variant":
        return "5'UTR"
    if term == "3_prime_UTR_variant":
        return "3'UTR"
    if term in ("intron_variant", "splice_donor_region_variant"):
        return "Intron"
    if term == "upstream_gene_variant":
        return "5'Flank"
    if term == "downstream_gene_variant":
        return "3'Flank"
    if term in ("intergenic_variant",) or "regulatory" in term or "TF" in term:
        return "IGR"
    return "Targeted_Region"


# One picked annotation: (gene, consequence, hgvsp); empty strings when the allele has none.
Annotation = tuple[str, str, str]
EMPTY: Annotation = ("", "", "")


class CsqPicker:
    """Picks one VEP CSQ entry per allele: PICK=1, else CANONICAL=YES, else the most severe."""

    def __init__(self, fields: list[str]):
        self.fields = fields
        index = {name: i for i, name in enumerate(fields)}
        self.i_allele = index.get("Allele", 0)
        self.i_csq = index["Consequence"]
        self.i_symbol = index.get("SYMBOL", index.get("Gene"))
        self.i_pick = index.get("PICK")
        self.i_canonical = index.get("CANONICAL")
        self.i_allele_num = index.get("ALLELE_NUM")
        self.i_hgvsp = index.get("HGVSp")
        self.n_fields = len(fields)

    def pick(self, csq: str, ref: str, alts: list[str], allele_index: int) -> Annotation:
        """The allele's entry with the smallest (not PICK=1, not CANONICAL=YES, severity rank):
        PICK first, then canonical, then the most severe; later rules break ties."""
        n = self.n_fields
        i_pick, i_canonical, i_csq = self.i_pick, self.i_canonical, self.i_csq
        if self.i_allele_num is not None:
            want, i_match = str(allele_index + 1), self.i_allele_num
        elif len(alts) == 1:
            want, i_match = None, 0  # every entry belongs to the only ALT
        else:
            want, i_match = vep_allele(ref, alts, alts[allele_index]), self.i_allele
        best = best_key = None
        for text in csq.split(","):
            entry = text.split("|")
            if len(entry) < n:
                entry.extend([""] * (n - len(entry)))
            if want is not None and entry[i_match] != want:
                continue
            key = (
                i_pick is not None and entry[i_pick] != "1",
                i_canonical is not None and entry[i_canonical] != "YES",
                term_rank(entry[i_csq]),
            )
            if best is None or key < best_key:
                best, best_key = entry, key
        if best is None:
            return EMPTY
        return (
            best[self.i_symbol] if self.i_symbol is not None else "",
            best[i_csq],
            best[self.i_hgvsp] if self.i_hgvsp is not None else "",
        )


class AnnPicker:
    """Picks the first SnpEff ANN entry of an allele (SnpEff sorts entries by severity)."""

    def __init__(self, fields: list[str]):
        self.fields = fields
        index = {name.replace(" ", ""): i for i, name in enumerate(fields)}
        self.i_allele = index.get("Allele", 0)
        self.i_csq = index.get("Annotation", 1)
        self.i_gene = index.get("Gene_Name", 3)
        self.i_hgvsp = index.get("HGVS.p")

    def pick(self, ann: str, ref: str, alts: list[str], allele_index: int) -> Annotation:
        alt = alts[allele_index]
        for entry in ann.split(","):
            parts = entry.split("|")
            allele = parts[self.i_allele].strip() if parts else ""
            # cancer mode writes 'ALT-REF' entries (one tumour allele against another): skipped
            if allele == alt:
                return (
                    _field(parts, self.i_gene),
                    _field(parts, self.i_csq),
                    _field(parts, self.i_hgvsp),
                )
        return EMPTY


def _field(parts: list[str], i: int | None) -> str:
    return parts[i].strip() if i is not None and i < len(parts) else ""
