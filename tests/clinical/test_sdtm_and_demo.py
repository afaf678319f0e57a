"""SDTM TU/TR input and the demo cohort: the published figures, determinism, SDTM = flat."""

from __future__ import annotations

import filecmp

import pandas as pd
import pyreadstat
import pytest

from organomics.clinical import lesions, rates, recist, sdtm
from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort
from organomics.errors import InputError

ORGANS = {"PL": ["lung"], "LM": ["liver"]}


def organ_response(table):
    return recist.assess(recist.assign_sites(table, ORGANS), "PL", "LM", recist.Options())[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(str(folder), DemoCohort(seed=0), layers=("clinical",))
    return folder


def test_demo_reproduces_the_study_exactly(demo):
    table = organ_response(lesions.read_lesions(demo / "clinical/lesions.tsv"))
    rate = rates.response_rates(table, "PL", "LM").set_index("site")
    assert (rate.loc["PL", "n"], rate.loc["LM", "n"]) == (52, 52)
    assert (rate.loc["PL", "responders"], rate.loc["LM", "responders"]) == (17, 11)
    assert (rate.loc["PL", "disease_control"], rate.loc["LM", "disease_control"]) == (45, 35)
    mixed = rates.mixed_response(table, "PL", "LM")
    assert mixed["pattern"].value_counts().to_dict() == {
        "concordant": 35,
        "LM_up_PL_down": 15,
        "PL_up_LM_down": 2,
    }
    comparison = rates.site_comparison(table, mixed, "PL", "LM").set_index("metric")
    assert round(comparison.loc["mixed_response", "p_value"], 4) == 0.0023


def test_bundled_demo_is_what_the_generator_writes(demo, repo):
    for name in ("lesions.tsv", "patients.tsv", "sdtm/tu.csv", "sdtm/tr.csv"):
        bundled = repo / "resources/demo/clinical" / name
        assert filecmp.cmp(demo / "clinical" / name, bundled, shallow=False), name


def test_sdtm_gives_the_same_responses_as_the_flat_table(demo):
    flat = organ_response(lesions.read_lesions(demo / "clinical/lesions.tsv"))
    from_sdtm = organ_response(
        sdtm.read_sdtm(demo / "clinical/sdtm/tu.csv", demo / "clinical/sdtm/tr.csv")
    )
    pd.testing.assert_frame_equal(flat, from_sdtm)


TU = """STUDYID,DOMAIN,USUBJID,TUSEQ,TULNKID,TUTESTCD,TUORRES,TULOC
S,TU,S-001,1,T01,TUMIDENT,TARGET,LUNG
S,TU,S-001,2,T02,TUMIDENT,TARGET,LYMPH NODE
S,TU,S-001,3,NT01,TUMIDENT,NON-TARGET,LUNG
"""
TR = """STUDYID,DOMAIN,\
USUBJID,TRSEQ,TRLNKID,TRTESTCD,TRORRES,TRSTRESC,TRSTRESN,TRSTRESU,VISITDY,TRDY
S,TR,S-001,1,T01,LDIAM,3.2,3.2,3.2,cm,-7,-5
S,TR,S-001,2,T02,LDIAM,25,25,25,mm,-7,-5
S,TR,S-001,3,T02,SAXIS,16,16,16,mm,-7,-5
S,TR,S-001,4,NT01,TUMSTATE,PRESENT,PRESENT,,,-7,-5
S,TR,S-001,5,T01,LDIAM,2.0,2.0,2.0,cm,42,
S,TR,S-001,6,T02,SAXIS,9,9,9,mm,42,
S,TR,S-001,7,NT01,TUMSTATE,UNEQUIVOCAL PROGRESSION,UNEQUIVOCAL PROGRESSION,,,42,
"""


def test_sdtm_units_short_axis_and_visit_day(tmp_path):
    (tmp_path / "tu.csv").write_text(TU)
    (tmp_path / "tr.csv").write_text(TR)
    table = sdtm.read_sdtm(tmp_path / "tu.csv", tmp_path / "tr.csv").set_index(["lesion", "day"])
    assert table.loc[("T01", -5), "diameter_mm"] == 32.0  # cm -> mm
    assert table.loc[("T02", -5), "diameter_mm"] == 16.0  # nodal: short axis, not LDIAM
    assert bool(table.loc[("T02", -5), "nodal"]) is True
    assert table.loc[("T01", 42), "diameter_mm"] == 20.0  # day from VISITDY when TRDY is empty
    assert table.loc[("NT01", 42), "status"] == "progression"
    assert table.loc[("T01", 42), "organ"] == "lung"


def test_sdtm_unknown_lesion_link_is_an_error(tmp_path):
    (tmp_path / "tu.csv").write_text(TU)
    (tmp_path / "tr.csv").write_text(TR.replace("5,T01,LDIAM", "5,T09,LDIAM"))
    with pytest.raises(InputError, match=r"row 6, column 'TRLNKID': patient S-001, lesion T09"):
        sdtm.read_sdtm(tmp_path / "tu.csv", tmp_path / "tr.csv")


def test_sdtm_sas_transport_files_give_the_same_responses(demo, tmp_path):
    for domain in ("tu", "tr"):
        table = pd.read_csv(demo / f"clinical/sdtm/{domain}.csv")
        pyreadstat.write_xport(
            table, tmp_path / f"{domain}.xpt", table_name=domain.upper(), file_format_version=5
        )
    flat = organ_response(lesions.read_lesions(demo / "clinical/lesions.tsv"))
    from_xpt = organ_response(sdtm.read_sdtm(tmp_path / "tu.xpt", tmp_path / "tr.xpt"))
    pd.testing.assert_frame_equal(flat, from_xpt)
