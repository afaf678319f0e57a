"""TCR clonotypes: readers on real Cell Ranger / AIRR files, clonotype definition, metrics."""

from __future__ import annotations

import csv
import gzip
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.scrna import tcr

DATA = Path(__file__).parent / "data" / "tcr"
NO_CONTIGS = pd.DataFrame(columns=tcr.CONTIG_COLUMNS).astype(
    {"is_cell": bool, "high_confidence": bool, "productive": bool}
)
REAL = sorted(p.name for p in DATA.iterdir() if p.name != "PROVENANCE.md")


def reference_cells(path: Path) -> dict[str, dict[str, str]]:
    """The clonotype definition with the csv module alone: {barcode: {chain: cdr3_nt}}."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="," if ".csv" in path.name else "\t"))
    best: dict[tuple[str, str], tuple] = {}
    for row in rows:
        if "barcode" in row:  # Cell Ranger
            cell, chain, cdr3 = row["barcode"], row["chain"], row["cdr3_nt"]
            ok = row.get("is_cell", "true").lower() == "true"
            ok &= row["high_confidence"].lower() == "true" and row["productive"].lower() == "true"
            umis, reads, contig = int(row["umis"]), int(row["reads"]), row["contig_id"]
        else:  # AIRR
            cell, chain, cdr3 = row["cell_id"], row["locus"], row["junction"]
            ok = cell != "" and row["productive"] in ("T", "TRUE", "true")
            umis = int(row.get("umi_count") or row["duplicate_count"])
            reads, contig = int(row["consensus_count"]), row["sequence_id"]
        if not ok or chain not in ("TRA", "TRB") or cdr3 in ("", "None"):
            continue
        key = (-umis, -reads, contig)  # most UMIs, then most reads, then smallest id
        if (cell, chain) not in best or key < best[(cell, chain)][0]:
            best[(cell, chain)] = (key, cdr3)
    cells: dict[str, dict[str, str]] = {}
    for (cell, chain), (_, cdr3) in best.items():
        cells.setdefault(cell, {})[chain] = cdr3
    return cells


@pytest.mark.parametrize("name", REAL)
def test_real_files_match_an_independent_csv_pass(name):
    path = DATA / name
    cells = tcr.clonotypes(tcr.read_contigs(path), "s")
    expected = reference_cells(path)
    paired = {c: v["TRA"] + ":" + v["TRB"] for c, v in expected.items() if len(v) == 2}
    got = cells[cells["chains"] == tcr.PAIRED].set_index("barcode")["clonotype"].to_dict()
    assert got == paired
    assert (cells["chains"] == "TRA only").sum() == sum(
        v.keys() == {"TRA"} for v in expected.values()
    )
    assert (cells["chains"] == "TRB only").sum() == sum(
        v.keys() == {"TRB"} for v in expected.values()
    )
    sizes = Counter(paired.values())
    assert cells.loc[cells["chains"] == tcr.PAIRED, "clone_size"].tolist() == [
        sizes[paired[b]] for b in sorted(paired)
    ]


def test_cellranger_v3_by_hand():
    # Read off the file: 5 barcodes; AAACTTGGTCCGTTAA has IGH/IGK only (no T cell); the Multi
    # rows (productive None) are ignored; AAACCTGGTCCGTTAA's TRA contig_4 and contig_5 both have
    # 5 UMIs, contig_4 has more reads (2047 > 1810) and wins; contig_11 is not productive.
    contigs = tcr.read_contigs(DATA / "cellranger_filtered_contig_annotations.csv")
    assert len(contigs) == 19
    cells = tcr.clonotypes(contigs, "s").set_index("barcode")
    assert list(cells.index) == [
        "AAACCTGAGATAGCAT-1", "AAACCTGAGTACGCCC-1", "AAACCTGCATAGAAAC-1", "AAACCTGGTCCGTTAA-1",
    ]  # fmt: skip
    assert cells.at["AAACCTGGTCCGTTAA-1", "tra_contig"] == "AAACCTGGTCCGTTAA-1_contig_4"
    assert cells.at["AAACCTGAGTACGCCC-1", "trb_contig"] == "AAACCTGAGTACGCCC-1_contig_1"  # 55 > 14
    assert cells.at["AAACCTGAGTACGCCC-1", "tra_contig"] == "AAACCTGAGTACGCCC-1_contig_3"  # 9 > 4
    summary = tcr.sample_summary(contigs, cells.reset_index(), {"sample": "s", "patient": "p",
                                                                  "site": "PL"})  # fmt: skip
    # four singletons: Shannon ln 4 / ln 4 = 1
    assert summary["n_cells"] == 4 and summary["n_clonotypes"] == 4
    assert summary["diversity"] == pytest.approx(1.0)
    assert summary["n_expanded_cells"] == 0


def test_lower_case_booleans_of_cell_ranger_7(tmp_path):
    # Cell Ranger 7+ writes true/false: the same file lower-cased gives the same cells.
    source = DATA / "cellranger_10k_BMMNC_all_contig_annotations_small.csv"
    lowered = tmp_path / "filtered_contig_annotations.csv"
    lowered.write_text(source.read_text().replace("TRUE", "true").replace("FALSE", "false"))
    upper = tcr.clonotypes(tcr.read_contigs(source), "s")
    lower = tcr.clonotypes(tcr.read_contigs(lowered), "s")
    pd.testing.assert_frame_equal(upper, lower)
    # by hand: 4 barcodes, the first two is_cell FALSE (left out); AAACCTGCACAGGTTT-1 has a TRA
    # and a TRB, AAACCTGCACATCTTT-1 a TRA only: one paired cell and one TRA-only cell
    assert (upper["chains"] == tcr.PAIRED).sum() == 1
    assert (upper["chains"] == "TRA only").sum() == 1


def test_airr_duplicate_count_and_missing_junction():
    # tra_issue_280: one cell; TRB contigs: junction present with 1 UMI (2927 reads), two
    # productive ones without a junction (2 and 1 UMIs) that cannot define a clonotype, so the
    # 1-UMI contig with a junction is chosen; TRA: the productive contig with 4 UMIs.
    contigs = tcr.read_contigs(DATA / "airr_tra_issue_280.tsv")
    cells = tcr.clonotypes(contigs, "s")
    assert len(cells) == 1
    assert cells.at[0, "trb_cdr3_nt"] == "TGTGCCAGCTCTCTCGGGGGGGAGAGTCAAAACACCTTGTACTTT"
    assert cells.at[0, "tra_cdr3_nt"] == "TGTGCAGCAAGGGGTAACAGAATCTTCTTT"
    record = {"sample": "s", "patient": "p", "site": "PL"}
    summary = tcr.sample_summary(contigs, cells, record)
    assert summary["n_no_cdr3"] == 2
    assert summary["diversity"] == 0.0  # one clonotype: defined as 0


def test_contig_id_breaks_a_full_tie(tmp_path):
    header = "barcode,is_cell,contig_id,high_confidence,chain,productive,cdr3_nt,reads,umis\n"
    rows = [
        "A-1,true,A-1_contig_2,true,TRA,true,TGTAAA,100,5\n",
        "A-1,true,A-1_contig_1,true,TRA,true,TGTCCC,100,5\n",  # same UMIs and reads: _1 < _2
        "A-1,true,A-1_contig_3,true,TRB,true,TGTGGG,10,5\n",
        "A-1,true,A-1_contig_4,false,TRB,true,TGTTTT,999,50\n",  # low confidence: ignored
    ]
    path = tmp_path / "t.csv"
    path.write_text(header + "".join(rows))
    cells = tcr.clonotypes(tcr.read_contigs(path), "s")
    assert cells.at[0, "clonotype"] == "TGTCCC:TGTGGG"


@pytest.mark.parametrize(
    ("change", "row", "column"),
    [
        (("true,TRA,true,TGTAAA", "true,TRA,yes,TGTAAA"), 2, "productive"),
        ((",100,5\n", ",100,5.5\n"), 2, "umis"),
        ((",10,5\n", ",-10,5\n"), 3, "reads"),
        (("A-1_contig_2", "A-1_contig_1"), 3, "contig_id"),
    ],
)
def test_bad_cells_name_file_row_and_column(tmp_path, change, row, column):
    header = "barcode,is_cell,contig_id,high_confidence,chain,productive,cdr3_nt,reads,umis\n"
    body = "A-1,true,A-1_contig_1,true,TRA,true,TGTAAA,100,5\n"
    body += "A-1,true,A-1_contig_2,true,TRB,true,TGTCCC,10,5\n"
    path = tmp_path / "bad.csv"
    path.write_text(header + body.replace(*change, 1))
    with pytest.raises(InputError) as error:
        tcr.read_contigs(path)
    assert error.value.row == row and error.value.column == column
    assert str(path) in str(error.value)


def test_unknown_format_and_missing_columns(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="not a Cell Ranger"):
        tcr.detect_format(path)
    path.write_text("sequence_id\tlocus\tcell_id\tproductive\tjunction\n")
    with pytest.raises(InputError, match="umi_count"):
        tcr.detect_format(path)
    path.write_text("barcode,contig_id,chain\n")
    with pytest.raises(InputError, match="high_confidence"):
        tcr.detect_format(path)


def test_normalised_shannon_by_hand():
    # sizes 2,1,1: p = 1/2,1/4,1/4; H = 1/2 ln2 + 2 * 1/4 ln4 = 1.5 ln 2; / ln 3
    assert tcr.normalised_shannon([2, 1, 1]) == pytest.approx(1.5 * math.log(2) / math.log(3))
    assert tcr.normalised_shannon([5]) == 0.0
    assert np.isnan(tcr.normalised_shannon([]))
    assert tcr.normalised_shannon([3, 3, 3]) == pytest.approx(1.0)


def test_morisita_horn_by_hand():
    # x = (a:2, b:1), y = (a:1, c:1): X=3, Y=2, sum xy = 2, Dx = 5/9, Dy = 2/4
    # C = 2*2 / ((5/9 + 1/2) * 3 * 2) = 4 / (19/18 * 6) = 12/19
    x = pd.Series({"a": 2, "b": 1})
    y = pd.Series({"a": 1, "c": 1})
    assert tcr.morisita_horn(x, y) == pytest.approx(12 / 19)
    assert tcr.morisita_horn(x, x * 3) == pytest.approx(1.0)  # same relative sizes
    assert tcr.morisita_horn(x, pd.Series({"z": 4})) == 0.0
    assert np.isnan(tcr.morisita_horn(x, pd.Series(dtype=float)))


def _cells(sample, clonotypes, extra=()):
    rows = [
        {"sample": sample, "barcode": f"B{i}-1", "chains": tcr.PAIRED, "clonotype": c}
        for i, c in enumerate(clonotypes)
    ]
    rows += [
        {"sample": sample, "barcode": f"X{i}-1", "chains": "TRB only", "clonotype": ""}
        for i in range(len(extra))
    ]
    cells = pd.DataFrame(rows)
    sizes = cells.loc[cells["clonotype"] != "", "clonotype"].value_counts()
    cells["clone_size"] = cells["clonotype"].map(sizes).fillna(0).astype(int)
    cells["expanded"] = cells["clone_size"] >= 2
    return cells


def test_shared_clonotypes_and_expansion_boundary():
    cells = pd.concat(
        [
            _cells("P1_PL", ["a", "a", "a", "b", "c"], extra=[1]),
            _cells("P1_LM", ["a", "c", "d", "d"]),
            _cells("P2_PL", ["e"]),
        ]
    )
    records = [
        {"sample": "P1_PL", "patient": "P1", "site": "PL"},
        {"sample": "P1_LM", "patient": "P1", "site": "LM"},
        {"sample": "P2_PL", "patient": "P2", "site": "PL"},
    ]
    excluded = Exclusions("tcr")
    shared = tcr.shared_clonotypes(cells, records, "PL", "LM", excluded)
    row = shared.iloc[0]
    assert len(shared) == 1 and row["patient"] == "P1"
    assert row["n_shared"] == 2  # a and c
    assert row["frac_cells_shared_PL"] == pytest.approx(4 / 5)
    assert row["frac_cells_shared_LM"] == pytest.approx(2 / 4)
    # x = a3 b1 c1, y = a1 c1 d2: sum xy = 3+1 = 4, Dx = 11/25, Dy = 6/16, X=5, Y=4
    assert row["morisita_horn"] == pytest.approx(8 / ((11 / 25 + 6 / 16) * 20))
    assert excluded.table()["item"].tolist() == ["P2"]
    # expanded = clone size >= 2, exactly at the boundary: the two d cells are expanded
    lm = cells[cells["sample"] == "P1_LM"]
    summary = tcr.sample_summary(NO_CONTIGS, lm, records[1])
    assert summary["n_expanded_cells"] == 2 and summary["n_expanded_clonotypes"] == 1


def test_join_and_expansion_by_cell_type():
    cells = _cells("P1_PL", ["a", "a", "b", "c"])
    obs = pd.DataFrame(
        {
            "sample": "P1_PL",
            "cell_type": ["T_CD8", "T_CD8", "T_CD4"],
            "state": ["CD8_effector", "CD8_effector", np.nan],  # CD4 cells have no CD8 state
        },
        index=["P1_PL_B0-1", "P1_PL_B1-1", "P1_PL_B2-1"],  # B3-1 failed QC
    )
    joined = tcr.join_annotations(cells, obs, ["cell_type", "cell_state", "state"])
    assert joined["annotated"].tolist() == [True, True, True, False]
    assert "cell_state" not in joined  # absent from obs: skipped
    assert joined["state"].tolist() == ["CD8_effector", "CD8_effector", "", ""]
    records = [{"sample": "P1_PL", "patient": "P1", "site": "PL"}]
    table = tcr.expansion_by_annotation(joined, records, ["cell_type", "state"])
    assert table[["annotation", "label", "n_cells", "n_expanded_cells"]].values.tolist() == [
        ["cell_type", "T_CD4", 1, 0],
        ["cell_type", "T_CD8", 2, 2],
        ["state", "CD8_effector", 2, 2],
    ]
    summary = pd.DataFrame([tcr.sample_summary(NO_CONTIGS, cells, records[0])])
    wide = tcr.add_cell_type_expansion(summary, table)
    assert wide.at[0, "n_annotated"] == 3
    assert wide.at[0, "frac_expanded_T_CD8"] == 1.0 and wide.at[0, "frac_expanded_T_CD4"] == 0.0


def test_site_comparison_leaves_out_small_samples():
    summary = pd.DataFrame(
        {
            "sample": ["P1_PL", "P1_LM", "P2_PL", "P2_LM"],
            "patient": ["P1", "P1", "P2", "P2"],
            "site": ["PL", "LM", "PL", "LM"],
            "n_cells": [10, 10, 9, 30],
            "diversity": [0.9, 0.5, 0.1, 0.2],
            "frac_expanded": [0.1, 0.3, 0.0, 0.0],
        }
    )
    excluded = Exclusions("tcr")
    table = tcr.site_comparison(summary, "PL", "LM", 10, excluded)
    # n_cells 10 is kept (>= 10), 9 left out: P2 loses its pair
    assert excluded.table()["item"].tolist() == ["P2_PL"]
    row = table.set_index("metric").loc["diversity"]
    assert row["n_pairs"] == 1 and row["n_unpaired"] == 1
    assert row["median_difference"] == pytest.approx(-0.4)


def test_findings_rows_of_the_tcr_comparison():
    from organomics.summary import findings

    comparison = pd.DataFrame(
        {
            "metric": ["diversity", "frac_expanded_T_CD8"],
            "n_pairs": [6, 5],
            "median_PL": [0.9, 0.4],
            "median_LM": [0.95, 0.1],
            "median_difference": [0.05, -0.3],
            "p_value": [0.03125, 0.0625],
            "p_adj": [0.0625, 0.0625],
            "test": ["Wilcoxon signed-rank, exact, two-sided"] * 2,
            "correction": ["Benjamini-Hochberg across 2 tests"] * 2,
        }
    )
    rows = findings.tcr_rows(comparison, "PL", "LM")
    assert [r["measure"] for r in rows] == [
        "TCR diversity (normalised Shannon of clone sizes)",
        "expanded fraction of T_CD8 TCR cells",
    ]
    assert rows[1]["value_PL"] == 0.4 and rows[1]["effect"] == -0.3 and rows[1]["n"] == 5


def test_demo_tcr_files_match_the_demo_cells(tmp_path):
    from organomics.demo import scrna as demo
    from organomics.demo.cohort import DemoCohort
    from organomics.scrna.io import read_sample

    cohort = DemoCohort(n_patients=4, n_pairs=3, n_sc_pairs=3, n_cells=150)
    sheet, _ = demo.write(tmp_path / "d", "d", cohort)
    names = {s: Path(v["tcr"]).name for s, v in sheet.items()}
    assert names["P01_PL"].endswith("_filtered_contig_annotations.csv")
    assert names["P02_PL"].endswith("_filtered_contig_annotations.csv.gz")
    assert names["P03_LM"] == "P03_LM_airr_rearrangement.tsv"
    clonotype_sets = {}
    for sample, values in sheet.items():
        contigs = tcr.read_contigs(tmp_path / values["tcr"])
        cells = tcr.clonotypes(contigs, sample)
        matrix = read_sample(tmp_path / values["scrna"], sample)
        barcodes = {name.removeprefix(f"{sample}_") for name in matrix.obs_names}
        # every TCR barcode is one of the sample's cells but the 5 planted without a GEX cell
        assert len(set(cells["barcode"]) - barcodes) == 5
        clonotype_sets[sample] = cells.loc[cells["chains"] == tcr.PAIRED, "clonotype"]
    for patient in ("P01", "P02", "P03"):
        pl, lm = clonotype_sets[f"{patient}_PL"], clonotype_sets[f"{patient}_LM"]
        assert len(set(pl) & set(lm)) >= 1  # clonotypes shared between the sites
        assert pl.value_counts().max() > lm.value_counts().max()  # the PL-expanded clone
