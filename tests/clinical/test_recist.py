"""RECIST 1.1 rules on tiny hand-computed lesion tables."""

from __future__ import annotations

import pandas as pd
import pytest

from organomics.clinical import lesions as lesion_io
from organomics.clinical import recist
from organomics.errors import InputError

HEADER = "patient\tlesion\torgan\trole\tday\tdiameter_mm\tnodal\tstatus\n"


def table(tmp_path, rows: str) -> pd.DataFrame:
    """Write rows of whitespace-separated cells ('.' = empty cell) as a lesion TSV and read it."""
    lines = [
        "\t".join("" if cell == "." else cell for cell in row.split())
        for row in rows.strip().splitlines()
    ]
    path = tmp_path / "lesions.tsv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return lesion_io.read_lesions(path)


def assess(frame, options=None):
    organ_sites = {"PL": ["lung"], "LM": ["liver"]}
    present = {
        site: organs for site, organs in organ_sites.items() if organs[0] in set(frame.organ)
    }
    sited = recist.assign_sites(frame, present)
    return recist.assess(sited, "PL", "LM", options or recist.Options())


def row_of(responses, patient="P1", site="PL"):
    return responses.set_index(["patient", "site"]).loc[(patient, site)]


def test_pd_is_measured_from_the_nadir_not_baseline(tmp_path):
    # Baseline 50, then 30 (PR: 60%), then 37: 23% and 7 mm above the nadir 30 -> PD.
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -5 50 false .
        P1 T1 lung target 42 30 false .
        P1 T1 lung target 84 37 false .
        P1 L1 liver target -5 20 false .
        """,
    )
    timepoints, responses = assess(frame)
    assert timepoints.query("site == 'PL'")["response"].tolist() == ["PR", "PD"]
    result = row_of(responses)
    assert result["best_response"] == "PR"
    assert result["first_pd_day"] == 84
    assert result["first_change_pct"] == pytest.approx(-40.0)
    assert result["best_change_pct"] == pytest.approx(-40.0)


def test_pd_needs_five_mm_as_well_as_twenty_percent(tmp_path):
    # 20 -> 24 is +20% but only 4 mm: SD. 20 -> 25 is +25% and 5 mm: PD.
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -1 20
        P1 T1 lung target 40 24
        P1 T1 lung target 80 25
        """,
    )
    timepoints, responses = assess(frame)
    assert timepoints["response"].tolist() == ["SD", "PD"]
    assert row_of(responses)["best_response"] == "SD"


def test_new_lesion_in_the_site_is_pd_even_when_shrinking(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 liver target -3 40
        P1 T1 liver target 42 36
        P1 T1 liver target 84 30
        P1 N1 liver new 84
        P1 X1 lung target -3 30
        P1 X1 lung target 42 30
        P1 X2 lung new 42
        """,
    )
    timepoints, responses = assess(frame)
    liver = timepoints.query("site == 'LM'")
    assert liver["response"].tolist() == ["SD", "PD"]
    assert liver["pd_reason"].tolist() == ["", "new_lesion"]
    assert row_of(responses, site="LM")["best_response"] == "SD"
    # A new lung lesion at the first scan makes PL PD at once, whatever the sum does.
    assert row_of(responses, site="PL")["best_response"] == "PD"


def test_unequivocal_non_target_progression_is_pd(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 40
        P1 T1 lung target 42 20
        P1 NT1 lung non_target -3 . false present
        P1 NT1 lung non_target 42 . false progression
        """,
    )
    timepoints, responses = assess(frame)
    assert timepoints["response"].tolist() == ["PD"]
    assert timepoints["pd_reason"].tolist() == ["non_target"]
    assert row_of(responses)["best_response"] == "PD"


def test_cr_allows_nodal_targets_under_ten_mm_only_with_non_targets_absent(tmp_path):
    # Lung (incl. a nodal lesion assigned to the lung site) 20 + 15 = 35 mm at baseline.
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 20 false
        P1 T2 lung target -3 15 true
        P1 NT1 lung non_target -3 . false present
        P1 T1 lung target 42 0 false
        P1 T2 lung target 42 9 true
        P1 NT1 lung non_target 42 . false present
        P1 T1 lung target 84 0 false
        P1 T2 lung target 84 9 true
        P1 NT1 lung non_target 84 . false absent
        P1 T1 lung target 126 0 false
        P1 T2 lung target 126 10 true
        P1 NT1 lung non_target 126 . false absent
        """,
    )
    timepoints, responses = assess(frame)
    # Non-target still present -> PR (9 <= 0.7 * 35); then CR; a 10 mm node is not normal -> PR.
    assert timepoints["response"].tolist() == ["PR", "CR", "PR"]
    assert row_of(responses)["best_response"] == "CR"


def test_scans_after_the_first_pd_do_not_count(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 30
        P1 T1 lung target 42 40
        P1 T1 lung target 84 10
        """,
    )
    timepoints, responses = assess(frame)
    assert timepoints["response"].tolist() == ["PD", "PR"]
    result = row_of(responses)
    assert result["best_response"] == "PD"
    assert result["best_change_pct"] == pytest.approx(100 * 10 / 30)


def test_baseline_is_the_latest_assessment_on_or_before_day_zero(tmp_path):
    # Screening at day -40 (20 mm) and baseline at day 0 (40 mm): 28 mm is -30% -> PR.
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -40 20
        P1 T1 lung target 0 40
        P1 T1 lung target 42 28
        """,
    )
    _, responses = assess(frame)
    result = row_of(responses)
    assert result["baseline_sum_mm"] == 40
    assert result["best_response"] == "PR"


def test_missing_target_measurement_is_not_evaluable(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 30
        P1 T2 lung target -3 20
        P1 T1 lung target 42 15
        P1 T1 lung target 84 25
        P1 T2 lung target 84 20
        """,
    )
    timepoints, responses = assess(frame)
    assert timepoints["response"].tolist() == ["NE", "SD"]
    assert row_of(responses)["best_response"] == "SD"


def test_confirmation_and_minimum_sd_duration(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 30
        P1 T1 lung target 42 20
        P1 T1 lung target 84 24
        """,
    )
    # 20/30 = 67% -> PR at day 42; 24 mm is 80% of baseline and only 4 mm over the nadir -> SD.
    assert row_of(assess(frame)[1])["best_response"] == "PR"
    confirmed = assess(frame, recist.Options(confirmation_days=28))[1]
    assert row_of(confirmed)["best_response"] == "SD"
    long_sd = assess(frame, recist.Options(confirmation_days=28, min_sd_days=100))[1]
    assert row_of(long_sd)["best_response"] == "NE"


def test_patient_without_baseline_target_at_a_site_is_not_evaluable(tmp_path):
    frame = table(
        tmp_path,
        """
        P1 T1 lung target -3 30
        P1 T1 lung target 42 30
        P1 NT1 liver non_target -3 . false present
        """,
    )
    _, responses = assess(frame)
    assert responses["site"].tolist() == ["PL"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("P1 T1 lung target 10 30", r"patient P1, lesion T1: no baseline assessment"),
        ("P1 T1 lung target -3 .", r"row 2, column 'diameter_mm': patient P1, lesion T1: target"),
        ("P1 T1 lung tumour -3 30", r"row 2, column 'role': patient P1, lesion T1: unknown role"),
    ],
)
def test_input_errors_name_patient_and_lesion(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        table(tmp_path, rows)


def test_organ_in_config_that_never_occurs_is_an_error(tmp_path):
    frame = table(tmp_path, "P1 T1 lung target -3 30")
    with pytest.raises(InputError, match=r"organ 'liver' for LM, but no lesion has that organ"):
        recist.assign_sites(frame, {"PL": ["lung"], "LM": ["liver"]}, "lesions.tsv")
