"""Lesion-level view on a hand-made lesion table: exact boundaries, synchrony, mixed PD."""

from __future__ import annotations

import math

import pandas as pd

from organomics.clinical import lesion_response


def _lesions(rows):
    table = pd.DataFrame(rows, columns=["patient", "lesion", "organ", "site", "day", "diameter_mm"])
    return table.assign(role="target", nodal=False, status=None)


def test_state_boundaries_are_exact():
    # Hundredths of a mm: 11 -> 7.7 mm is exactly -30% (raw floats: 7.7 / 11 = 0.7000000000000001)
    assert lesion_response.lesion_state(770, 1100, 1100) == "shrinking"
    assert lesion_response.lesion_state(771, 1100, 1100) == "stable"
    # 25 -> 30 mm: exactly +20% and +5 mm over the nadir is growing; 15.4 -> 20.4 is +5.0 mm.
    assert lesion_response.lesion_state(3000, 2500, 2500) == "growing"
    assert lesion_response.lesion_state(2040, 2000, 1540) == "growing"
    assert lesion_response.lesion_state(2039, 2000, 1540) == "stable"  # 4.99 mm above nadir
    assert lesion_response.lesion_state(1200, 1000, 1000) == "stable"  # +20% but only 2 mm


def test_lesion_table_by_hand():
    lesions = _lesions(
        [
            # A: PL lesion L1 11 -> 7.7 at day 42 (exactly -30%) and L2 20 -> 19; LM lesion M1
            # 20 -> 15 (-25%) at 42, 15.4 at 84 then 20.4 at 126 (+5.0 mm over its nadir 15.0,
            # +36%: growing at the patient's first PD, day 126).
            ("A", "L1", "lung", "PL", -5, 11.0),
            ("A", "L1", "lung", "PL", 42, 7.7),
            ("A", "L1", "lung", "PL", 84, 7.0),
            ("A", "L1", "lung", "PL", 126, 7.0),
            ("A", "L2", "lung", "PL", -5, 20.0),
            ("A", "L2", "lung", "PL", 42, 19.0),
            ("A", "L2", "lung", "PL", 84, 19.0),
            ("A", "L2", "lung", "PL", 126, 19.0),
            ("A", "M1", "liver", "LM", -5, 20.0),
            ("A", "M1", "liver", "LM", 42, 15.0),
            ("A", "M1", "liver", "LM", 84, 15.4),
            ("A", "M1", "liver", "LM", 126, 20.4),
            ("A", "M1", "liver", "LM", 168, 10.0),  # after the site's PD: not counted
        ]
    )
    timepoints = pd.DataFrame(
        [
            ("A", "PL", 42, "SD"),
            ("A", "PL", 84, "PR"),
            ("A", "PL", 126, "PR"),
            ("A", "LM", 42, "SD"),
            ("A", "LM", 84, "SD"),
            ("A", "LM", 126, "PD"),
            ("A", "LM", 168, "PR"),
        ],
        columns=["patient", "site", "day", "response"],
    )
    responses = pd.DataFrame(
        [("A", "PL", "PR", math.nan), ("A", "LM", "SD", 126.0)],
        columns=["patient", "site", "best_response", "first_pd_day"],
    )
    table, mixed = lesion_response.lesion_table(lesions, timepoints, responses, "PL", "LM")
    table = table.set_index("lesion")
    # L1: responded at day 42 (exactly -30%), before its site (PR from day 84): not synchronous.
    assert table.loc["L1", "responded"] and table.loc["L1", "first_response_day"] == 42
    assert table.loc["L1", "site_response_day"] == 84
    assert table.loc["L1", "with_site"] and not table.loc["L1", "synchronous_with_site"]
    assert not table.loc["L1", "with_other_site"]  # LM never responded
    assert round(table.loc["L1", "best_change_pct"], 6) == round(100 * (7.0 - 11) / 11, 6)
    # M1: best -25% at day 42 (168 lies after the site's PD and is not counted): no response.
    assert table.loc["M1", "best_change_pct"] == -25 and table.loc["M1", "best_day"] == 42
    assert not table.loc["M1", "responded"] and table.loc["M1", "n_scans"] == 3
    assert table.loc["M1", "other_site_response_day"] == 84
    # At the first PD (day 126): M1 growing, L1 shrinking (7.0 <= 7.7), L2 stable -> mixed.
    assert table["state_at_first_pd"].to_dict() == {
        "L1": "shrinking",
        "L2": "stable",
        "M1": "growing",
    }
    row = mixed.iloc[0]
    assert row["pd_sites"] == "LM" and row["first_pd_day"] == 126
    assert (row["n_growing"], row["n_shrinking"], row["n_stable"]) == (1, 1, 1)
    assert row["mixed"] and row["growing_lesions"] == "M1" and row["shrinking_lesions"] == "L1"
    assert lesion_response.waterfall(table.reset_index(), "PL", "LM").axes[0].patches
