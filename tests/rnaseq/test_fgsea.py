"""fgsea engine of GSEA prerank: ES, shared nulls per set size, multilevel p, against gseapy."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from organomics.rnaseq import enrichment, fgsea
from organomics.rnaseq.genesets import read_gmt


def _brute_es(weights: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """GSEA ES of many sets at once (rows of sorted positions), written from the definition:
    the running score just before and just after each hit; the extreme one."""
    n, k = len(weights), positions.shape[1]
    hit = np.abs(weights)[positions]
    total = hit.sum(axis=1, keepdims=True)
    after = np.cumsum(hit, axis=1) / total - (positions - np.arange(k)) / (n - k)
    before = after - hit / total
    both = np.concatenate([before, after], axis=1)
    return both[np.arange(len(both)), np.abs(both).argmax(axis=1)]


def test_es_and_running_score_by_hand():
    # weights |3|, |2|, |1|, |-1|, |-2|; set at positions 0 and 2: NS = 3 + 1 = 4, miss = 1/3.
    # By hand: 0.75, 0.75 - 1/3, + 1/4, - 1/3, - 1/3 -> 0.75, 0.4167, 0.6667, 0.3333, 0
    weights = np.array([3.0, 2.0, 1.0, 1.0, 2.0])
    assert fgsea._es(weights, np.array([0, 2]), 2, 5) == pytest.approx(0.75)
    # positions 1 and 4: NS = 4; -1/3, -1/3 + 1/2, -1/3, -1/3, + 1/2 -> trough -0.5
    assert fgsea._es(weights, np.array([1, 4]), 2, 5) == pytest.approx(-0.5)
    ordered = pd.Series([3.0, 2.0, 1.0, -1.0, -2.0], index=list("ABCDE"))
    (first, second) = fgsea.prerank(ordered, {"ac": ["C", "A"], "be": ["B", "E"]}, 10, 0)
    np.testing.assert_allclose(first.run_es, [0.75, 5 / 12, 2 / 3, 1 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(second.run_es, [-1 / 3, 1 / 6, -1 / 6, -0.5, 0.0], atol=1e-12)
    assert (first.es, second.es) == pytest.approx((0.75, -0.5))
    assert first.hits == [0, 2] and second.hits == [1, 4]


def test_null_draws_uniform_sets_of_every_size():
    """Each size's null |ES| follows the exact law over all C(n, k) sets (enumerated with the
    definition above): chi-square goodness of fit on 20,000 draws, for k = 2 and k = 3, which
    share their draws (prefixes of one random set, as fgseaSimple). |ES|: on 9 genes some sets
    have max = -min exactly (e.g. hits 2, 4, 6 of 9: -1/3 before the first, +1/3 after the
    last), where the sign is decided by rounding; the sign is checked against gseapy below."""
    rng = np.random.default_rng(3)
    weights = rng.exponential(size=9)
    null = fgsea._null_es(weights, np.array([2, 3], dtype=np.int64), 20000, 5)
    for column, k in enumerate((2, 3)):
        combos = np.array(list(itertools.combinations(range(9), k)))
        # distinct ES values (sets sharing an ES up to rounding merged) and their frequencies
        exact = np.sort(np.abs(_brute_es(weights, combos)))
        starts = np.r_[0, np.flatnonzero(np.diff(exact) > 1e-9) + 1]
        values, counts = exact[starts], np.diff(np.r_[starts, len(exact)])
        drawn = np.abs(null[:, column])
        nearest = np.abs(drawn[:, None] - values[None, :]).argmin(axis=1)
        assert np.abs(drawn - values[nearest]).max() < 1e-9
        seen = np.bincount(nearest, minlength=len(values))
        expected = counts / counts.sum() * len(null)
        assert stats.chisquare(seen, expected).pvalue > 0.001


def test_multilevel_p_against_enumeration():
    """fgseaMultilevel's p for a set beyond 1,000 permutations, against the exact p over all
    C(30, 5) = 142,506 sets: P(ES >= es) / P(ES >= 0). Its error is ~0.6 log2 units at 16
    levels (fgsea's multilevelError); within 1.5 log2 units."""
    rng = np.random.default_rng(11)
    weights = np.sort(rng.exponential(size=30))[::-1].copy()
    combos = np.array(list(itertools.combinations(range(30), 5)))
    exact_es = _brute_es(weights, combos)
    positive = (exact_es >= 0).mean()
    for es in (1.0, float(np.quantile(exact_es, 0.9995))):
        exact = (exact_es >= es - 1e-12).mean() / positive
        p, good = fgsea.multilevel_pvalues(weights, 5, np.array([es]), np.array([positive]))
        assert good[0]
        assert abs(math.log2(p[0] / exact)) < 1.5, (es, p[0], exact)
    # the negative side: the same law on the reversed ranking
    exact = (exact_es <= -0.9 + 1e-12).mean() / (exact_es < 0).mean()
    p, _ = fgsea.multilevel_pvalues(weights, 5, np.array([-0.9]), np.array([1 - positive]))
    assert abs(math.log2(p[0] / exact)) < 1.5, (p[0], exact)


def test_chunked_markov_step_keeps_the_plain_walks_rulers():
    """The chunked perturbation (cached crossing, skipped blocks) is exact: the rulers equal
    the numbers the plain O(k) walk gave (fgsea.py before b67c098, same seeds)."""
    rng = np.random.default_rng(3)
    weights = np.sort(np.abs(rng.standard_normal(2000)))[::-1].copy()
    # (k, target): ladder length, sum of scores, sum of corrector counts, top score
    old = {
        (40, 0.55): (128, 58.23357875088605, 2880, 0.5627580935130301),
        (150, 0.4): (96, 34.7700775931081, 2160, 0.4074640053740418),
    }
    for (k, target), (length, total, corrected, top) in old.items():
        scores, corrector = fgsea._ruler(weights, k, target, 31, 7, 60)
        assert len(scores) == length
        assert scores.sum() == pytest.approx(total, rel=1e-12)
        assert int(corrector.sum()) == corrected
        assert scores[-1] == pytest.approx(top, rel=1e-12)


def test_markov_step_stays_above_the_bound():
    """Every accepted move keeps the set sorted, of distinct genes and at positive ES >= bound
    (recomputed from the definition); a bound no set reaches accepts nothing."""
    rng = np.random.default_rng(5)
    weights = np.sort(np.abs(rng.standard_normal(500)))[::-1].copy()
    sample = np.arange(0, 60, 2, dtype=np.int64)  # 30 genes near the top: ES well above 0.3
    k = len(sample)
    for _ in range(20):
        moves = fgsea._perturb(weights, sample, k, 500, 0.3, 50)
        assert 0 <= moves <= 50
        assert np.all(np.diff(sample) > 0)
        running = np.cumsum(weights[sample]) / weights[sample].sum()
        running -= (sample - np.arange(k)) / (500 - k)
        assert running.max() >= 0.3
    frozen = sample.copy()
    assert fgsea._perturb(weights, sample, k, 500, 1.5, 50) <= 50
    assert np.array_equal(sample, frozen)


def test_p_never_zero_and_resolved_below_one_over_permutations():
    """A set at the very top (bottom) has ES = 1 (-1): exact p = 1 / C(300, 15) / P(side);
    the permutations alone give 1 / (n + 1); the fgsea engine resolves it, never 0."""
    genes = [f"G{i}" for i in range(300)]
    ranks = pd.Series(np.linspace(3.0, -3.0, 300), index=genes)
    sets = {"top": genes[:15], "bottom": genes[-15:], "mid": genes[100:300:13][:15]}
    table, raw = enrichment.prerank(
        ranks, sets, permutations=1000, seed=0, min_size=15, multilevel=True
    )
    plain, _ = enrichment.prerank(ranks, sets, permutations=1000, seed=0, min_size=15)
    table, plain = table.set_index("term"), plain.set_index("term")
    for term in ("top", "bottom"):
        null = raw[term].esnull
        n = int((null >= 0).sum() if raw[term].es > 0 else (null < 0).sum())
        p = table.at[term, "pvalue"]
        assert 0 < p < 1 / (n + 1)
        exact = 1 / math.comb(300, 15) / ((n + 1) / 1001)
        assert abs(math.log10(p / exact)) < 2, (term, p, exact)  # ~1e-24: 80 levels
        assert plain.at[term, "pvalue"] == pytest.approx(1 / (n + 1), rel=1e-12)  # the floor
    # within the permutations: (k + 1) / (n + 1), the same with or without multilevel
    assert table.at["mid", "pvalue"] == plain.at["mid", "pvalue"] > 1 / 1001
    assert table["nes"].equals(plain["nes"]) and table["fdr"].equals(plain["fdr"])


@pytest.fixture(scope="module")
def go_case(repo):
    """120 bundled GO BP sets (15-100 genes) over their 2,000-odd genes, 10 of them planted."""
    go = read_gmt(repo / "resources/genesets/go_bp.gmt.gz")
    rng = np.random.default_rng(2)
    names = sorted(name for name, genes in go.items() if 15 <= len(genes) <= 100)
    chosen = list(rng.choice(names, size=120, replace=False))
    sets = {name: go[name] for name in chosen}
    genes = sorted({g for name in chosen for g in go[name]})
    ranks = pd.Series(rng.standard_t(30, size=len(genes)), index=genes)
    planted = chosen[:10]
    for j, name in enumerate(planted):
        ranks[go[name]] += 1.5 if j % 2 == 0 else -1.5
    return ranks, sets, planted


def test_engines_agree_on_go_bp(go_case):
    """fgsea vs gseapy.prerank (reference tool) on the same ranking, bundled GO BP sets and
    1,000 permutations: NES Spearman >= 0.95 over terms, the same leading terms (the planted
    ones), and the same ES (the statistic itself is exact in both)."""
    ranks, sets, planted = go_case
    fast, fast_raw = enrichment.prerank(ranks, sets, 1000, seed=1, engine="fgsea")
    ref, ref_raw = enrichment.prerank(ranks, sets, 1000, seed=1, engine="gseapy")
    assert fast.columns.tolist() == ref.columns.tolist() == enrichment.GSEA_COLUMNS
    joined = fast.set_index("term").join(ref.set_index("term"), rsuffix="_ref")
    assert len(joined) == len(sets)  # every set's genes are ranked
    np.testing.assert_allclose(
        [fast_raw[t].es for t in joined.index], [ref_raw[t].es for t in joined.index], atol=1e-9
    )
    assert stats.spearmanr(joined["nes"], joined["nes_ref"]).statistic >= 0.95
    assert set(fast["term"][:10]) == set(ref["term"][:10]) == set(planted)
    assert (joined["leading_edge"] == joined["leading_edge_ref"]).all()
    # without multilevel, p is never below (0 + 1) / (1000 + 1): the (k + 1) / (n + 1) floor
    assert (fast["pvalue"] >= 1 / 1001).all() and (fast["fdr"] > 0).all()


def test_fdr_counts_equal_the_direct_pass():
    """permutation_pvalues counts by binary search: the same FDR as the direct comparison of
    every null NES (the code it replaced), ties at the observed NES included."""
    rng = np.random.default_rng(4)
    summaries = []
    for j in range(30):
        null = np.round(rng.normal(0, 0.3, 200), 2)  # rounded: many ties
        es = float(np.round(rng.normal(0, 0.5), 2))
        scale = null[null >= 0].mean() if es >= 0 else -null[null < 0].mean()
        summaries.append(SimpleNamespace(term=f"t{j}", es=es, nes=es / scale, esnull=null))
    _, fdrs = enrichment.permutation_pvalues(summaries)
    nulls = np.concatenate(
        [
            np.where(
                s.esnull >= 0,
                s.esnull / s.esnull[s.esnull >= 0].mean(),
                s.esnull / -s.esnull[s.esnull < 0].mean(),
            )
            for s in summaries
        ]
    )
    values = np.array([s.nes for s in summaries])
    for s in summaries:
        side = nulls >= 0 if s.nes >= 0 else nulls < 0
        extreme = enrichment._as_extreme(nulls, s.nes) & side
        obs_side = values >= 0 if s.nes >= 0 else values < 0
        obs = (enrichment._as_extreme(values, s.nes) & obs_side).sum() / obs_side.sum()
        assert fdrs[s.term] == pytest.approx(
            min(1.0, (extreme.sum() + 1) / (side.sum() + 1) / obs), rel=1e-12
        )


def test_unknown_engine():
    ranks = pd.Series(np.arange(40.0), index=[f"G{i}" for i in range(40)])
    with pytest.raises(Exception, match="engine must be fgsea or gseapy"):
        enrichment.prerank(ranks, {"S": [f"G{i}" for i in range(20)]}, engine="fast")
