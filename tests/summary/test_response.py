"""Response association, sampling time and subsets on tiny tables, against scipy/statsmodels."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from organomics.errors import InputError
from organomics.pairing import days_between, simultaneous_patients
from organomics.sheet import check_sample_sheet
from organomics.stats import compare_measures, paired_site_comparison
from organomics.summary import findings, response

# Six patients, two sites. Best % change per site and RECIST best response chosen so that
# P1, P2, P3 respond at PL only (discordant), P4 at LM only, P5 and P6 at neither.
RESPONSES = pd.DataFrame(
    {
        "patient": [f"P{i}" for i in range(1, 7) for _ in range(2)],
        "site": ["PL", "LM"] * 6,
        "best_change_pct": [-50, 10, -40, 25, -35, 5, 10, -45, 0, 15, 30, 22],
        "best_response": ["PR", "SD", "PR", "PD", "PR", "SD", "SD", "PR", "SD", "SD", "PD", "PD"],
    }
)
# CD8 fraction: higher at the responding site for P1, P2, P4, lower for P3.
CD8 = [0.30, 0.10, 0.25, 0.05, 0.10, 0.20, 0.12, 0.40, 0.15, 0.16, 0.08, 0.07]


def cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    samples = RESPONSES[["patient", "site"]].assign(sample=lambda t: t["patient"] + "_" + t["site"])
    measures = pd.DataFrame(
        {"sample": samples["sample"], "layer": "mihc", "measure": "CD8_T fraction", "value": CD8}
    )
    return samples, measures


def exact_spearman_p(x, y) -> float:
    """Brute force: scipy's rho for every order of y; share with |rho| >= the observed."""
    observed = abs(stats.spearmanr(x, y).statistic)
    rhos = [abs(stats.spearmanr(x, np.asarray(y)[list(order)]).statistic)
            for order in permutations(range(len(x)))]  # fmt: skip
    return float(np.mean(np.array(rhos) >= observed - 1e-12))


def test_spearman_of_few_patients_is_exact():
    # 3 patients ranked alike: the t approximation gives p ~ 1e-8; exactly, 2 of 3! orders
    # have |rho| = 1, p = 1/3
    result = response.correlation(np.array([1.0, 2.0, 3.0]), np.array([-20.0, 5.0, 40.0]))
    assert result["effect"] == pytest.approx(1.0) and result["p_value"] == pytest.approx(1 / 3)
    x, y = np.array([0.1, 0.5, 0.2, 0.9, 0.4]), np.array([3.0, 1.0, 4.0, 1.5, 9.0])
    assert response.spearman_exact_p(x, y) == pytest.approx(exact_spearman_p(x, y))


def test_per_site_and_within_patient_spearman_match_scipy():
    samples, measures = cohort()
    joined = response.join(measures, samples, response.site_responses(RESPONSES))
    table = response.associate(joined, "PL", "LM").set_index(["response", "analysis", "site"])
    change = "best % change of the site's target sum"
    value = np.array(CD8)
    pct = RESPONSES["best_change_pct"].to_numpy(dtype=float)
    for offset, site in ((0, "PL"), (1, "LM")):
        expected = stats.spearmanr(value[offset::2], pct[offset::2])
        row = table.loc[(change, "spearman_per_site", site)]
        assert row["effect"] == pytest.approx(expected.statistic)
        # 6 patients: the exact p over all 720 orders, as scipy's exhaustive permutation test
        exact = exact_spearman_p(value[offset::2], pct[offset::2])
        assert row["p_value"] == pytest.approx(exact)
        assert row["n"] == 6 and "exact permutation" in row["test"]
    # within patient: LM - PL of the measure against LM - PL of the % change, one point each
    # rounded: 0.10 - 0.30 and 0.05 - 0.25 are both -0.2, a tie scipy would rank apart
    differences = np.round(value[1::2] - value[0::2], 12)
    expected = stats.spearmanr(differences, pct[1::2] - pct[0::2])
    row = table.loc[(change, "spearman_within_patient", "LM-PL")]
    assert row["effect"] == pytest.approx(expected.statistic)
    assert row["p_value"] == pytest.approx(exact_spearman_p(differences, pct[1::2] - pct[0::2]))
    assert row["n"] == 6
    # Fisher z CI with the Bonett-Wright SE, by hand: tanh(atanh(r) +- 1.96 sqrt((1+r^2/2)/(n-3)))
    r = expected.statistic
    half = 1.959963984540054 * np.sqrt((1 + r**2 / 2) / 3)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half))
    )


def test_sign_test_on_discordant_patients_is_scipy_binomtest():
    samples, measures = cohort()
    joined = response.join(measures, samples, response.site_responses(RESPONSES))
    table = response.associate(joined, "PL", "LM")
    row = table[table["analysis"] == "sign_test_within_patient"].iloc[0]
    # discordant: P1-P4; higher at the responding site in P1, P2, P4 (3 of 4)
    expected = stats.binomtest(3, 4, 0.5)
    assert row["n"] == 4 and row["effect"] == 0.75
    assert row["p_value"] == pytest.approx(expected.pvalue)  # 2 * 5/16 = 0.625
    assert row["p_value"] == pytest.approx(0.625)
    ci = expected.proportion_ci(method="exact")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_sign_test_drops_ties_at_the_tolerance():
    # 0.3 - 0.1 and 0.5 - 0.3 differ in floating point; a tie of 0.1 + 0.2 with 0.3 is a tie
    result = response.sign_test([0.1 + 0.2, 0.4, 0.5], [0.3, 0.2, 0.1])
    assert result["n"] == 2 and result["effect"] == 1.0
    assert result["note"] == "1 tied patients dropped"
    assert result["p_value"] == pytest.approx(stats.binomtest(2, 2).pvalue)  # 0.5


def test_logistic_odds_ratio_matches_a_direct_likelihood_fit():
    x = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.6, 0.5, 0.9, 0.3, 0.7])
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1, 1, 0], dtype=float)
    row = response.logistic(x, y)
    z = (x - x.mean()) / x.std(ddof=1)

    def negative_log_likelihood(beta):
        eta = beta[0] + beta[1] * z
        return float(np.sum(np.logaddexp(0, eta) - y * eta))

    # maximum likelihood by scipy.optimize, standard error from the observed information
    fit = optimize.minimize(negative_log_likelihood, [0.0, 0.0], method="BFGS", tol=1e-10)
    p = 1 / (1 + np.exp(-(fit.x[0] + fit.x[1] * z)))
    design = np.column_stack([np.ones_like(z), z])
    information = design.T @ (design * (p * (1 - p))[:, None])
    se = np.sqrt(np.linalg.inv(information)[1, 1])
    assert row["effect"] == pytest.approx(np.exp(fit.x[1]), rel=1e-5)
    assert row["ci_low"] == pytest.approx(np.exp(fit.x[1] - 1.959963984540054 * se), rel=1e-4)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(fit.x[1] / se)), rel=1e-4)
    assert row["n"] == 10 and row["note"] == ""


def test_logistic_under_complete_separation_gives_the_exact_rank_test():
    x = np.array([0.1, 0.2, 0.3, 0.6, 0.7])
    y = np.array([0, 0, 0, 1, 1], dtype=float)
    row = response.logistic(x, y)
    # U = 6 of 6 comparisons: AUC 1; exact two-sided p = 2 / C(5, 2) = 0.2
    assert row["effect"] == 1.0 and row["p_value"] == pytest.approx(0.2)
    assert row["note"] == "complete separation" and "Mann-Whitney" in row["test"]


def test_bh_within_each_family_is_statsmodels():
    samples, measures = cohort()
    other = measures.assign(measure="CD4_T fraction", value=np.linspace(0.1, 0.6, 12) ** 2)
    third = measures.assign(measure="density", value=[5, 1, 4, 2, 3, 3, 2, 6, 1, 1, 7, 2])
    joined = response.join(
        pd.concat([measures, other, third]), samples, response.site_responses(RESPONSES)
    )
    table = response.associate(joined, "PL", "LM")
    family = table[(table["analysis"] == "spearman_per_site") & (table["site"] == "LM")]
    expected = multipletests(family["p_value"], method="fdr_bh")[1]
    assert family["p_adj"].to_numpy() == pytest.approx(expected)
    assert family["correction"].iloc[0].startswith("Benjamini-Hochberg across 3 measures")


def test_no_overlap_writes_the_note_not_an_error():
    samples, measures = cohort()
    others = RESPONSES.assign(patient=RESPONSES["patient"] + "x")
    joined = response.join(measures, samples, response.site_responses(others))
    assert joined.empty
    table = response.no_overlap_table()
    assert len(table) == 1 and table.loc[0, "n"] == 0
    assert table.loc[0, "note"] == response.NO_OVERLAP
    assert findings.response_rows(table, "PL", "LM") == []
    fig = response.figure(joined, table, "mihc", "PL", "LM")
    assert fig.axes  # an empty panel, not an error


def test_simultaneous_subset_repeats_the_within_patient_tests():
    samples, measures = cohort()
    joined = response.join(measures, samples, response.site_responses(RESPONSES))
    table = response.associate(joined, "PL", "LM", simultaneous=["P1", "P2", "P3", "P5"])
    sign = table[(table["analysis"] == "sign_test_within_patient")].set_index("subset")
    assert sign.loc["all", "n"] == 4 and sign.loc["simultaneous", "n"] == 3  # P1, P2, P3
    assert sign.loc["simultaneous", "effect"] == pytest.approx(2 / 3)
    per_site = table[table["analysis"] == "spearman_per_site"]
    assert set(per_site["subset"]) == {"all"}  # not a paired test


def test_findings_rows_carry_their_own_direction():
    samples, measures = cohort()
    joined = response.join(measures, samples, response.site_responses(RESPONSES))
    rows = findings.response_rows(response.associate(joined, "PL", "LM"), "PL", "LM")
    table = findings.assemble(rows, "PL", "LM")
    sign = table[table["measure"].str.contains("discordant")].iloc[0]
    assert sign["direction"] == "higher at the responding site" and sign["n"] == 4
    spearman = table[table["measure"].str.contains("differences")].iloc[0]
    assert spearman["layer"] == "response ~ mihc"
    assert spearman["value_PL"] == pytest.approx(
        stats.spearmanr(CD8[0::2], RESPONSES["best_change_pct"][0::2]).statistic
    )


def test_measures_from_every_source_and_iRECIST_responders():
    tables = {
        "wes_tmb": pd.DataFrame(
            {"sample": ["a", "b"], "tmb": [1.0, 2.0], "n_nonsynonymous": [3, 4]}
        ),
        "deconvolution": pd.DataFrame(
            {"sample": ["a", "a"], "method": "scrna_reference", "cell_type": ["T", "B"],
             "fraction": [0.4, 0.6]}
        ),
    }  # fmt: skip
    long = response.sample_measures(tables)
    assert set(long["measure"]) == {"tmb", "n_nonsynonymous", "T fraction (scrna_reference)",
                                    "B fraction (scrna_reference)"}  # fmt: skip
    assert set(long.loc[long["measure"].str.contains("scrna_ref"), "layer"]) == {"deconvolution"}
    irecist = pd.DataFrame({"patient": ["P1", "P1"], "site": ["PL", "LM"],
                            "best_iresponse": ["iPR", "iUPD"]})  # fmt: skip
    sites = response.site_responses(RESPONSES, irecist).set_index(["patient", "site"])
    assert sites.loc[("P1", "PL"), "irecist_responder"] == 1.0
    assert sites.loc[("P1", "LM"), "irecist_responder"] == 0.0
    assert np.isnan(sites.loc[("P2", "PL"), "irecist_responder"])


SHEET = pd.DataFrame(
    {
        "sample": ["a_PL", "a_LM", "b_PL", "b_LM", "c_PL", "c_LM", "d_PL"],
        "patient": ["a", "a", "b", "b", "c", "c", "d"],
        "site": ["PL", "LM", "PL", "LM", "PL", "LM", "PL"],
        "collection_day": ["-10", "20", "-5", "26", "0", "", "-3"],
    }
)


def test_simultaneous_is_within_30_days_inclusive():
    # a: 30 days apart (in, the boundary), b: 31 (out), c: no LM day, d: unpaired
    assert days_between(SHEET, "PL", "LM") == {"a": 30, "b": 31}
    assert simultaneous_patients(SHEET, "PL", "LM", 30) == ["a"]
    assert simultaneous_patients(SHEET, "PL", "LM", 31) == ["a", "b"]
    assert simultaneous_patients(SHEET.drop(columns="collection_day"), "PL", "LM", 30) is None


def test_paired_tests_without_collection_days_are_unchanged_and_with_them_get_subsets():
    per_sample = pd.DataFrame(
        {"patient": list("aabbccdd"), "site": ["PL", "LM"] * 4,
         "tmb": [1.0, 2.0, 3.0, 5.0, 2.0, 1.0, 4.0, 7.0]}
    )  # fmt: skip
    plain = compare_measures(per_sample, ["tmb"], "PL", "LM")
    assert "subset" not in plain.columns
    split = compare_measures(per_sample, ["tmb"], "PL", "LM", simultaneous=["a", "b"])
    assert list(split["subset"]) == ["all", "simultaneous"]
    pd.testing.assert_frame_equal(
        split[split["subset"] == "all"].drop(columns="subset").reset_index(drop=True), plain
    )
    # the simultaneous row is the test of patients a and b alone: differences +1, +2,
    # both positive, exact two-sided p = 2 / 2^2 = 0.5
    row = split[split["subset"] == "simultaneous"].iloc[0]
    assert row["n_pairs"] == 2 and row["p_value"] == pytest.approx(0.5)
    long = per_sample.rename(columns={"tmb": "value"}).assign(metric="tmb")
    direct = paired_site_comparison(long[long["patient"].isin(["a", "b"])], "value", ["metric"],
                                    "PL", "LM")  # fmt: skip
    assert row["statistic"] == direct.loc[0, "statistic"]


@pytest.mark.parametrize(
    ("column", "cell"), [("collection_day", "3.5"), ("collection_day", "2024-01-02"),
                         ("treatment_line", "-1")]
)  # fmt: skip
def test_sheet_rejects_a_non_integer_day_naming_row_and_column(column, cell):
    sheet = SHEET.drop(columns="collection_day").assign(**{column: "1"})
    sheet.loc[2, column] = cell
    with pytest.raises(InputError) as error:
        check_sample_sheet(sheet, "samples.tsv", ("PL", "LM"), lambda p: p)
    message = str(error.value)
    assert "samples.tsv" in message and "row 4" in message and column in message


def test_paired_plot_marks_simultaneous_pairs_and_days_apart():
    import matplotlib.pyplot as plt

    from organomics.plots import paired_plot

    long = pd.DataFrame(
        {"patient": list("aabbcc"), "site": ["PL", "LM"] * 3, "v": [1.0, 2, 3, 4, 5, 6]}
    )
    fig, (plain, timed) = plt.subplots(1, 2)
    paired_plot(plain, long, "v", "PL", "LM")
    paired_plot(timed, long, "v", "PL", "LM", days_apart={"a": 30, "b": -31})
    assert {line.get_linestyle() for line in plain.lines} == {"-"}  # unchanged without days
    styles = [line.get_linestyle() for line in timed.lines[:3]]  # the patient lines come first
    assert styles == ["-", ":", ":"]  # a: 30 days (in), b: 31 (out), c: no days
    assert [text.get_text() for text in timed.texts] == ["+30 d"]  # only simultaneous ones
    plt.close(fig)


def test_site_tests_repeat_every_measure_on_the_simultaneous_pairs():
    from organomics.summary import sampling

    samples, measures = cohort()
    tests = sampling.site_tests(measures, samples, "PL", "LM", ["P1", "P2", "P3"])
    rows = tests.set_index("subset")
    # LM - PL over all six: -0.2, -0.2, +0.1, +0.28, +0.01, -0.01 (ranks by hand with the tie)
    assert rows.loc["all", "n_pairs"] == 6 and rows.loc["simultaneous", "n_pairs"] == 3
    # simultaneous: -0.2, -0.2, +0.1: T+ = rank 1 of 3 -> exact p = 2 * 2/8 = 0.5
    assert rows.loc["simultaneous", "p_value"] == pytest.approx(0.5)
    fig = sampling.figure(measures, samples, tests, "PL", "LM", {"P1": 3, "P4": 200}, 30)
    assert fig.axes[0].texts[0].get_text() == "+3 d"
