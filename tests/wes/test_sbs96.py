"""SBS96 classes from a hand-written FASTA, counted by hand."""

from __future__ import annotations

import pandas as pd
import pysam
import pytest

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.wes.sbs96 import SBS96, sbs96_class, sbs96_table

#          1234567890
CHR1 = "GACGTTCAGA"
CHR2 = "TTTCAAAGGG"


@pytest.fixture
def fasta(tmp_path):
    path = tmp_path / "ref.fa"
    path.write_text(f">chr1\n{CHR1}\n>chr2 second\n{CHR2}\n")
    pysam.faidx(str(path))
    return str(path)


def table(rows):
    return pd.DataFrame(rows, columns=["sample", "chrom", "pos", "ref", "alt"])


def test_columns_are_cosmic_order():
    assert len(SBS96) == 96 and SBS96[:3] == ["A[C>A]A", "A[C>A]C", "A[C>A]G"]
    assert SBS96[16] == "A[C>G]A" and SBS96[-1] == "T[T>G]T"


def test_counts_hand_computed(fasta):
    variants = table(
        [
            ("S1", "1", 3, "C", "T"),  # ACG -> A[C>T]G
            ("S1", "1", 4, "G", "A"),  # CGT, purine: revcomp ACG, G>A -> C>T: A[C>T]G
            ("S1", "1", 8, "A", "C"),  # CAG -> CTG, A>C -> T>G: C[T>G]G
            ("S1", "1", 1, "G", "T"),  # first base: no 5' neighbour, left out
            ("S1", "1", 5, "TT", "T"),  # deletion: not an SNV
            ("S2", "2", 5, "A", "G"),  # CAA -> TTG, A>G -> T>C: T[T>C]G
            ("S2", "2", 4, "C", "A"),  # TCA -> T[C>A]A
        ]
    )
    samples = [{"sample": "S1"}, {"sample": "S2"}, {"sample": "S3"}]
    counts = sbs96_table(variants, samples, fasta).set_index("sample")
    assert list(counts.columns) == SBS96
    assert counts.loc["S1"][counts.loc["S1"] > 0].to_dict() == {"A[C>T]G": 2, "C[T>G]G": 1}
    assert counts.loc["S2"][counts.loc["S2"] > 0].to_dict() == {"T[C>A]A": 1, "T[T>C]G": 1}
    assert counts.loc["S3"].sum() == 0


def test_wrong_build_stops(fasta):
    variants = table([("S1", "1", 3, "C", "T"), ("S1", "1", 6, "A", "G")])  # FASTA has T at 6
    with pytest.raises(InputError, match=r"1 of 2 SNVs have a REF other than.*1:6 A \(FASTA T\)"):
        sbs96_table(variants, [{"sample": "S1"}], fasta)


def test_class_of_an_n_context_is_empty():
    assert sbs96_class("ANG", "T") == "" and sbs96_class("TCA", "A") == "T[C>A]A"


def test_left_out_snvs_are_listed_with_their_reason(tmp_path):
    # chr3 has an N beside position 3; contigs 5 and X are not in the FASTA at all
    path = tmp_path / "ref.fa"
    path.write_text(f">chr1\n{CHR1}\n>chr3\nANGCTA\n")
    pysam.faidx(str(path))
    variants = table(
        [
            ("S1", "1", 3, "C", "T"),  # ACG: A[C>T]G, counted
            ("S1", "5", 100, "C", "T"),  # contig absent
            ("S1", "X", 7, "A", "G"),  # contig absent
            ("S1", "1", 10, "A", "C"),  # last base of chr1: no 3' neighbour
            ("S1", "3", 3, "G", "A"),  # NGC: an N in the trinucleotide
            # S2: 7 matching SNVs on chr1 (classes by hand below) and one REF the FASTA lacks
            ("S2", "1", 2, "A", "G"),  # GAC, purine: revcomp GTC -> G[T>C]C
            ("S2", "1", 4, "G", "T"),  # CGT -> revcomp ACG -> A[C>A]G
            ("S2", "1", 5, "T", "C"),  # GTT -> G[T>C]T
            ("S2", "1", 6, "T", "A"),  # TTC -> T[T>A]C
            ("S2", "1", 7, "C", "A"),  # TCA -> T[C>A]A
            ("S2", "1", 8, "A", "T"),  # CAG -> revcomp CTG -> C[T>A]G
            ("S2", "1", 9, "G", "C"),  # AGA -> revcomp TCT -> T[C>G]T
            ("S2", "1", 6, "C", "T"),  # FASTA has T at 6: 1 of the 10 checked SNVs, not > 10%
        ]
    )
    samples = [
        {"sample": "S1", "patient": "P1", "site": "PL"},
        {"sample": "S2", "patient": "P1", "site": "LM"},
    ]
    excluded = Exclusions("sbs96")
    counts = sbs96_table(variants, samples, str(path), excluded).set_index("sample")
    assert counts.loc["S1"][counts.loc["S1"] > 0].to_dict() == {"A[C>T]G": 1}
    assert counts.loc["S2"][counts.loc["S2"] > 0].to_dict() == dict.fromkeys(
        ["G[T>C]C", "A[C>A]G", "G[T>C]T", "T[T>A]C", "T[C>A]A", "C[T>A]G", "T[C>G]T"], 1
    )
    rows = excluded.table()
    assert rows["item"].tolist() == [
        "S1: 2 of 5 SNVs",
        "S1: 1 of 5 SNVs",
        "S1: 1 of 5 SNVs",
        "S2: 1 of 8 SNVs",
    ]
    assert set(rows["level"]) == {"snvs"} and rows["site"].tolist() == ["PL"] * 3 + ["LM"]
    reasons = rows["reason"].tolist()
    assert reasons[0].startswith("on contigs absent from the FASTA (5, X)")
    assert reasons[1].startswith("at the first or last base of a contig") and "1:10" in reasons[1]
    assert reasons[2].startswith("an N") and "3:3 NGC" in reasons[2]
    assert reasons[3].startswith("REF differs from the FASTA base (1:6 C (FASTA T)")
