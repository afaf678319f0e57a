"""iRECIST per site: every transition on hand-worked cases, boundaries at 5.00 mm and days 28/56."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from organomics.clinical import irecist, lesions, recist

WINDOW = irecist.IrecistOptions()  # [28, 56] days after the iUPD scan


def lesion(name, role, day, diameter=None, status="", organ="lung"):
    return {
        "patient": "P1",
        "lesion": name,
        "organ": organ,
        "role": role,
        "day": float(day),
        "diameter_mm": np.nan if diameter is None else diameter,
        "nodal": False,
        "status": status,
        "site": "PL",
    }


def targets(*scans):
    """Target T1 at each (day, diameter)."""
    return [lesion("T1", "target", day, diameter) for day, diameter in scans]


def run(rows, options=None, window=WINDOW):
    table = pd.DataFrame(rows)
    # Through the lesion checker, as the workflow reads them (status words, new-lesion status).
    checked = lesions.check_lesions(table.assign(line=range(2, len(table) + 2)), "hand.tsv")
    checked["site"] = "PL"
    timepoints, summary = irecist.assess_site(checked, options or recist.Options(), window)
    return timepoints, summary


# Baseline 20.0 mm; day 42: 10.4 mm (-48%, PR; nadir 10.4); day 84: 15.4 mm = nadir + 5.0 mm
# (15.4 - 10.4 = 5.000000000000002 in floats, exactly 500 hundredths) and 148% of the nadir:
# RECIST PD, the first one, so iUPD on day 84.
PSEUDO_BASE = targets((-7, 20.0), (42, 10.4), (84, 15.4))


@pytest.mark.parametrize(
    ("day", "diameter", "expected"),
    [
        # 20.4 - 15.4 = 4.999999999999998 in floats, exactly +5.00 mm (500 hundredths): iCPD
        # on day 112 = 84 + 28, the window's first day.
        (112, 20.4, "iCPD"),
        (140, 20.4, "iCPD"),  # 84 + 56: the window's last day
        (111, 20.4, "iUPD"),  # 27 days: before the window, iUPD stands
        (141, 20.4, "iUPD"),  # 57 days: after the window
        # +4.99 mm: no confirmation; 20.39 is still PD from the nadir 10.4 (+9.99 mm): iUPD.
        (112, 20.39, "iUPD"),
    ],
)
def test_target_sum_growth_confirms_inside_the_window_only(day, diameter, expected):
    timepoints, summary = run([*PSEUDO_BASE, *targets((day, diameter))])
    assert timepoints["response"].tolist() == ["iPR", "iUPD", expected]
    assert summary["iupd_day"] == 84
    assert np.isnan(summary["icpd_day"]) == (expected != "iCPD")
    # Best: the day-42 iPR (no confirmation asked) is better than any progression.
    assert summary["best_response"] == "iPR"
    assert summary["pseudoprogression"] is False


def test_reset_after_iupd_is_a_pseudoprogression_and_the_site_may_respond_later():
    # Baseline 20; day 42: 18 (-10%, SD; nadir 18); day 84: 24 = 133% of 18 and +6 mm: iUPD.
    # Day 126: 19 = nadir + 1 mm, under the PD bar, all targets measured: reset to SD from
    # baseline (19/20 = 95%) -> iSD. Day 168: 13 = 65% of baseline <= 70% -> iPR.
    rows = targets((-7, 20.0), (42, 18.0), (84, 24.0), (126, 19.0), (168, 13.0))
    timepoints, summary = run(rows)
    assert timepoints["response"].tolist() == ["iSD", "iUPD", "iSD", "iPR"]
    assert timepoints["reason"].iloc[2].startswith("reset")
    assert summary == {
        "best_response": "iPR",
        "iupd_day": 84,
        "icpd_day": summary["icpd_day"],
        "reset_day": 126,
        "pseudoprogression": True,
    }
    assert np.isnan(summary["icpd_day"])


def test_after_a_reset_a_new_pd_is_a_new_iupd_measured_from_the_nadir():
    # As above to day 126 (iSD, nadir 18 still: 24 and 19 are above it). Day 154: 24.0 =
    # 133% of 18 and +6 mm: a new iUPD. Day 196 (42 days on): 29.0 = +5 mm since it: iCPD.
    rows = targets((-7, 20.0), (42, 18.0), (84, 24.0), (126, 19.0), (154, 24.0), (196, 29.0))
    timepoints, summary = run(rows)
    assert timepoints["response"].tolist() == ["iSD", "iUPD", "iSD", "iUPD", "iCPD"]
    # iupd_day is the first iUPD; icpd_day the one confirmed; the reset makes it pseudo too.
    assert (summary["iupd_day"], summary["icpd_day"], summary["reset_day"]) == (84, 196, 126)
    assert summary["best_response"] == "iSD"


def test_icpd_is_final():
    # iUPD day 84 (as PSEUDO_BASE), iCPD day 112 (+5.0 mm), then shrinkage to 5 mm on day 154:
    # it stays iCPD.
    rows = [*PSEUDO_BASE, *targets((112, 20.4), (154, 5.0))]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iPR", "iUPD", "iCPD", "iCPD"]
    assert timepoints["reason"].iloc[3] == "iCPD confirmed on day 112"


def test_only_progression_gives_icpd_or_iupd_as_best_response():
    # Baseline 30; day 42: 40 (+10 mm, 133%): iUPD; day 84: 45 (+5 mm): iCPD -> best iCPD.
    timepoints, summary = run(targets((-7, 30.0), (42, 40.0), (84, 45.0)))
    assert timepoints["response"].tolist() == ["iUPD", "iCPD"]
    assert summary["best_response"] == "iCPD"
    # Without a confirming scan (day 84 at 42 mm: +2 mm only) the best is iUPD.
    _, summary = run(targets((-7, 30.0), (42, 40.0), (84, 42.0)))
    assert summary["best_response"] == "iUPD"


def test_new_measurable_lesion_growth_of_five_mm_confirms():
    # T1 30 mm throughout (SD). Day 42: new N1 10.0 mm -> RECIST PD (new lesion): iUPD; the
    # new-lesion target sum is 10.0 mm and is not part of the target sum (30.0 mm).
    # Day 84 (42 days on): N1 15.0 mm = +5.00 mm -> iCPD; 14.99 mm -> iUPD stands.
    base = [*targets((-7, 30.0), (42, 30.0), (84, 30.0)), lesion("N1", "new", 42, 10.0)]
    timepoints, summary = run([*base, lesion("N1", "new", 84, 15.0)])
    assert timepoints["response"].tolist() == ["iUPD", "iCPD"]
    assert timepoints["target_sum_mm"].tolist() == [30.0, 30.0]
    assert timepoints["new_target_sum_mm"].tolist() == [10.0, 15.0]
    assert "new-lesion target sum +5 mm" in timepoints["reason"].iloc[1]
    timepoints, _ = run([*base, lesion("N1", "new", 84, 14.99)])
    assert timepoints["response"].tolist() == ["iUPD", "iUPD"]


def test_new_lesion_gone_resets():
    # Day 42: N1 (not measurable) -> iUPD. Day 84: N1 absent, T1 30 of 30 (SD) -> iSD.
    rows = [
        *targets((-7, 30.0), (42, 30.0), (84, 30.0)),
        lesion("N1", "new", 42),
        lesion("N1", "new", 84, status="absent"),
    ]
    timepoints, summary = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iSD"]
    assert summary["pseudoprogression"] is True
    # RECIST 1.1 keeps its first PD (day 42) and ignores what follows.
    _, recist_summary = recist.assess_site(pd.DataFrame(rows), recist.Options())
    assert (recist_summary["best_response"], recist_summary["first_pd_day"]) == ("PD", 42)


def test_a_new_lesion_not_recorded_again_is_still_there():
    # Day 42: N1 -> iUPD. Day 84 has no N1 row: it is taken as present (a lesion is new until
    # recorded absent), so T1 back at baseline does not reset: iUPD stands.
    rows = [*targets((-7, 30.0), (42, 30.0), (84, 30.0)), lesion("N1", "new", 42)]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iUPD"]
    assert timepoints["new_lesions"].tolist() == ["N1", "N1"]


def test_another_new_lesion_confirms():
    # Day 42: N1 -> iUPD; day 84 (42 days on, inside the window): N2 appears (not measurable),
    # a new lesion not seen by the iUPD scan -> iCPD.
    rows = [
        *targets((-7, 30.0), (42, 30.0), (84, 30.0)),
        lesion("N1", "new", 42),
        lesion("N2", "new", 84),
    ]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iCPD"]
    assert "another new lesion N2" in timepoints["reason"].iloc[1]


def test_non_target_progression_confirms_only_when_new_since_iupd():
    # Baseline T1 30 + NT1. Day 42: T1 40 (+10 mm, 133%) -> iUPD by the target sum.
    # Day 84: T1 41 (+1 mm), NT1 unequivocal progression (not so at iUPD) -> iCPD.
    rows = [
        *targets((-7, 30.0), (42, 40.0), (84, 41.0)),
        lesion("NT1", "non_target", -7, status="present"),
        lesion("NT1", "non_target", 42, status="present"),
        lesion("NT1", "non_target", 84, status="progression"),
    ]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iCPD"]
    assert "non-target NT1 progressed" in timepoints["reason"].iloc[1]
    # NT1 already in progression at iUPD (day 42) and still on day 84: no further increase
    # recorded, so iUPD stands (and no reset: still RECIST PD).
    rows[4] = lesion("NT1", "non_target", 42, status="progression")
    rows[1] = lesion("T1", "target", 42, 30.0)
    rows[2] = lesion("T1", "target", 84, 30.0)
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iUPD"]


def test_new_non_target_progression_confirms():
    # Day 42: N1 not measurable -> iUPD; day 84: N1 unequivocal progression -> iCPD.
    rows = [
        *targets((-7, 30.0), (42, 30.0), (84, 30.0)),
        lesion("N1", "new", 42),
        lesion("N1", "new", 84, status="progression"),
    ]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iCPD"]
    assert "new non-target N1 progressed" in timepoints["reason"].iloc[1]


def test_not_evaluable_scans():
    # Two targets (20 + 20 = 40 mm). Day 42: T2 missing, no PD -> NE. Day 84: 30 + 30 = 60 mm
    # (+20 mm, 150%) -> iUPD. Day 126: T2 missing again, T1 alone 22 mm cannot prove growth
    # of 5 mm over 60 mm nor a fall back -> iUPD stands ("not every target").
    rows = [
        lesion("T1", "target", -7, 20.0),
        lesion("T2", "target", -7, 20.0),
        lesion("T1", "target", 42, 20.0),
        lesion("T1", "target", 84, 30.0),
        lesion("T2", "target", 84, 30.0),
        lesion("T1", "target", 126, 22.0),
    ]
    timepoints, summary = run(rows)
    assert timepoints["response"].tolist() == ["NE", "iUPD", "iUPD"]
    assert timepoints["reason"].iloc[2] == "iUPD stands: not every target lesion measured"
    assert summary["best_response"] == "iUPD"


def test_partial_sum_at_the_iupd_scan_is_not_a_growth_reference():
    # Baseline 20 + 20 = 40 mm (the nadir). Day 42: only T1 measured, 50 mm: the partial sum
    # is already 125% of 40 and +10 mm -> PD although incomplete: iUPD. Day 84: 50 + 20 = 70 mm
    # is +20 mm over the partial 50, but a partial iUPD sum is no growth reference: no
    # confirmation from the target sum; still PD from the nadir (70 vs 40) -> iUPD stands.
    rows = [
        lesion("T1", "target", -7, 20.0),
        lesion("T2", "target", -7, 20.0),
        lesion("T1", "target", 42, 50.0),
        lesion("T1", "target", 84, 50.0),
        lesion("T2", "target", 84, 20.0),
    ]
    timepoints, _ = run(rows)
    assert timepoints["response"].tolist() == ["iUPD", "iUPD"]


def test_new_lesion_targets_are_capped_at_five_and_two_per_organ():
    # Day 42: lung N1 30, N2 20, N3 25 mm (measured); liver N4 11; adrenal N5 12; bone N6 13,
    # N7 14. By day then size: lung N1 (30), N3 (25) fill lung's 2; N2 -> non-target.
    # Others by size: N7 14, N6 13 (bone's 2), N5 12: five targets; N4 (11) -> non-target.
    # N8 (lung, day 42, not measured) -> non-target.
    rows = [
        lesion("N1", "new", 42, 30.0),
        lesion("N2", "new", 42, 20.0),
        lesion("N3", "new", 42, 25.0),
        lesion("N4", "new", 42, 11.0, organ="liver"),
        lesion("N5", "new", 42, 12.0, organ="adrenal"),
        lesion("N6", "new", 42, 13.0, organ="bone"),
        lesion("N7", "new", 42, 14.0, organ="bone"),
        lesion("N8", "new", 42),
    ]
    table = recist._with_sizes(pd.DataFrame(rows))
    roles = irecist.new_lesion_roles(table)
    assert sorted(name for name, role in roles.items() if role == "target") == [
        "N1",
        "N3",
        "N5",
        "N6",
        "N7",
    ]
    assert roles["N2"] == roles["N4"] == roles["N8"] == "non_target"


def test_new_target_sum_is_the_targets_only():
    # Day 42: lung N1 30, N2 20, N3 25 -> targets N1, N3: new-lesion target sum 55.0 mm.
    # Day 84: N2 (a new non-target) grows to 40: not in the sum, so no +5 mm; N1/N3 unchanged.
    rows = [
        *targets((-7, 30.0), (42, 30.0), (84, 30.0)),
        lesion("N1", "new", 42, 30.0),
        lesion("N2", "new", 42, 20.0),
        lesion("N3", "new", 42, 25.0),
        lesion("N1", "new", 84, 30.0),
        lesion("N2", "new", 84, 40.0),
        lesion("N3", "new", 84, 25.0),
    ]
    timepoints, _ = run(rows)
    assert timepoints["new_target_sum_mm"].tolist() == [55.0, 55.0]
    assert timepoints["response"].tolist() == ["iUPD", "iUPD"]


def test_window_is_configurable():
    # The day-111 scan (27 days after iUPD) confirms with a [21, 35] window.
    rows = [*PSEUDO_BASE, *targets((111, 20.4))]
    timepoints, _ = run(rows, window=irecist.IrecistOptions([21, 35]))
    assert timepoints["response"].tolist() == ["iPR", "iUPD", "iCPD"]


def test_confirmation_options_apply_to_irecist_best_response():
    # iPR on day 42 only (day 84 iSD, 20 of 28 = 71%): unconfirmed with confirmation_days 28
    # -> counts as iSD.
    rows = targets((-7, 28.0), (42, 19.0), (84, 20.0))
    _, summary = run(rows, recist.Options(confirmation_days=28))
    assert summary["best_response"] == "iSD"
    _, summary = run(rows)
    assert summary["best_response"] == "iPR"


def test_assess_tables_and_recist_agreement():
    # Two patients: P1 the reset case at PL; P2 with a lung site and a liver site.
    rows = targets((-7, 20.0), (42, 18.0), (84, 24.0), (126, 19.0))
    rows += [
        lesion("T2", "target", -7, 30.0),
        lesion("T2", "target", 42, 40.0),
        lesion("T3", "target", -7, 25.0, organ="liver"),
        lesion("T3", "target", 42, 10.0, organ="liver"),
    ]
    table = pd.DataFrame(rows).drop(columns="site")
    table.loc[table["lesion"] != "T1", "patient"] = "P2"
    table = lesions.check_lesions(table.assign(line=range(2, len(table) + 2)), "x.tsv")
    sited = recist.assign_sites(table, {"PL": ["lung"], "LM": ["liver"]})
    _, recist_table = recist.assess(sited, "PL", "LM", recist.Options())
    timepoints, responses = irecist.assess(sited, "PL", "LM", recist.Options(), WINDOW)
    assert responses.columns.tolist() == irecist.RESPONSE_COLUMNS
    assert timepoints.columns.tolist() == irecist.TIMEPOINT_COLUMNS
    got = responses.set_index(["patient", "site"])
    # P1 PL: iSD (reset); P2 PL: iUPD day 42; P2 LM: 10/25 = 40% -> iPR.
    assert got["best_response"].to_dict() == {
        ("P1", "PL"): "iSD",
        ("P2", "PL"): "iUPD",
        ("P2", "LM"): "iPR",
    }
    assert got["recist_best_response"].to_dict() == {
        ("P1", "PL"): "SD",
        ("P2", "PL"): "PD",
        ("P2", "LM"): "PR",
    }
    # The first iUPD is RECIST 1.1's first PD, scan for scan.
    merged = recist_table.merge(responses, on=["patient", "site"])
    assert merged["first_pd_day"].fillna(-1).tolist() == merged["iupd_day"].fillna(-1).tolist()


def test_rates_mixed_and_paired_tests():
    # Four patients at both sites, iRECIST best (PL, LM) and pseudoprogression:
    # A (iPR, iCPD), B (iSD, iUPD), C (iPR, iSD after a reset at LM), D (iCPD, iSD).
    best = {"A": ("iPR", "iCPD"), "B": ("iSD", "iUPD"), "C": ("iPR", "iSD"), "D": ("iCPD", "iSD")}
    rows = []
    for patient, (pl, lm) in best.items():
        for site, value in (("PL", pl), ("LM", lm)):
            pseudo = patient == "C" and site == "LM"
            iupd = 50.0 if value in ("iUPD", "iCPD") or pseudo else np.nan
            rows.append(
                {
                    "patient": patient,
                    "site": site,
                    "best_response": value,
                    "iupd_day": iupd,
                    "pseudoprogression": pseudo,
                }
            )
    ir = pd.DataFrame(rows)
    rr = ir.assign(
        best_response=ir["best_response"].map(
            {"iPR": "PR", "iSD": "SD", "iCPD": "PD", "iUPD": "PD"}
        )
    )
    rr.loc[(rr["patient"] == "C") & (rr["site"] == "LM"), "best_response"] = "PD"
    rates = irecist.response_rates(rr, ir, "PL", "LM").set_index(["criteria", "site"])
    # iRECIST PL: responders A, C = 2 of 4; control A, B, C = 3; LM: responders 0, control C,
    # D = 2; LM pseudoprogression 1 of 3 sites with an iUPD (A, B, C).
    assert rates.loc[("iRECIST", "PL"), ["responders", "disease_control"]].tolist() == [2, 3]
    assert rates.loc[("iRECIST", "LM"), ["responders", "disease_control"]].tolist() == [0, 2]
    assert rates.loc[("iRECIST", "LM"), ["n_iupd", "pseudoprogression"]].tolist() == [3, 1]
    # RECIST 1.1 LM: C is PD there, so control is D only.
    assert rates.loc[("RECIST 1.1", "LM"), "disease_control"] == 1
    mixed = irecist.mixed_response(rr, ir, "PL", "LM").set_index("patient")
    # iRECIST: A, B LM progressed / PL controlled; C concordant; D PL progressed.
    assert mixed["pattern"].to_dict() == {
        "A": "LM_progressed_PL_controlled",
        "B": "LM_progressed_PL_controlled",
        "C": "concordant",
        "D": "PL_progressed_LM_controlled",
    }
    assert mixed.loc["C", "recist_pattern"] == "LM_progressed_PL_controlled"
    table = irecist.site_comparison(ir, mixed.reset_index(), "PL", "LM").set_index("metric")
    # ORR: PL-only responders A, C; LM-only none: exact binomial 2 of 2 at 0.5 -> p = 0.5.
    assert table.loc["irecist_orr", ["discordant_PL_only", "discordant_LM_only"]].tolist() == [
        2,
        0,
    ]
    assert table.loc["irecist_orr", "p_value"] == pytest.approx(0.5)
    # Pseudoprogression: LM only (C): 1 discordant pair -> p = 1.
    assert table.loc["pseudoprogression", "discordant_LM_only"] == 1
    assert table.loc["pseudoprogression", "p_value"] == pytest.approx(1.0)
    # Mixed: 2 LM-progressing vs 1 PL-progressing: binomial(1; 3, 0.5) two-sided = 1.0;
    # effect 2/3.
    assert table.loc["irecist_mixed_response", "effect"] == pytest.approx(2 / 3)
    assert table.loc["irecist_mixed_response", "p_value"] == pytest.approx(1.0)
    # BH over the four p-values (0.5, DCR, 1, 1): the largest stays 1.
    assert table["p_adj"].max() == pytest.approx(1.0)


def test_findings_rows_from_the_irecist_comparison():
    from organomics.summary import findings

    # A hand-made comparison table: ORR 0.5 vs 0.25 (effect -0.25), mixed 1 PL vs 3 LM.
    comparison = pd.DataFrame(
        [
            {
                "metric": "irecist_orr",
                "n": 4,
                "discordant_PL_only": 1,
                "discordant_LM_only": 0,
                "value_PL": 0.5,
                "value_LM": 0.25,
                "effect": -0.25,
                "effect_measure": "paired difference in proportion (LM - PL)",
                "p_value": 1.0,
                "p_adj": 1.0,
                "test": "McNemar exact",
                "correction": "BH",
            },
            {
                "metric": "irecist_mixed_response",
                "n": 4,
                "discordant_PL_only": 1,
                "discordant_LM_only": 3,
                "value_PL": np.nan,
                "value_LM": np.nan,
                "effect": 0.75,
                "effect_measure": "share",
                "p_value": 0.625,
                "p_adj": 1.0,
                "test": "exact binomial",
                "correction": "BH",
            },
        ]
    )
    table = findings.assemble(findings.irecist_rows(comparison, "PL", "LM"), "PL", "LM")
    assert table["measure"].tolist() == [
        "objective response rate (iRECIST, organ-specific)",
        "mixed response (iRECIST): one site progresses, the other is controlled",
    ]
    assert table[["value_PL", "value_LM", "effect"]].iloc[1].tolist() == [1, 3, 2]
    assert table["direction"].tolist() == ["lower in LM", "higher in LM"]


def test_bundled_demo_shows_the_new_lesion_cases(repo):
    table = lesions.read_lesions(repo / "resources/demo/clinical/lesions.tsv")
    sited = recist.assign_sites(table, {"PL": ["lung"], "LM": ["liver"]})
    _, recist_table = recist.assess(sited, "PL", "LM", recist.Options())
    timepoints, responses = irecist.assess(
        sited, "PL", "LM", recist.Options(), WINDOW, recist_table
    )
    got = responses.set_index(["patient", "site"])
    points = timepoints.set_index(["patient", "site", "day"])
    # P52 LM: new lesion N01 14 mm on day 39 (iUPD), 20 mm on day 81 (42 days on): +6 mm -> iCPD.
    assert points.loc[("P52", "LM", 81.0), ["new_target_sum_mm", "response"]].tolist() == [
        20.0,
        "iCPD",
    ]
    # P21 LM: N01 (13 mm) recorded absent on day 87, targets 32 mm (no PD): reset, later iPR.
    assert points.loc[("P21", "LM", 87.0), "response"] == "iSD"
    assert got.loc[("P21", "LM"), ["best_response", "pseudoprogression"]].tolist() == [
        "iPR",
        True,
    ]
    # P05 LM: a second new lesion N02 on day 82, 37 days after the iUPD: iCPD.
    assert "another new lesion N02" in points.loc[("P05", "LM", 82.0), "reason"]
    # Every first iUPD is RECIST 1.1's first PD.
    merged = recist_table.merge(responses, on=["patient", "site"])
    assert merged["first_pd_day"].fillna(-1).tolist() == merged["iupd_day"].fillna(-1).tolist()


@pytest.mark.parametrize("window", [[56, 28], [28], [28.5, 56]])
def test_a_bad_window_is_an_input_error(window):
    from organomics.errors import InputError

    with pytest.raises(InputError, match="confirm_window_days"):
        irecist.IrecistOptions(window)


def test_course_figure_has_one_lane_per_site_with_an_iupd():
    from organomics.clinical import irecist_plots

    # P1 PL: the reset case (iUPD day 84, reset day 126); P2 LM never progresses.
    rows = targets((-7, 20.0), (42, 18.0), (84, 24.0), (126, 19.0))
    timepoints, summary = run(rows)
    timepoints = timepoints.assign(patient="P1", site="PL")
    responses = pd.DataFrame(
        [
            {"patient": "P1", "site": "PL", **summary},
            {"patient": "P2", "site": "LM", "iupd_day": np.nan, "pseudoprogression": False},
        ]
    )
    figure = irecist_plots.course(timepoints, responses, "PL", "LM")
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["P1 PL"]
    empty = irecist_plots.course(timepoints, responses.iloc[1:], "PL", "LM")
    assert empty.axes[0].texts[0].get_text() == "no site had an iUPD"
