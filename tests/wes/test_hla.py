"""HLA loss: LOHHLA's own example output, LOHHLA- and DASH-shaped tables, flagged neoantigens.

Data: tests/wes/data/hla/PROVENANCE.md. Expected calls are read off the files by eye: LOHHLA
loss = HLA_typeNcopyNum_withBAFBin < 0.5 and PVal_unique < 0.01 (McGranahan et al. 2017).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.wes.hla import cohort_hla, normalise_allele, read_hla_loh
from organomics.wes.neoantigens import read_neoantigens

DATA = Path(__file__).parent / "data" / "hla"
EXAMPLE = DATA / "lohhla_example.10.DNA.HLAlossPrediction_CI.xls"
PATIENT = DATA / "lohhla_patient.10.DNA.HLAlossPrediction_CI.xls"
DASH = DATA / "DASH.output.txt"


def status(values):
    """True / False / None (not evaluated) per key of a boolean Series."""
    return {key: None if pd.isna(value) else bool(value) for key, value in values.items()}


def calls(table):
    return status(table.set_index("allele")["lost"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hla_a_24_02_01", "HLA-A*24:02"),
        ("hla_c_07_01_01_01", "HLA-C*07:01"),
        ("HLA-A*02:01", "HLA-A*02:01"),
        ("HLA-B*07:02:01:01", "HLA-B*07:02"),
        ("A*11:01", "HLA-A*11:01"),
        ("HLA-A02:01", "HLA-A*02:01"),
        ("DRB1*15:01", "HLA-DRB1*15:01"),
        ("not an allele", ""),
    ],
)
def test_allele_names(name, expected):
    assert normalise_allele(name) == expected


def test_lohhla_example_output():
    # LOHHLA's correct-example-out: A*24:02 copy number 0.12196 (BAFBin), PVal_unique 8.7e-26,
    # the file's own LossAllele; A*01:01 at 1.43642 is kept
    table = read_hla_loh(str(EXAMPLE), "any sample id: one region")
    assert calls(table) == {"HLA-A*01:01": False, "HLA-A*24:02": True}
    row = table.set_index("allele").loc["HLA-A*24:02"]
    assert row["copy_number"] == pytest.approx(0.12196195366722)
    assert row["p_value"] == pytest.approx(8.74547646031458e-26)
    assert row["allele_raw"] == "hla_a_24_02_01_01" and row["tool"] == "LOHHLA"
    assert row["gene"] == "HLA-A"


def test_lohhla_regions_and_na():
    pl = read_hla_loh(str(PATIENT), "P1_PL_tumor")
    # A*24:02 0.21, p 3.1e-9: lost; B*08:01 0.62 >= 0.5: kept; C*07:01 0.44 but p 0.2: kept
    assert calls(pl) == {
        "HLA-A*02:01": False, "HLA-A*24:02": True, "HLA-B*07:02": False,
        "HLA-B*08:01": False, "HLA-C*07:01": False, "HLA-C*07:02": False,
    }  # fmt: skip
    lm = read_hla_loh(str(PATIENT), "P1_LM_tumor")
    lost = calls(lm)
    assert lost["HLA-A*24:02"] is True and lost["HLA-B*08:01"] is True  # 0.08 and 0.35
    assert lost["HLA-C*07:01"] is None and lost["HLA-C*07:02"] is None  # NA copy numbers
    with pytest.raises(InputError, match="regions P1_PL_tumor, P1_LM_tumor; none is 'P1'"):
        read_hla_loh(str(PATIENT), "P1")


def test_dash_output():
    table = read_hla_loh(str(DASH), "ignored")
    # DASH_deletion True for A*24:02 only; HLA-C homozygous (Confidence -1): not evaluated,
    # listed once
    assert calls(table) == {
        "HLA-A*02:01": False, "HLA-A*24:02": True, "HLA-B*07:02": False,
        "HLA-B*08:01": False, "HLA-C*07:01": None,
    }  # fmt: skip
    assert set(table["tool"]) == {"DASH"} and table["copy_number"].isna().all()


def test_unknown_layout_and_bad_cells(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text("allele\tloss\nhla_a_02_01\tTrue\n")
    with pytest.raises(InputError, match="neither a LOHHLA HLAlossPrediction table"):
        read_hla_loh(str(path), "S")
    text = DASH.read_text().replace("hla_b_07_02_01\tFalse", "hla_b_07_02_01\tmaybe")
    path.write_text(text)
    with pytest.raises(InputError, match=r"row 4, column 'DASH_deletion'"):
        read_hla_loh(str(path), "S")


def test_neoantigens_flagged_and_burden_compared(tmp_path):
    epitopes = tmp_path / "neo.tsv"
    epitopes.write_text(
        "variant\tpeptide\thla\tic50_nm\n"
        "1:100:C>T\tPEPTIDEA\tHLA-A*24:02\t50\n"
        "1:100:C>T\tPEPTIDEB\tHLA-A*02:01\t100\n"
        "2:200:G>A\tPEPTIDEC\tHLA-B*08:01\t200\n"
        "3:300:T>C\tPEPTIDED\tHLA-C*07:01\t300\n"
        "4:400:A>G\tPEPTIDEE\tDRB1*01:01\t100\n"
        "5:500:C>A\tPEPTIDEF\tHLA-A*24:02\t900\n"  # IC50 900: not a neoantigen
    )
    neo = read_neoantigens(str(epitopes))
    samples = [
        {"sample": "P1_PL", "patient": "P1", "site": "PL"},
        {"sample": "P1_LM", "patient": "P1", "site": "LM"},
        {"sample": "P2_PL", "patient": "P2", "site": "PL"},
    ]
    loh = {
        "P1_PL": read_hla_loh(str(PATIENT), "P1_PL_tumor"),
        "P1_LM": read_hla_loh(str(PATIENT), "P1_LM_tumor"),
    }
    tables = cohort_hla(samples, loh, {"P1_PL": neo, "P1_LM": neo}, 500, "PL", "LM")
    flagged = tables["neoantigens"]
    pl = flagged[flagged["sample"] == "P1_PL"].set_index("peptide")["allele_lost"]
    assert status(pl) == {
        "PEPTIDEA": True, "PEPTIDEB": False, "PEPTIDEC": False, "PEPTIDED": False,
        "PEPTIDEE": None,
    }  # fmt: skip
    burden = tables["burden"].set_index("sample")
    # PL: 5 neoantigens, 1 on a lost allele (A*24:02), DRB1 not evaluated; LM: A*24:02 and
    # B*08:01 lost, C*07:01 and DRB1 not evaluated
    assert burden.loc["P1_PL", ["n_neoantigens", "n_lost_allele", "n_retained"]].tolist() == [
        5,
        1,
        4,
    ]
    assert burden.loc["P1_LM", ["n_lost_allele", "n_retained", "n_not_evaluated"]].tolist() == [
        2,
        3,
        2,
    ]
    assert (
        burden.loc["P1_PL", "n_alleles_evaluated"] == 6
        and burden.loc["P1_LM", "n_alleles_evaluated"] == 4
    )
    assert burden.loc["P1_LM", "lost_alleles"] == "HLA-A*24:02;HLA-B*08:01"
    paired = tables["paired"].set_index("allele")["class"].to_dict()
    assert paired == {
        "HLA-A*02:01": "retained", "HLA-A*24:02": "shared", "HLA-B*07:02": "retained",
        "HLA-B*08:01": "private_LM", "HLA-C*07:01": "unknown", "HLA-C*07:02": "unknown",
    }  # fmt: skip
    comparison = tables["comparison"].set_index("metric")
    assert comparison.loc["n_retained", "median_difference"] == 3 - 4
    assert comparison.loc["n_alleles_lost", "n_pairs"] == 1
    excluded = tables["excluded"].table()
    assert excluded[["level", "item"]].values.tolist() == [["sample", "P2_PL"]]
    assert set(tables["loh"]["sample"]) == {"P1_PL", "P1_LM"}
