"""Response rates, mixed response and the paired site tests against hand and scipy values."""

from __future__ import annotations

from math import comb

import pandas as pd
import pytest
from scipy.stats import beta

from organomics.clinical import rates

SITES = ("PL", "LM")


def responses(
    best: dict[str, tuple[str, str]], first: dict[str, tuple[float, float]] | None = None
):
    rows = []
    for patient, pair in best.items():
        for site, response, change in zip(
            SITES, pair, (first or {}).get(patient, (0, 0)), strict=True
        ):
            rows.append(
                {
                    "patient": patient,
                    "site": site,
                    "best_response": response,
                    "first_change_pct": change,
                    "best_change_pct": change,
                }
            )
    return pd.DataFrame(rows)


def test_response_rates_with_clopper_pearson_intervals():
    table = responses(
        {"P1": ("PR", "PD"), "P2": ("CR", "SD"), "P3": ("SD", "SD"), "P4": ("PD", "PR")}
    )
    result = rates.response_rates(table, *SITES).set_index("site")
    assert result.loc["PL", "responders"] == 2 and result.loc["PL", "orr"] == 0.5
    assert result.loc["LM", "disease_control"] == 3 and result.loc["LM", "dcr"] == 0.75
    # Clopper-Pearson from the beta quantiles: 2 of 4.
    assert result.loc["PL", "orr_ci_low"] == pytest.approx(beta.ppf(0.025, 2, 3))
    assert result.loc["PL", "orr_ci_high"] == pytest.approx(beta.ppf(0.975, 3, 2))
    # 3 of 4: upper bound from beta(4, 1).
    assert result.loc["LM", "dcr_ci_high"] == pytest.approx(beta.ppf(0.975, 4, 1))


def test_mixed_response_patterns_from_the_sign_of_first_change():
    table = responses(
        {p: ("SD", "SD") for p in ("P1", "P2", "P3", "P4")},
        {"P1": (-10, 12), "P2": (5, -3), "P3": (-10, -2), "P4": (0, 8)},
    )
    mixed = rates.mixed_response(table, *SITES).set_index("patient")["pattern"]
    assert mixed.to_dict() == {
        "P1": "LM_up_PL_down",
        "P2": "PL_up_LM_down",
        "P3": "concordant",
        "P4": "concordant",  # no change is neither up nor down
    }


def test_site_comparison_exact_tests_by_hand():
    # ORR discordant: PL-only responders 7, LM-only 1 -> exact McNemar p = 2 * (1 + 8) / 2**8.
    best = {f"A{i}": ("PR", "SD") for i in range(7)} | {"B0": ("SD", "PR")}
    best |= {f"C{i}": ("SD", "SD") for i in range(4)}
    changes = {f"A{i}": (-40, 5) for i in range(7)} | {"B0": (3, -35)}
    changes |= {f"C{i}": (-5, -5) for i in range(4)}
    table = responses(best, changes)
    mixed = rates.mixed_response(table, *SITES)
    result = rates.site_comparison(table, mixed, *SITES).set_index("metric")
    orr = result.loc["orr"]
    assert (orr["discordant_PL_better"], orr["discordant_LM_better"]) == (7, 1)
    assert orr["p_value"] == pytest.approx(2 * (comb(8, 0) + comb(8, 1)) / 2**8)
    assert orr["effect"] == pytest.approx((1 - 7) / 12)
    mixed_row = result.loc["mixed_response"]
    assert (mixed_row["discordant_PL_better"], mixed_row["discordant_LM_better"]) == (7, 1)
    # DCR: everyone is controlled at both sites -> no discordant pairs, p = 1.
    assert result.loc["dcr", "p_value"] == 1.0


def test_published_mixed_response_p_value():
    # 15 LM-up vs 2 PL-up: 2 * P(X <= 2 | n=17, p=1/2) = 2 * (1 + 17 + 136) / 2**17 = 0.00235.
    best = {f"M{i}": ("SD", "SD") for i in range(17)}
    changes = {f"M{i}": (-10, 10) if i < 15 else (10, -10) for i in range(17)}
    table = responses(best, changes)
    mixed = rates.mixed_response(table, *SITES)
    row = rates.site_comparison(table, mixed, *SITES).set_index("metric").loc["mixed_response"]
    assert row["p_value"] == pytest.approx(2 * (1 + 17 + 136) / 2**17)
    assert round(row["p_value"], 4) == 0.0023
