"""SBS96 classes from a hand-written FASTA, counted by hand."""

from __future__ import annotations

import pandas as pd
import pysam
import pytest

from organomics.errors import InputError
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
