"""ADaM export: ADTR and ADRS from a tiny lesion table, read back from the XPT with pyreadstat."""

from __future__ import annotations

import math

import pandas as pd
import pyreadstat
import pytest

from organomics.clinical import adam, recist


def _sited():
    # One patient. PL: targets 30 + 20 = 50 mm at baseline (day -3); 20 + 15 = 35 mm at day 42
    # (exactly -30%: PR), 22 + 20 = 42 mm at day 84 (exactly +20% and +7 mm over the nadir 35:
    # PD). LM: one 40 mm target at day -10, 30 mm at days 42 and 84 (-25%: SD, SD).
    rows = [
        ("A", "T1", "lung", "target", -3, 30.0),
        ("A", "T1", "lung", "target", 42, 20.0),
        ("A", "T1", "lung", "target", 84, 22.0),
        ("A", "T2", "lung", "target", -3, 20.0),
        ("A", "T2", "lung", "target", 42, 15.0),
        ("A", "T2", "lung", "target", 84, 20.0),
        ("A", "T3", "liver", "target", -10, 40.0),
        ("A", "T3", "liver", "target", 42, 30.0),
        ("A", "T3", "liver", "target", 84, 30.0),
    ]
    table = pd.DataFrame(rows, columns=["patient", "lesion", "organ", "role", "day", "diameter_mm"])
    table = table.assign(nodal=False, status=None)
    return recist.assign_sites(table, {"PL": ["lung"], "LM": ["liver"]})


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    out = tmp_path_factory.mktemp("adam")
    tr, rs = adam.derive(_sited(), "PL", "LM", {"adam_studyid": "STUDY1"}, confirmation_days=28)
    for name, table in (("ADTR", tr), ("ADRS", rs)):
        adam.write_dataset(table, name, out / f"{name.lower()}.xpt", out / f"{name.lower()}.csv")
    return out


def test_adtr_values_and_labels_read_back(datasets):
    table, meta = pyreadstat.read_xport(str(datasets / "adtr.xpt"))
    assert meta.table_name == "ADTR"
    assert meta.column_names_to_labels["PCHGNAD"] == "Percent Change from Nadir"
    assert meta.column_names_to_labels["ABLFL"] == "Baseline Record Flag"
    pl = table[table["PARAMCD"] == "SDIAMPL"].set_index("AVISIT")
    assert pl.index.tolist() == ["BASELINE", "DAY 42", "DAY 84"]
    assert set(table["USUBJID"]) == {"A"} and set(table["STUDYID"]) == {"STUDY1"}
    # Hand computations (see _sited): baseline 50, then 35 and 42 mm.
    assert pl.loc["BASELINE", ["ADY", "AVAL", "BASE", "ABLFL"]].tolist() == [-3, 50, 50, "Y"]
    assert math.isnan(pl.loc["BASELINE", "NADIR"])
    assert pl.loc["DAY 42", ["AVAL", "NADIR", "CHG", "PCHG", "CHGNAD", "PCHGNAD"]].tolist() == [
        35,
        50,
        -15,
        -30,
        -15,
        -30,
    ]
    assert pl.loc["DAY 84", ["AVAL", "NADIR", "CHG", "CHGNAD", "PCHGNAD"]].tolist() == [
        42,
        35,
        -8,
        7,
        20,
    ]
    assert pl.loc["DAY 84", "PCHG"] == pytest.approx(-16)
    lm = table[table["PARAMCD"] == "SDIAMLM"].set_index("AVISIT")
    assert lm.loc["BASELINE", "ADY"] == -10 and lm.loc["DAY 84", "PCHG"] == -25
    assert set(table["PARCAT1"]) == {"PL", "LM"}
    csv = pd.read_csv(datasets / "adtr.csv", keep_default_na=False, na_values=[""])
    assert csv.columns.tolist() == table.columns.tolist()
    assert csv["AVAL"].tolist() == table["AVAL"].tolist()


def test_adrs_responses_read_back(datasets):
    table, meta = pyreadstat.read_xport(str(datasets / "adrs.xpt"))
    assert meta.column_names_to_labels["PARCAT2"] == "Parameter Category 2"
    pl = table[(table["PARCAT1"] == "PL") & (table["PARCAT2"] == "RECIST 1.1")]
    assert set(table["PARCAT2"]) == {"RECIST 1.1", "iRECIST"}
    ovr = pl[pl["PARAMCD"] == "OVR"]
    assert ovr[["ADY", "AVALC", "AVAL"]].values.tolist() == [[42, "PR", 2], [84, "PD", 5]]
    by_param = pl.set_index("PARAMCD")
    # BOR: the unconfirmed PR at day 42. CBOR: the PR has no confirming scan before the PD, so
    # it is SD (first SD-or-better scan: day 42); RSP N.
    assert by_param.loc["BOR", ["AVALC", "AVAL", "ADY"]].tolist() == ["PR", 2, 42]
    assert by_param.loc["CBOR", ["AVALC", "AVAL"]].tolist() == ["SD", 3]
    assert by_param.loc["RSP", ["AVALC", "AVAL"]].tolist() == ["N", 0]
    lm = table[(table["PARCAT1"] == "LM") & (table["PARCAT2"] == "RECIST 1.1")]
    lm = lm.set_index("PARAMCD")
    assert lm.loc["BOR", "AVALC"] == "SD" and lm.loc["RSP", "AVALC"] == "N"
    assert by_param.loc["BOR", "PARAM"] == "Best Overall Response at Site PL by RECIST 1.1"
    # iRECIST (Seymour 2017): RECIST's first PD (day 84) is iUPD, unconfirmed as no scan
    # follows; BOR iPR, the unconfirmed PR confirmed-BOR is iSD.
    irecist = table[(table["PARCAT1"] == "PL") & (table["PARCAT2"] == "iRECIST")]
    ovr = irecist[irecist["PARAMCD"] == "OVR"]
    assert ovr[["ADY", "AVALC", "AVAL"]].values.tolist() == [[42, "iPR", 2], [84, "iUPD", 4]]
    by_param = irecist.set_index("PARAMCD")
    assert by_param.loc["BOR", "AVALC"] == "iPR" and by_param.loc["CBOR", "AVALC"] == "iSD"
    assert by_param.loc["RSP", "AVALC"] == "N"


def test_confirmed_pr_is_a_responder():
    sited = _sited()
    # PL at day 84 shrinks further instead (18 + 14 = 32 mm): the PR of day 42 is confirmed
    # 42 days later (>= 28).
    sited.loc[(sited["lesion"] == "T1") & (sited["day"] == 84), "diameter_mm"] = 18.0
    sited.loc[(sited["lesion"] == "T2") & (sited["day"] == 84), "diameter_mm"] = 14.0
    _, rs = adam.derive(sited, "PL", "LM", {}, confirmation_days=28)
    pl = rs[(rs["PARCAT1"] == "PL") & (rs["PARCAT2"] == "RECIST 1.1")].set_index("PARAMCD")
    assert pl.loc["CBOR", "AVALC"] == "PR" and pl.loc["RSP", ["AVALC", "AVAL"]].tolist() == ["Y", 1]
    assert set(rs["STUDYID"]) == {"ORGANOMICS"}
    i_pl = rs[(rs["PARCAT1"] == "PL") & (rs["PARCAT2"] == "iRECIST")].set_index("PARAMCD")
    assert i_pl.loc["CBOR", "AVALC"] == "iPR" and i_pl.loc["RSP", "AVALC"] == "Y"
    # A confirmation window longer than the follow-up leaves it unconfirmed.
    _, rs = adam.derive(sited, "PL", "LM", {}, confirmation_days=43)
    cbor = rs[(rs["PARCAT1"] == "PL") & (rs["PARAMCD"] == "CBOR")]
    assert cbor["AVALC"].tolist() == ["SD", "iSD"]
