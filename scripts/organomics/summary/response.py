"""Response and biology per site: each sample joined to its own site's response, pairs kept."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from itertools import permutations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from organomics.stats import bh, spearman, tie_tolerance, tolerant_ranks

# matplotlib is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)
if TYPE_CHECKING:
    import matplotlib.pyplot as plt

RESPONDER = ("CR", "PR")
IRESPONDER = ("iCR", "iPR", "CR", "PR")
# iRECIST tables name their best overall response in one of these columns (first found wins).
IRECIST_COLUMNS = ("best_iresponse", "best_irecist", "irecist_best_response", "best_response")
CHANGE = "best_change_pct"
COLUMNS = ["layer", "measure", "response", "analysis", "site", "subset", "n", "effect"]
COLUMNS += ["effect_measure", "ci_low", "ci_high", "p_value", "p_adj", "test", "correction"]
COLUMNS += ["note"]
NO_OVERLAP = "no patient of the sample sheet has a response in the clinical tables"
SPEARMAN_TEST = "Spearman rank correlation, two-sided (t approximation)"
SPEARMAN_EXACT_TEST = "Spearman rank correlation, two-sided, exact permutation p (all n! orders)"
# Up to this many patients the p-value comes from every permutation (8! = 40320): the t
# approximation is far off for a handful of points (3 perfectly ranked pairs would get p ~ 1e-8).
SPEARMAN_EXACT_MAX = 8
SPEARMAN_CI = "Fisher z 95% CI, Bonett-Wright standard error"
LOGISTIC_TEST = "logistic regression on the standardised measure, Wald test, two-sided"
MWU_TEST = "Mann-Whitney U, two-sided (logistic not estimable: complete separation)"
SIGN_TEST = "exact binomial sign test, two-sided (scipy binomtest, p = 0.5)"


@dataclass(frozen=True)
class Source:
    """One per-sample table a layer writes: input name, branch, path and its measures."""

    name: str
    branch: str
    path: str
    layer: str
    measures: Callable[[dict[str, pd.DataFrame], dict], pd.DataFrame]


def _long(frame: pd.DataFrame, layer: str, measure: str, value: str) -> pd.DataFrame:
    """sample, layer, measure, value rows of one value column (missing values dropped)."""
    out = pd.DataFrame(
        {
            "sample": frame["sample"].astype(str).to_numpy(),
            "layer": layer,
            "measure": measure,
            "value": pd.to_numeric(frame[value], errors="coerce").to_numpy(),
        }
    )
    return out.dropna(subset=["value"])


def _wes_tmb(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["wes_tmb"]
    return pd.concat(
        [_long(table, "wes", m, m) for m in ("tmb", "n_nonsynonymous") if m in table.columns]
    )


def _wes_neoantigens(tables: dict, options: dict) -> pd.DataFrame:
    return _long(tables["wes_neo"], "wes", "n_neoantigens", "n_neoantigens")


def _rnaseq_genes(tables: dict, options: dict) -> pd.DataFrame:
    vst, results = tables.get("rnaseq_vst"), tables.get("rnaseq_results")
    if vst is None or results is None:
        return pd.DataFrame(columns=["sample", "layer", "measure", "value"])
    symbols = results["symbol"].fillna(results["gene"]).astype(str)
    parts = []
    for gene in options.get("genes", []):
        ids = [g for g in results.loc[symbols == gene, "gene"] if g in vst.index]
        if ids:
            values = vst.loc[ids[0]].astype(float)
            frame = pd.DataFrame({"sample": values.index, "value": values.to_numpy()})
            parts.append(_long(frame, "rnaseq", f"{gene} expression (VST)", "value"))
    return pd.concat(parts) if parts else pd.DataFrame(columns=["sample", "layer", "measure"])


def _rnaseq_signatures(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["rnaseq_signatures"]
    return pd.concat(
        [
            _long(table, "rnaseq", f"{column} signature (ssGSEA)", column)
            for column in table.columns
            if column != "sample"
        ]
    )


def _mihc(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["mihc_fractions"]
    table = table[table["region"].astype(str) == "all"]
    parts = []
    for phenotype, rows in table.groupby("phenotype", sort=False):
        parts.append(_long(rows, "mihc", f"{phenotype} fraction", "fraction"))
        if "density_per_mm2" in rows.columns:
            parts.append(_long(rows, "mihc", f"{phenotype} density per mm2", "density_per_mm2"))
    return pd.concat(parts)


def _scrna_fractions(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["scrna_cell_types"]
    return pd.concat(
        [
            _long(rows, "scrna", f"{cell_type} fraction", "fraction")
            for cell_type, rows in table.groupby("cell_type", sort=False)
        ]
    )


def _scrna_scores(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["scrna_scores"]
    return pd.concat(
        [
            _long(rows, "scrna", f"{signature} score in {cell_type}", "mean_score")
            for (cell_type, signature), rows in table.groupby(
                ["cell_type", "signature"], sort=False
            )
        ]
    )


def _deconvolution(tables: dict, options: dict) -> pd.DataFrame:
    table = tables["deconvolution"]
    if {"value", "value_type"} <= set(table.columns):
        # deconvolution.tsv as the RNA branch writes it: value, value_type fraction | score
        return pd.concat(
            _long(rows, "deconvolution", f"{cell_type} {kind} ({method})", "value")
            for (method, cell_type, kind), rows in table.groupby(
                ["method", "cell_type", "value_type"], sort=False
            )
        )
    value = "fraction" if "fraction" in table.columns else "score"
    parts = []
    for (method, cell_type), rows in table.groupby(["method", "cell_type"], sort=False):
        column = value
        if value == "fraction" and rows["fraction"].isna().all() and "score" in rows.columns:
            column = "score"  # marker-based methods give scores, not fractions
        parts.append(_long(rows, "deconvolution", f"{cell_type} {column} ({method})", column))
    return pd.concat(parts)


# The headline per-sample measures of every layer; a new layer's table is one more entry. The
# workflow asks for a source's file when its branch is active and the file is one of the
# branch's outputs (results/rnaseq/deconvolution.tsv once the RNA branch writes it).
SOURCES = (
    Source("wes_tmb", "wes", "results/wes/tmb.tsv", "wes", _wes_tmb),
    Source("wes_neo", "wes", "results/wes/neoantigens.tsv", "wes", _wes_neoantigens),
    Source("rnaseq_results", "rnaseq", "results/rnaseq/deseq2_results.tsv", "rnaseq", None),
    Source("rnaseq_vst", "rnaseq", "results/rnaseq/vst.tsv.gz", "rnaseq", _rnaseq_genes),
    Source(
        "rnaseq_signatures",
        "rnaseq",
        "results/rnaseq/signature_scores.tsv",
        "rnaseq",
        _rnaseq_signatures,
    ),
    Source("mihc_fractions", "mihc", "results/mihc/cell_fractions.tsv", "mihc", _mihc),
    Source("scrna_cell_types", "scrna", "results/scrna/cell_types.tsv", "scrna", _scrna_fractions),
    Source("scrna_scores", "scrna", "results/scrna/signature_scores.tsv", "scrna", _scrna_scores),
    Source(
        "deconvolution",
        "rnaseq",
        "results/rnaseq/deconvolution.tsv",
        "deconvolution",
        _deconvolution,
    ),
)


def sample_measures(tables: dict[str, pd.DataFrame], options: dict | None = None) -> pd.DataFrame:
    """Every headline per-sample measure of the tables given.

    Parameters
    ----------
    tables
        The layers' per-sample tables by source name (SOURCES; ``rnaseq_vst`` genes x samples).
    options
        ``genes``: the gene symbols whose expression is a measure (config
        rnaseq.genes_of_interest).

    Returns
    -------
    pandas.DataFrame
        ``sample, layer, measure, value``, in SOURCES order.
    """
    options = options or {}
    parts = [
        source.measures(tables, options)
        for source in SOURCES
        if source.measures is not None and source.name in tables
    ]
    columns = ["sample", "layer", "measure", "value"]
    parts = [part[columns] for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def site_responses(
    organ_response: pd.DataFrame, irecist: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each patient's response per site: best % change, responder, iRECIST responder.

    Parameters
    ----------
    organ_response
        results/clinical/organ_response.tsv (patient, site, best_change_pct, best_response).
    irecist
        results/clinical/irecist_response.tsv (patient, site and a best-response column of
        IRECIST_COLUMNS), or None.

    Returns
    -------
    pandas.DataFrame
        patient, site, best_change_pct, responder (1.0 for CR/PR, 0.0 otherwise, NaN when not
        evaluable) and, with `irecist`, irecist_responder (iCR/iPR).
    """
    table = organ_response[["patient", "site", CHANGE, "best_response"]].copy()
    table[["patient", "site"]] = table[["patient", "site"]].astype(str)
    table[CHANGE] = pd.to_numeric(table[CHANGE], errors="coerce")
    best = table.pop("best_response").astype(str)
    table["responder"] = np.where(best.isin(RESPONDER), 1.0, 0.0)
    table.loc[best.isin(["NE", "nan", ""]), "responder"] = np.nan
    if irecist is not None:
        column = next((c for c in IRECIST_COLUMNS if c in irecist.columns), None)
        if column is not None:
            ir = irecist[["patient", "site", column]].astype(str)
            ir["irecist_responder"] = np.where(ir[column].isin(IRESPONDER), 1.0, 0.0)
            ir.loc[ir[column].isin(["NE", "iNE", "nan", ""]), "irecist_responder"] = np.nan
            table = table.merge(ir[["patient", "site", "irecist_responder"]], how="left")
    return table


def spearman_ci(rho: float, n: int) -> tuple[float, float]:
    """95% CI of a Spearman rho: Fisher z with the Bonett-Wright (2000) standard error.

    Parameters
    ----------
    rho, n
        The correlation and its number of pairs.

    Returns
    -------
    (low, high)
        NaN for n < 4 or |rho| = 1.
    """
    if n < 4 or not np.isfinite(rho) or abs(rho) >= 1:
        return np.nan, np.nan
    se = np.sqrt((1 + rho**2 / 2) / (n - 3))
    z = np.arctanh(rho)
    return float(np.tanh(z - 1.959963984540054 * se)), float(np.tanh(z + 1.959963984540054 * se))


@cache
def _all_orders(n: int) -> np.ndarray:
    """Every permutation of range(n) as rows (built once per n: 8! rows take 0.1 s each time)."""
    return np.array(list(permutations(range(n))))


def spearman_exact_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided exact permutation p of Spearman's rho over every order of y.

    Parameters
    ----------
    x, y
        Paired values, at most SPEARMAN_EXACT_MAX of them; ties at the relative tolerance share
        their midrank (`organomics.stats.tolerant_ranks`).

    Returns
    -------
    float
        The share of the n! pairings whose |rho| is at least the observed one (the observed
        pairing is one of them, so p >= 1/n!).
    """
    rank_x = tolerant_ranks(x, tie_tolerance(x))
    rank_y = tolerant_ranks(y, tie_tolerance(y))
    orders = _all_orders(len(x))
    centred_x = rank_x - rank_x.mean()
    centred_y = rank_y - rank_y.mean()
    # rho of each pairing is the Pearson correlation of the ranks; the denominator is constant
    numerators = centred_y[orders] @ centred_x
    observed = float(centred_y @ centred_x)
    # compare in units of the largest numerator, so equal |rho| computed in another order ties
    tolerance = 1e-9 * float(np.abs(numerators).max())
    return float(np.mean(np.abs(numerators) >= abs(observed) - tolerance))


def correlation(x: np.ndarray, y: np.ndarray) -> dict:
    """Spearman rho, CI and p of two paired arrays (NaN pairs dropped).

    Parameters
    ----------
    x, y
        Measure and response values.

    Returns
    -------
    dict
        n, effect, ci_low, ci_high, p_value, test, effect_measure, note.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = len(x)
    row = {"n": n, "test": SPEARMAN_TEST, "effect_measure": f"Spearman rho ({SPEARMAN_CI})"}
    tol_x, tol_y = tie_tolerance(x), tie_tolerance(y)
    varies = n >= 3 and np.ptp(x) > tol_x and np.ptp(y) > tol_y
    if not varies:
        note = "fewer than 3 patients or no variation"
        return (
            row | dict.fromkeys(["effect", "ci_low", "ci_high", "p_value"], np.nan) | {"note": note}
        )
    rho, p_value = spearman(x, y)
    if n <= SPEARMAN_EXACT_MAX:
        p_value, row["test"] = spearman_exact_p(x, y), SPEARMAN_EXACT_TEST
    low, high = spearman_ci(rho, n)
    return row | {"effect": rho, "ci_low": low, "ci_high": high, "p_value": p_value, "note": ""}


def separated(x: np.ndarray, y: np.ndarray) -> bool:
    """True when a threshold on x splits responders (y = 1) from the others without error.

    Parameters
    ----------
    x, y
        Measure and 0/1 outcome.

    Returns
    -------
    bool
        Complete separation (then the logistic maximum-likelihood odds ratio is infinite);
        values within the tie tolerance count as equal, so a tie across the groups is overlap.
    """
    tol = tie_tolerance(x)
    ones, zeros = x[y == 1], x[y == 0]
    return bool(ones.min() - zeros.max() > tol or zeros.min() - ones.max() > tol)


def logistic(x: np.ndarray, y: np.ndarray) -> dict:
    """Responder ~ measure at one site: odds ratio per standard deviation of the measure.

    Parameters
    ----------
    x, y
        Measure and responder (1/0); NaN pairs dropped.

    Returns
    -------
    dict
        n, effect (odds ratio per SD), Wald 95% CI, Wald p, test, effect_measure, note. Under
        complete separation the odds ratio is infinite: the row gives the exact Mann-Whitney U
        p-value instead and the effect is the AUC (probability that a responder's measure
        exceeds a non-responder's).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = len(x)
    empty = {"n": n, "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    empty |= {"test": LOGISTIC_TEST, "effect_measure": "odds ratio per SD of the measure"}
    n_resp = int(y.sum())
    if n < 3 or n_resp == 0 or n_resp == n or np.ptp(x) <= tie_tolerance(x):
        return empty | {"note": "needs responders and non-responders and a varying measure"}
    # scipy and statsmodels imported here: the Snakefile parse imports this module for SOURCES
    import statsmodels.api as sm
    from scipy import stats as sps

    if separated(x, y):
        result = sps.mannwhitneyu(x[y == 1], x[y == 0], alternative="two-sided", method="exact")
        auc = float(result.statistic) / (n_resp * (n - n_resp))
        return empty | {
            "effect": auc,
            "p_value": float(result.pvalue),
            "test": MWU_TEST,
            "effect_measure": "AUC: P(measure of a responder > a non-responder)",
            "note": "complete separation",
        }
    z = (x - x.mean()) / x.std(ddof=1)
    # statsmodels' warnings (quasi-separation, no convergence) go to the row's note, not stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm.Logit(y, sm.add_constant(z)).fit(disp=0, maxiter=200)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    notes = [] if fit.mle_retvals.get("converged", True) else ["logistic fit did not converge"]
    # the converged flag already says what statsmodels' ConvergenceWarning says
    notes += sorted(
        {f"{w.category.__name__}: {w.message}" for w in caught}
        - {f"ConvergenceWarning: {w.message}" for w in caught}
    )
    note = "; ".join(notes)
    with np.errstate(over="ignore"):  # a diverging fit's CI is inf; the note says why
        return empty | {
            "effect": float(np.exp(beta)),
            "ci_low": float(np.exp(beta - 1.959963984540054 * se)),
            "ci_high": float(np.exp(beta + 1.959963984540054 * se)),
            "p_value": float(fit.pvalues[1]),
            "note": note,
        }


def sign_test(better: np.ndarray, worse: np.ndarray) -> dict:
    """Is the better-responding site the one with the higher measure? Exact sign test.

    Parameters
    ----------
    better, worse
        Per discordant patient, the measure at the responding and at the non-responding site.

    Returns
    -------
    dict
        n (patients whose two values differ beyond the tie tolerance), effect (share with the
        higher value at the better-responding site) and its Clopper-Pearson 95% CI, p, test,
        effect_measure, note (ties dropped).
    """
    better, worse = np.asarray(better, dtype=float), np.asarray(worse, dtype=float)
    keep = ~(np.isnan(better) | np.isnan(worse))
    better, worse = better[keep], worse[keep]
    diff = better - worse
    tol = tie_tolerance(better, worse)
    untied = np.abs(diff) > tol
    k, n = int((diff[untied] > 0).sum()), int(untied.sum())
    ties = int((~untied).sum())
    row = {"n": n, "test": SIGN_TEST}
    row["effect_measure"] = (
        "share of discordant patients with the higher value at the responding site"
    )
    row["note"] = f"{ties} tied patients dropped" if ties else ""
    if n == 0:
        return row | {"effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                      "note": "no discordant patient with both values"}  # fmt: skip
    from scipy import stats as sps

    result = sps.binomtest(k, n, 0.5)
    ci = result.proportion_ci(confidence_level=0.95, method="exact")
    return row | {"effect": k / n, "ci_low": ci.low, "ci_high": ci.high,
                  "p_value": float(result.pvalue)}  # fmt: skip


def join(measures: pd.DataFrame, samples: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Each sample's measures with its own site's response.

    Parameters
    ----------
    measures
        ``sample, layer, measure, value`` (`sample_measures`).
    samples
        The sheet's ``sample, patient, site``.
    responses
        `site_responses`.

    Returns
    -------
    pandas.DataFrame
        The measures of samples whose patient and site have a response row, with patient, site
        and the response columns.
    """
    sheet = samples[["sample", "patient", "site"]].astype(str)
    joined = measures.merge(sheet, on="sample", how="inner")
    return joined.merge(responses, on=["patient", "site"], how="inner")


def _site_means(group: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean of each column per patient and site (one groupby for every column `_wide` needs)."""
    return group.groupby(["patient", "site"])[columns].mean()


def _wide(means: pd.DataFrame, column: str, reference: str, compare: str) -> pd.DataFrame:
    """Patients x sites of one column of `_site_means` (one sample per patient and site).

    As ``pivot_table(index="patient", columns="site", values=column, aggfunc="mean")`` with its
    dropna: a patient without a value at any site is no row (one pivot_table per column took
    half the job's statistics time).
    """
    return means[column].dropna().unstack("site").reindex(columns=[reference, compare])


def associate(
    joined: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Every measure against every response, per site and within patient.

    Parameters
    ----------
    joined
        `join`'s table.
    reference, compare
        The two site labels.
    simultaneous
        Patients whose two biopsies are simultaneous (`organomics.pairing.simultaneous_patients`);
        the within-patient analyses are repeated on them (subset ``simultaneous``). None: only
        ``all``.

    Returns
    -------
    pandas.DataFrame
        COLUMNS. Analyses: ``spearman_per_site`` (measure vs best % change at each site),
        ``spearman_within_patient`` (compare - reference difference of the measure vs that of
        the best % change, one point per patient), ``logistic_per_site`` (responder ~
        measure at each site) and ``sign_test_within_patient`` (discordant-response
        patients). p_adj: Benjamini-Hochberg across the measures of one response, analysis,
        site and subset.
    """
    outcomes = [(CHANGE, "best % change of the site's target sum")]
    responders = [c for c in ("responder", "irecist_responder") if c in joined.columns]
    names = {"responder": "responder (RECIST CR/PR)",
             "irecist_responder": "responder (iRECIST iCR/iPR)"}  # fmt: skip
    subsets = [("all", None)]
    if simultaneous is not None:
        subsets.append(("simultaneous", {str(p) for p in simultaneous}))
    rows = []
    columns = [CHANGE, *responders]
    for (layer, measure), group in joined.groupby(["layer", "measure"], sort=False):
        base = {"layer": layer, "measure": measure}
        at_sites = {site: group[group["site"] == site] for site in (reference, compare)}
        means = _site_means(group, ["value", *columns])
        values = _wide(means, "value", reference, compare)
        for column, label in outcomes + [(c, names[c]) for c in responders]:
            is_change = column == CHANGE
            for site, at_site in at_sites.items():
                result = (correlation if is_change else logistic)(
                    at_site["value"].to_numpy(), at_site[column].to_numpy()
                )
                analysis = "spearman_per_site" if is_change else "logistic_per_site"
                rows.append(base | {"response": label, "analysis": analysis, "site": site,
                                    "subset": "all"} | result)  # fmt: skip
            outcome = _wide(means, column, reference, compare)
            for subset, keep in subsets:
                patients = values.index if keep is None else values.index[values.index.isin(keep)]
                v, o = values.loc[patients], outcome.loc[patients]
                if is_change:
                    result = correlation(
                        (v[compare] - v[reference]).to_numpy(),
                        (o[compare] - o[reference]).to_numpy(),
                    )
                    analysis = "spearman_within_patient"
                else:
                    discordant = o[reference].notna() & o[compare].notna()
                    discordant &= o[reference] != o[compare]
                    v, o = v[discordant], o[discordant]
                    better_is_cmp = (o[compare] == 1).to_numpy()
                    better = np.where(better_is_cmp, v[compare], v[reference])
                    worse = np.where(better_is_cmp, v[reference], v[compare])
                    result = sign_test(better, worse)
                    analysis = "sign_test_within_patient"
                rows.append(base | {"response": label, "analysis": analysis,
                                    "site": f"{compare}-{reference}", "subset": subset}
                            | result)  # fmt: skip
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table["p_adj"] = np.nan
    table["correction"] = ""
    for _, family in table.groupby(["response", "analysis", "site", "subset"], sort=False):
        tested = int(family["p_value"].notna().sum())
        table.loc[family.index, "p_adj"] = bh(family["p_value"].to_numpy())
        table.loc[family.index, "correction"] = (
            f"Benjamini-Hochberg across {tested} measures (same response, analysis, site, subset)"
        )
    return table[COLUMNS]


def no_overlap_table(note: str = NO_OVERLAP) -> pd.DataFrame:
    """The table when no sample can be joined to a response: one row carrying the note.

    Parameters
    ----------
    note
        Why the table is empty.

    Returns
    -------
    pandas.DataFrame
        COLUMNS with n = 0 and `note`.
    """
    row = dict.fromkeys(COLUMNS, np.nan) | {"n": 0, "note": note}
    return pd.DataFrame([row], columns=COLUMNS)


def figure(
    joined: pd.DataFrame,
    table: pd.DataFrame,
    layer: str,
    reference: str,
    compare: str,
    days_apart: dict[str, int] | None = None,
    within_days: int = 30,
) -> plt.Figure:
    """One panel per measure of `layer`: measure vs the site's best % change.

    A patient's two samples are joined by a line (solid when the biopsies are simultaneous,
    dotted when taken further apart or of unknown timing), so the within-patient comparison
    shows beside the per-site one; the panel title gives the per-site rho and the
    within-patient rho of the differences.

    Parameters
    ----------
    joined
        `join`'s table.
    table
        `associate`'s table (for the titles).
    layer
        The layer to draw.
    reference, compare
        The two site labels.
    days_apart
        Patient -> days between the two biopsies (`organomics.pairing.days_between`).
    within_days
        config pairs.simultaneous_days.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from organomics.plots import SITE_COLOURS

    data = joined[joined["layer"] == layer]
    measures = list(dict.fromkeys(data["measure"]))
    n = max(1, len(measures))
    columns = min(n, 4)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.2 * rows), squeeze=False)
    days_apart = days_apart or {}
    for ax, measure in zip(axes.flat, measures, strict=False):
        group = data[data["measure"] == measure]
        means = _site_means(group, ["value", CHANGE])
        values = _wide(means, "value", reference, compare)
        change = _wide(means, CHANGE, reference, compare)
        patients = values.dropna().index.intersection(change.dropna().index)
        gaps = [days_apart.get(patient) for patient in patients]
        # one collection, not a Line2D per patient: hundreds of lines were a third of the
        # drawing time; zorder 2 as a Line2D's, above the points
        ax.add_collection(
            LineCollection(
                [np.column_stack([values.loc[p], change.loc[p]]) for p in patients],
                linestyles=["-" if g is not None and abs(g) <= within_days else ":" for g in gaps],
                colors="0.75",
                linewidths=0.7,
                zorder=2,
            )
        )
        for site, colour in zip((reference, compare), SITE_COLOURS, strict=True):
            at_site = group[group["site"] == site]
            ax.scatter(at_site["value"], at_site[CHANGE], s=12, color=colour, label=site)
        ax.axhline(-30, color="0.5", lw=0.5, ls="--")
        ax.axhline(20, color="0.5", lw=0.5, ls="--")
        stats_rows = table[(table["layer"] == layer) & (table["measure"] == measure)
                           & (table["response"].str.startswith("best"))
                           & (table["subset"] == "all")]  # fmt: skip
        rhos = dict(zip(stats_rows["site"], stats_rows["effect"], strict=True))
        title = ", ".join(
            f"{site} {rhos.get(site, np.nan):.2f}"
            for site in (reference, compare, f"{compare}-{reference}")
        )
        ax.set_title(f"{measure}\nrho {title}", fontsize=7)
        ax.set_xlabel(measure, fontsize=7)
        ax.set_ylabel("best % change of target sum", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(measures) :]:
        ax.set_visible(False)
    if measures:
        axes.flat[0].legend(frameon=False, fontsize=6)
    fig.suptitle(
        f"{layer}: biology vs response per site (dashed: -30% PR, +20% PD; lines join a "
        f"patient's sites, solid when sampled within {within_days} days)",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
