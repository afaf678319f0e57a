"""Organ-specific response rates, mixed response and the paired site comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from organomics.pairing import paired_values
from organomics.stats import bh

RESPONDER = ("CR", "PR")
DISEASE_CONTROL = ("CR", "PR", "SD")
CI_METHOD = "Clopper-Pearson 95%"


def response_rates(responses: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """ORR and DCR per site over its evaluable patients, with Clopper-Pearson 95% CIs.

    Parameters
    ----------
    responses
        The organ response table (one row per evaluable patient and site, `best_response`).
    reference, compare
        The two site labels (one row each, in this order).

    Returns
    -------
    pandas.DataFrame
        Per site: n, responders, orr and its CI, disease_control, dcr and its CI, the count of
        each best response (n_CR ... n_NE) and ci_method; rates are NaN for a site without
        evaluable patients.
    """
    # deferred: statsmodels costs ~0.5 s to import, and steps that import this module for its
    # constants (ADaM via irecist) never compute a rate
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for site in (reference, compare):
        best = responses.loc[responses["site"] == site, "best_response"]
        n = len(best)
        row = {"site": site, "n": n}
        for name, label, categories in (
            ("responders", "orr", RESPONDER),
            ("disease_control", "dcr", DISEASE_CONTROL),
        ):
            count = int(best.isin(categories).sum())
            low, high = proportion_confint(count, n, alpha=0.05, method="beta") if n else (0, 0)
            row |= {
                name: count,
                label: count / n if n else np.nan,
                f"{label}_ci_low": low if n else np.nan,
                f"{label}_ci_high": high if n else np.nan,
            }
        for category in ("CR", "PR", "SD", "PD", "NE"):
            row[f"n_{category}"] = int((best == category).sum())
        row["ci_method"] = CI_METHOD
        rows.append(row)
    return pd.DataFrame(rows)


def mixed_response(
    responses: pd.DataFrame, reference: str, compare: str, change: str = "first"
) -> pd.DataFrame:
    """Per patient evaluable at both sites: concordant, or which site grows while the other shrinks.

    The sign of each site's target-sum change (first on-treatment assessment, or best) decides:
    `{compare}_up_{reference}_down` when the compare site grows (> 0) and the reference shrinks
    (< 0), the opposite pattern likewise, `concordant` otherwise.

    Parameters
    ----------
    responses
        The organ response table with `first_change_pct` and `best_change_pct`.
    reference, compare
        The two site labels.
    change
        ``"first"`` or ``"best"`` (config clinical.mixed_response_from).

    Returns
    -------
    pandas.DataFrame
        patient, pattern, change_pct_<reference>, change_pct_<compare>, change_used; one row per
        patient with a change at both sites (organomics.pairing.paired_values), sorted by
        patient.
    """
    wide, _ = paired_values(responses, f"{change}_change_pct", reference, compare)
    up_down = f"{compare}_up_{reference}_down"
    down_up = f"{reference}_up_{compare}_down"
    pattern = np.select(
        [
            (wide[compare] > 0) & (wide[reference] < 0),
            (wide[reference] > 0) & (wide[compare] < 0),
        ],
        [up_down, down_up],
        default="concordant",
    )
    return pd.DataFrame(
        {
            "patient": wide.index,
            "pattern": pattern,
            f"change_pct_{reference}": wide[reference].to_numpy(),
            f"change_pct_{compare}": wide[compare].to_numpy(),
            "change_used": change,
        }
    ).reset_index(drop=True)


def _exact_binomial(better_reference: int, better_compare: int) -> float:
    from scipy.stats import binomtest  # deferred: ~0.35 s import, see response_rates

    discordant = better_reference + better_compare
    return binomtest(better_reference, discordant, 0.5).pvalue if discordant else 1.0


def site_comparison(
    responses: pd.DataFrame, mixed: pd.DataFrame, reference: str, compare: str
) -> pd.DataFrame:
    """Exact McNemar for ORR and DCR, exact binomial on the two mixed patterns; BH over the three.

    Only patients evaluable at both sites enter the paired ORR/DCR tests.

    Parameters
    ----------
    responses
        The organ response table.
    mixed
        The mixed response table (`mixed_response`).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        Rows orr, dcr and mixed_response: n, discordant counts per site, values per site, effect
        and its description, p_value, test, p_adj and correction.
    """
    rows = []
    for metric, categories in (("orr", RESPONDER), ("dcr", DISEASE_CONTROL)):
        # 1/0 per evaluable patient and site (never missing): the pairs are the patients
        # evaluable at both sites
        hit = responses.assign(hit=responses["best_response"].isin(categories).astype(float))
        paired, _ = paired_values(hit, "hit", reference, compare)
        at_reference = paired[reference] == 1
        at_compare = paired[compare] == 1
        better_reference = int((at_reference & ~at_compare).sum())
        better_compare = int((at_compare & ~at_reference).sum())
        n = len(paired)
        rows.append(
            {
                "metric": metric,
                "n": n,
                f"discordant_{reference}_better": better_reference,
                f"discordant_{compare}_better": better_compare,
                f"value_{reference}": at_reference.mean() if n else np.nan,
                f"value_{compare}": at_compare.mean() if n else np.nan,
                "effect": (at_compare.mean() - at_reference.mean()) if n else np.nan,
                "effect_measure": f"paired difference in proportion ({compare} - {reference})",
                "p_value": _exact_binomial(better_reference, better_compare),
                "test": "McNemar exact (binomial on discordant pairs), two-sided",
            }
        )
    # Reference shrinking while compare grows is the reference site doing better.
    better_reference = int((mixed["pattern"] == f"{compare}_up_{reference}_down").sum())
    better_compare = int((mixed["pattern"] == f"{reference}_up_{compare}_down").sum())
    n_mixed = better_reference + better_compare
    rows.append(
        {
            "metric": "mixed_response",
            "n": len(mixed),
            f"discordant_{reference}_better": better_reference,
            f"discordant_{compare}_better": better_compare,
            f"value_{reference}": np.nan,
            f"value_{compare}": np.nan,
            "effect": better_reference / n_mixed if n_mixed else np.nan,
            "effect_measure": (
                f"share of mixed responses with {compare} up and {reference} down "
                f"({n_mixed} of {len(mixed)} patients mixed)"
            ),
            "p_value": _exact_binomial(better_reference, better_compare),
            "test": "exact binomial on the two mixed patterns (H0 = 0.5), two-sided",
        }
    )
    table = pd.DataFrame(rows)
    table["p_adj"] = bh(table["p_value"])
    table["correction"] = "Benjamini-Hochberg across the 3 clinical tests"
    return table
