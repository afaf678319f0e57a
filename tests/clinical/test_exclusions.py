"""Nothing left out silently: ignored organs and non-evaluable patients carry their real reason."""

from __future__ import annotations

from organomics.clinical import lesions as lesion_io
from organomics.clinical import recist
from organomics.excluded import Exclusions

HEADER = "patient\tlesion\torgan\trole\tday\tdiameter_mm\tnodal\tstatus\n"
ORGANS = {"PL": ["lung"], "LM": ["liver"]}


def run(tmp_path, body: str):
    path = tmp_path / "lesions.tsv"
    path.write_text(HEADER + body)
    table = lesion_io.read_lesions(path)
    exclusions = Exclusions("response")
    sited = recist.assign_sites(table, ORGANS, path, exclusions)
    _, responses = recist.assess(
        sited, "PL", "LM", recist.Options(), exclusions, sorted(set(table["patient"]))
    )
    return responses, exclusions.table()


def test_misspelt_organ_is_listed_and_padded_case_is_read(tmp_path):
    body = (
        "P1\tT1\tLung \ttarget\t-3\t20\tfalse\t\n"  # padded, capitalised: the lung
        "P1\tT2\tliver\ttarget\t-3\t30\tfalse\t\n"
        "P2\tT1\tlungs\ttarget\t-3\t25\tfalse\t\n"  # not a configured organ
        "P2\tT2\tliver\ttarget\t-3\t15\tfalse\t\n"
    )
    responses, excluded = run(tmp_path, body)
    assert sorted(zip(responses["patient"], responses["site"], strict=True)) == [
        ("P1", "LM"),
        ("P1", "PL"),
        ("P2", "LM"),
    ]
    rows = excluded.set_index(["level", "item", "patient"])["reason"]
    assert "organ 'lungs' is not in clinical.organ_sites" in rows[("lesion", "T1", "P2")]
    # P2 then has no lesion at PL, recorded with that reason, not "no baseline target".
    patient = excluded[excluded["level"] == "patient"]
    assert patient[["item", "site", "reason"]].values.tolist() == [
        ["P2", "PL", "no lesion at this site"]
    ]


def test_zero_baseline_and_no_target_have_their_own_reasons(tmp_path):
    body = (
        "P1\tT1\tlung\ttarget\t-3\t0\tfalse\t\n"
        "P1\tT1\tlung\ttarget\t40\t5\tfalse\t\n"
        "P1\tN1\tliver\tnon_target\t-3\t\tfalse\tpresent\n"
        "P2\tT1\tlung\ttarget\t-3\t12.5\tfalse\t\n"
        "P2\tT2\tliver\ttarget\t-3\t30\tfalse\t\n"
    )
    responses, excluded = run(tmp_path, body)
    assert len(responses) == 2  # P2 at both sites
    reasons = excluded.set_index(["patient", "site"])["reason"]
    assert reasons[("P1", "PL")].startswith("baseline target sum is 0 mm (targets T1)")
    assert reasons[("P1", "LM")] == "no target lesion at baseline (only non-target lesions)"
    assert len(excluded) == 2
