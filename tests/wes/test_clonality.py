"""CCF, clonal classes, JSI/seeding and MATH against numbers computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from organomics.wes.clonality import (
    at_least,
    ccf_table,
    clonal_neoantigens,
    clonality_exclusions,
    math_score,
    neoantigen_key,
    patient_clonality,
    round_half_up,
    sample_clonality,
    variant_classes,
)

SEGMENTS = pd.DataFrame(
    {
        "chrom": ["1", "1", "2"],
        "start": [1, 1001, 1],
        "end": [1000, 2000, 5000],
        "total_cn": [2.0, 4.0, 2.0],
        "minor_cn": [1.0, 1.0, np.nan],
    }
)


def variants(rows):
    columns = ["chrom", "pos", "ref", "alt", "vaf", "alt_count", "depth"]
    table = pd.DataFrame(rows, columns=columns)
    table.insert(0, "sample", "S")
    return table


def test_ccf_hand_computed():
    table = ccf_table(
        variants(
            [
                # purity 0.5, CN 2 (1+1): scale (0.5*2 + 2*0.5)/0.5 = 4; 0.25*4 = 1 copy
                ("1", 100, "C", "T", 0.25, 25, 100),
                # CN 4 (3+1): scale (2 + 1)/0.5 = 6; 0.25*6 = 1.5 -> 2 copies, CCF 0.75
                ("1", 1500, "G", "A", 0.25, 50, 200),
                # CN 4 (3+1): 0.5*6 = 3 copies = major 3 -> CCF 1
                ("1", 2000, "A", "G", 0.5, 50, 100),
                # CN 2, minor unknown: scale 4, 0.6*4 = 2.4 -> 2 (cap: total 2), CCF 1
                ("2", 10, "T", "C", 0.6, 60, 100),
                # outside every segment: no copy number, no CCF
                ("1", 2500, "C", "A", 0.3, 30, 100),
                # 0.1*4 = 0.4 copies < 1 -> multiplicity 1, CCF 0.4
                ("1", 1000, "C", "G", 0.1, 10, 100),
            ]
        ),
        SEGMENTS,
        0.5,
    )
    assert table["mutation_copies"].iloc[[0, 1, 2, 3, 5]].tolist() == pytest.approx(
        [1.0, 1.5, 3.0, 2.4, 0.4]
    )
    assert table["multiplicity"].iloc[[0, 1, 2, 3, 5]].tolist() == [1, 2, 3, 2, 1]
    assert table["ccf"].iloc[[0, 1, 2, 3, 5]].tolist() == pytest.approx([1, 0.75, 1, 1, 0.4])
    assert table["total_cn"].iloc[4] != table["total_cn"].iloc[4]  # NaN
    outside = table.iloc[4]
    assert outside["vaf"] == 0.3 and outside["purity"] == 0.5
    assert outside[["mutation_copies", "multiplicity", "ccf", "ccf_low", "ccf_high"]].isna().all()
    assert outside["clonal"] is pd.NA
    assert list(table.columns) == [
        "sample", "chrom", "pos", "ref", "alt", "vaf", "total_cn", "minor_cn", "purity",
        "mutation_copies", "multiplicity", "ccf", "ccf_low", "ccf_high", "clonal",
    ]  # fmt: skip


def test_ccf_interval_closed_forms():
    # Clopper-Pearson: k = n gives low = (alpha/2)^(1/n), high 1; k = n - 1 gives
    # high = (1 - alpha/2)^(1/n). Purity 1, CN 2 (2+0): scale 2.
    segments = SEGMENTS.assign(minor_cn=[0.0, 1.0, 0.0])
    table = ccf_table(
        variants([("1", 5, "C", "T", 1.0, 20, 20), ("1", 6, "C", "T", 0.95, 19, 20)]),
        segments,
        1.0,
    )
    all_alt, one_ref = table.iloc[0], table.iloc[1]
    assert all_alt["multiplicity"] == 2 and all_alt["ccf"] == 1
    assert all_alt["ccf_low"] == pytest.approx(0.025 ** (1 / 20) * 2 / 2)
    assert all_alt["ccf_high"] == 1 and bool(all_alt["clonal"])
    # 0.95 * 2 = 1.9 copies -> 2; CCF 0.95, high 0.975^(1/20) = 0.99873 < 1: subclonal
    assert one_ref["ccf"] == pytest.approx(0.95)
    assert one_ref["ccf_high"] == pytest.approx(0.975 ** (1 / 20))
    assert not bool(one_ref["clonal"])


def test_half_copies_round_up_although_floating_point_lands_below():
    # purity 0.28, CN 2 (2+0): 0.21 * (0.56 + 1.44) / 0.28 is 1.5 exactly but
    # 1.4999999999999998 in floating point; floor(x + 0.5) would give 1 copy and CCF 1
    segments = SEGMENTS.assign(minor_cn=[0.0, 1.0, 0.0])
    table = ccf_table(variants([("1", 5, "C", "T", 0.21, 21, 100)]), segments, 0.28)
    assert table["mutation_copies"].iloc[0] < 1.5
    assert table["multiplicity"].iloc[0] == 2
    assert table["ccf"].iloc[0] == pytest.approx(0.75)
    assert round_half_up(np.array([0.5, 1.5, 2.4999, 2.5 - 1e-15])).tolist() == [1, 2, 2, 3]


def test_clonal_exactly_at_the_boundary():
    # ccf_high = high * scale / multiplicity with high = 0.975^(1/20) for 19 of 20 reads; a
    # purity chosen so that scale = 1 / high in exact arithmetic puts ccf_high on 1
    high = 0.975 ** (1 / 20)
    purity = 2 / (1 / high + 1)  # CN 1 (1+0): scale = 1 + 2 (1 - p) / p = 1 / high
    segments = SEGMENTS.assign(total_cn=[1.0, 1.0, 1.0], minor_cn=[0.0, 0.0, 0.0])
    table = ccf_table(variants([("1", 5, "C", "T", 0.95, 19, 20)]), segments, purity)
    assert table["multiplicity"].iloc[0] == 1
    assert table["ccf_high"].iloc[0] == pytest.approx(1.0)
    assert bool(table["clonal"].iloc[0])
    assert at_least(np.array([1 - 1e-15, 1 - 1e-6]), 1.0).tolist() == [True, False]


def test_math_hand_computed():
    # median 0.3, |deviations| 0.2 0.1 0 0.1 0.2 -> median 0.1; 100 * 1.4826 * 0.1 / 0.3
    assert math_score(np.array([0.1, 0.2, 0.3, 0.4, 0.5])) == pytest.approx(49.42)
    assert np.isnan(math_score(np.array([0.3])))


def ccf_rows(sample, rows):
    return pd.DataFrame(
        [
            {"sample": sample, "chrom": "1", "pos": pos, "ref": "C", "alt": "T",
             "ccf": ccf, "clonal": clonal}
            for pos, ccf, clonal in rows
        ]
    )  # fmt: skip


SAMPLES = [
    {"sample": "A_PL", "patient": "A", "site": "PL"},
    {"sample": "A_LM", "patient": "A", "site": "LM"},
]


def test_classes_jaccard_jsi_and_seeding():
    ccf = pd.concat(
        [
            ccf_rows(
                "A_PL",
                [(1, 1, True), (2, 1, True), (3, 0.3, False), (4, 0.4, False), (5, 1, True)]
                + [(6, 0.2, False), (7, np.nan, pd.NA)],
            ),
            ccf_rows("A_LM", [(1, 1, True), (2, 0.5, False), (3, 0.2, False), (8, 1, True)]),
        ],
        ignore_index=True,
    )
    classes = variant_classes(ccf, SAMPLES, "PL", "LM").set_index("pos")
    assert classes["class"].to_dict() == {
        1: "shared_clonal",
        2: "shared_mixed",
        3: "shared_subclonal",
        4: "private_PL_subclonal",
        5: "private_PL_clonal",
        6: "private_PL_subclonal",
        7: "unknown",
        8: "private_LM_clonal",
    }
    assert classes.at[8, "ccf_PL"] == 0 and classes.at[4, "ccf_LM"] == 0
    table = patient_clonality(classes.reset_index(), "PL", "LM", 0.3).iloc[0]
    assert table[["n_shared_clonal", "n_shared_subclonal", "n_shared_mixed"]].tolist() == [1, 1, 1]
    assert table[["n_private_PL", "n_private_PL_clonal", "n_private_PL_subclonal"]].tolist() == [
        3, 1, 2,
    ]  # fmt: skip
    assert table[["n_private_LM", "n_private_LM_clonal", "n_unknown"]].tolist() == [1, 1, 1]
    # clonal PL {1, 2, 5}, clonal LM {1, 8}: 1 shared of 4
    assert table["jaccard_clonal"] == pytest.approx(0.25)
    # JSI = shared subclonal 1 / (1 + private clonal 1 + 1) = 1/3 > 0.3: polyclonal
    assert table["jsi"] == pytest.approx(1 / 3)
    assert table["seeding"] == "polyclonal"


def test_seeding_at_the_cut_off_is_monoclonal():
    # 3 shared subclonal, 7 private clonal: JSI 3/10 equals the cut-off 0.3 (not above it)
    rows_pl = [(i, 0.3, False) for i in range(3)] + [(10 + i, 1, True) for i in range(7)]
    ccf = pd.concat([ccf_rows("A_PL", rows_pl), ccf_rows("A_LM", rows_pl[:3])])
    table = patient_clonality(variant_classes(ccf, SAMPLES, "PL", "LM"), "PL", "LM", 0.3)
    assert table["jsi"].iloc[0] == pytest.approx(0.3)
    assert table["seeding"].iloc[0] == "monoclonal"
    rows_pl = [(i, 0.3, False) for i in range(4)] + [(10 + i, 1, True) for i in range(6)]
    ccf = pd.concat([ccf_rows("A_PL", rows_pl), ccf_rows("A_LM", rows_pl[:4])])
    table = patient_clonality(variant_classes(ccf, SAMPLES, "PL", "LM"), "PL", "LM", 0.3)
    assert table["seeding"].iloc[0] == "polyclonal"  # 4/10


def test_clonal_neoantigens_match_pvacseq_and_trimmed_indels():
    ccf = pd.DataFrame(
        {
            "chrom": ["1", "1", "2"],
            "pos": [100, 200, 300],
            "ref": ["C", "AT", "G"],
            "alt": ["T", "A", "GC"],
            "clonal": pd.array([True, False, True], dtype="boolean"),
        }
    )
    epitopes = pd.DataFrame(
        {
            "variant": ["1:99-100:C>T", "1:99-100:C>T", "1:200-201:T>-", "2:300:G>GC", "3:5:A>G"],
            "peptide": ["AAA", "CCC", "DDD", "EEE", "FFF"],
            "hla": ["HLA-A*02:01"] * 5,
            "ic50_nm": [50, 600, 20, 100, 10],
        }
    )
    # 1:100 C>T clonal (one binder; 600 nM is no neoantigen); the deletion 1:200 AT>A is
    # subclonal (pVACseq's trimmed T>-); 2:300 G>GC named in VCF style is clonal; 3:5 unknown
    assert clonal_neoantigens(epitopes, ccf, 500) == (2, 1)
    assert neoantigen_key("chr7:55191821-55191822:T>G") == ("7", 55191821, "T", "G")
    assert neoantigen_key("peptide-only") is None
    generic = epitopes.assign(variant=["x", "y", "z", "w", "v"])
    assert clonal_neoantigens(generic, ccf, 500) == (None, None)


def test_sample_table_and_exclusions():
    samples = [*SAMPLES, {"sample": "B_PL", "patient": "B", "site": "PL"}]
    passing = pd.DataFrame(
        {"sample": ["A_PL"] * 5 + ["A_LM"] * 2 + ["B_PL"], "vaf": [0.1, 0.2, 0.3, 0.4, 0.5]
         + [0.2, 0.4] + [0.3]}
    )  # fmt: skip
    ccf = ccf_rows("A_PL", [(1, 1, True), (2, 0.4, False), (3, np.nan, pd.NA)])
    table = sample_clonality(samples, passing, ccf, {"A_PL": 0.6}, {"A_PL": (3, 1)})
    a = table.set_index("sample").loc["A_PL"]
    assert a["math"] == pytest.approx(49.42)
    assert (a["n_ccf"], a["n_clonal"], a["n_subclonal"]) == (2, 1, 1)
    assert a["fraction_clonal"] == pytest.approx(0.5)
    assert (a["n_clonal_neoantigens"], a["n_subclonal_neoantigens"]) == (3, 1)
    assert table.set_index("sample")["purity"].isna().tolist() == [False, True, True]
    excluded = clonality_exclusions(samples, {"A_PL"}, "PL", "LM").table()
    assert excluded["item"].tolist() == ["A_LM", "B_PL", "A"]
    assert "not in clonality.tsv" in excluded["reason"].iloc[2]
