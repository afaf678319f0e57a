"""Preranked GSEA with fgsea's algorithms (Korotkevich et al. 2021): shared nulls, multilevel p."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from scipy.special import digamma

log = logging.getLogger(__name__)

# fgseaMultilevel's defaults: 101 sets per level, p-values below 1e-50 are reported as 1e-50
SAMPLE_SIZE = 101
EPS = 1e-50
# fgsea stops a level's Markov chain after sampleSize x setSize accepted moves; a chain that
# accepts almost nothing (an ES no random set can reach) is stopped after this many proposals
# per accepted move needed, and the ruler ends there (fgsea breaks out when a level gains nothing)
MAX_PROPOSALS_PER_MOVE = 200


@numba.njit(cache=True)
def _es(weights, positions, k, n):
    """Signed GSEA ES of the set at the first k sorted `positions` (fgsea's calcES)."""
    total = 0.0
    for i in range(k):
        total += weights[positions[i]]
    miss = 1.0 / (n - k)
    hit = 1.0 / total if total > 0 else 0.0
    best = 0.0
    running = 0.0
    last = -1
    for i in range(k):
        pos = positions[i]
        # the running score just before the hit (after the misses) and just after it
        running -= miss * (pos - last - 1)
        if abs(running) > abs(best):
            best = running
        running += hit * weights[pos]
        if abs(running) > abs(best):
            best = running
        last = pos
    return best


@numba.njit(cache=True)
def _positive_es(weights, positions, k, n):
    """The running score's maximum, >= 0 (fgsea's calcPositiveES)."""
    total = 0.0
    for i in range(k):
        total += weights[positions[i]]
    miss = 1.0 / (n - k)
    hit = 1.0 / total if total > 0 else 0.0
    best = 0.0
    running = 0.0
    last = -1
    for i in range(k):
        pos = positions[i]
        running += hit * weights[pos] - miss * (pos - last - 1)
        if running > best:
            best = running
        last = pos
    return best


@numba.njit(cache=True)
def _null_es(weights, sizes, permutations, seed):
    """fgseaSimple's null: per permutation one random set of the largest size, whose prefixes
    of every needed size give that size's random set (reused by all sets of the size)."""
    np.random.seed(seed)
    n = len(weights)
    largest = sizes[-1]
    out = np.empty((permutations, len(sizes)))
    pool = np.arange(n)
    chosen = np.empty(largest, dtype=np.int64)
    for b in range(permutations):
        s = 0
        for j in range(largest):
            # partial Fisher-Yates: pool[:j + 1] is a uniform random (j + 1)-subset
            r = j + np.random.randint(0, n - j)
            pool[j], pool[r] = pool[r], pool[j]
            value = pool[j]
            t = j  # insertion keeps chosen[:j + 1] sorted
            while t > 0 and chosen[t - 1] > value:
                chosen[t] = chosen[t - 1]
                t -= 1
            chosen[t] = value
            while s < len(sizes) and sizes[s] == j + 1:
                out[b, s] = _es(weights, chosen, j + 1, n)
                s += 1
    return out


@numba.njit(cache=True)
def _observed_es(weights, flat_positions, offsets):
    """ES of each set: set i holds the sorted positions flat_positions[offsets[i]:offsets[i+1]]."""
    n = len(weights)
    out = np.empty(len(offsets) - 1)
    for i in range(len(offsets) - 1):
        positions = flat_positions[offsets[i] : offsets[i + 1]]
        out[i] = _es(weights, positions, len(positions), n)
    return out


@numba.njit(cache=True)
def _block_of(block_end, value):
    """Index of the value block holding gene position `value` (first end > value)."""
    lo, hi = 0, len(block_end)
    while lo < hi:
        mid = (lo + hi) // 2
        if block_end[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _move(sample, drop, lo, new):
    """Remove sample[drop] and insert `new` in order (lo: the first member > new), shifting only
    the members between the two."""
    if drop < lo:
        for j in range(drop, lo - 1):
            sample[j] = sample[j + 1]
        sample[lo - 1] = new
    else:
        for j in range(drop, lo, -1):
            sample[j] = sample[j - 1]
        sample[lo] = new


@numba.njit(cache=True)
def _unmove(sample, drop, lo, old):
    """Undo :func:`_move` (put `old` back at index drop)."""
    if drop < lo:
        for j in range(lo - 1, drop, -1):
            sample[j] = sample[j - 1]
    else:
        for j in range(lo, drop):
            sample[j] = sample[j + 1]
    sample[drop] = old


@numba.njit(cache=True)
def _shift_crossing(weights, cand, x, y, old, new):
    # misses and hit weight before position `cand` once `old` leaves the set and `new` joins it
    if old < cand:
        x += 1
        y -= weights[old]
    if new < cand:
        x -= 1
        y += weights[new]
    return x, y


@numba.njit(cache=True)
def _perturb(weights, sample, k, n, bound, iterations):
    """fgsea's perturbate: swap a random member for a random gene, kept when the positive ES
    stays >= bound (a Metropolis step for the uniform law on {ES >= bound}); accepted moves.

    The test is fgsea's chunked one (Korotkevich et al.): first the member where the running
    score last crossed the bound (O(1): its prefix sum and miss count are updated per move),
    then a walk over ~sqrt(k) blocks of gene positions that skips every block whose sum cannot
    lift the running score to the bound. Both are exact, so moves are those of the plain walk.
    """
    moves = 0
    total = 0.0
    for i in range(k):
        total += weights[sample[i]]
    miss = 1.0 / (n - k)
    # value blocks at the sample's quantiles (fgsea takes the median sample's each level)
    blocks = max(1, int(math.sqrt(k)))
    block_end = np.empty(blocks, dtype=np.int64)
    for b in range(blocks - 1):
        block_end[b] = sample[((b + 1) * k) // blocks]
    block_end[blocks - 1] = n
    count = np.zeros(blocks, dtype=np.int64)
    block_sum = np.zeros(blocks)
    b = 0
    for i in range(k):
        while block_end[b] <= sample[i]:
            b += 1
        count[b] += 1
        block_sum[b] += weights[sample[i]]
    # the cached crossing: member cand, hits' sum and misses up to and including it
    has_cand = False
    cand = -1
    cand_x = 0
    cand_y = 0.0
    for _ in range(iterations):
        drop = np.random.randint(0, k)
        new = np.random.randint(0, n)
        # is `new` already in the (sorted) set?
        lo, hi = 0, k
        while lo < hi:
            mid = (lo + hi) // 2
            if sample[mid] < new:
                lo = mid + 1
            else:
                hi = mid
        if lo < k and sample[lo] == new:
            if sample[drop] == new:
                moves += 1  # fgsea counts proposing the same gene as a move
            continue
        old = sample[drop]
        candidate_total = total - weights[old] + weights[new]
        hit = 1.0 / candidate_total if candidate_total > 0 else 0.0
        if bound <= 0.0:
            passed = True
        else:
            passed = False
            if has_cand and old == cand:
                has_cand = False
            if has_cand:
                x, y = _shift_crossing(weights, cand, cand_x, cand_y, old, new)
                if hit * y - miss * x >= bound:
                    passed = True
        _move(sample, drop, lo, new)
        bo = _block_of(block_end, old)
        bn = _block_of(block_end, new)
        count[bo] -= 1
        block_sum[bo] -= weights[old]
        count[bn] += 1
        block_sum[bn] += weights[new]
        walked = False
        if not passed:
            # walk the moved set block by block; stop where the running score reaches the bound
            walked = True
            cur_x = 0
            cur_y = 0.0
            last = -1
            index = 0
            for b in range(blocks):
                if hit * (cur_y + block_sum[b]) - miss * cur_x < bound:
                    cur_y += block_sum[b]
                    cur_x += block_end[b] - last - 1 - count[b]
                    last = block_end[b] - 1
                    index += count[b]
                    continue
                for j in range(index, index + count[b]):
                    pos = sample[j]
                    cur_y += weights[pos]
                    cur_x += pos - last - 1
                    last = pos
                    if hit * cur_y - miss * cur_x >= bound:
                        passed = True
                        cand = pos
                        cand_x = cur_x
                        cand_y = cur_y
                        break
                if passed:
                    break
                index += count[b]
                cur_x += block_end[b] - 1 - last
                last = block_end[b] - 1
        if passed:
            total = candidate_total
            moves += 1
            if walked:
                has_cand = True
            elif has_cand:
                # keep the cached crossing in step with the move
                cand_x, cand_y = _shift_crossing(weights, cand, cand_x, cand_y, old, new)
        else:
            _unmove(sample, drop, lo, old)
            count[bo] += 1
            block_sum[bo] += weights[old]
            count[bn] -= 1
            block_sum[bn] -= weights[new]
    return moves


@numba.njit(cache=True)
def _ruler(weights, k, target, sample_size, seed, max_levels):
    """fgseaMultilevel's EsRuler: the positive-ES quantile ladder of random k-sets up to target.

    Returns the ladder (each level's lower half of sorted positive ES, appended) and, per entry,
    the sets left above it whose signed ES is > 0 (fgsea's probCorrector).
    """
    np.random.seed(seed)
    n = len(weights)
    half = (sample_size + 1) // 2
    samples = np.empty((sample_size, k), dtype=np.int64)
    pool = np.arange(n)
    for s in range(sample_size):
        for j in range(k):
            r = j + np.random.randint(0, n - j)
            pool[j], pool[r] = pool[r], pool[j]
        samples[s] = np.sort(pool[:k])
    scores = np.empty((max_levels + 2) * half)
    corrector = np.empty((max_levels + 2) * half, dtype=np.int64)
    count = 0
    iterations = max(1, int(k * 0.1))
    level = 0
    while True:
        # duplicateSamples: record the lower half, replace it by copies of the upper half
        positive = np.empty(sample_size)
        signed = np.empty(sample_size)
        for s in range(sample_size):
            positive[s] = _positive_es(weights, samples[s], k, n)
            signed[s] = _es(weights, samples[s], k, n)
        order = np.argsort(positive, kind="mergesort")
        above = 0
        for s in range(sample_size):
            if signed[s] > 0:
                above += 1
        previous = scores[count - 1] if count > 0 else -1.0
        for i in range(half):
            scores[count] = positive[order[i]]
            if signed[order[i]] > 0:
                above -= 1
            corrector[count] = above
            count += 1
        fresh = np.empty_like(samples)
        m = 0
        i = 0
        while 2 * i < sample_size - 2:
            fresh[m] = samples[order[sample_size - 1 - i]]
            fresh[m + 1] = samples[order[sample_size - 1 - i]]
            m += 2
            i += 1
        fresh[m] = samples[order[sample_size >> 1]]
        samples = fresh
        level += 1
        if scores[count - 1] > target - 1e-10:
            break
        if level > 1 and scores[count - 1] <= previous:
            break  # the median could not be raised (fgsea: "couldn't advance the median")
        if level >= max_levels:
            break
        bound = scores[count - 1]
        moves = 0
        proposals = 0
        stuck = False
        while moves < sample_size * k:
            for s in range(sample_size):
                moves += _perturb(weights, samples[s], k, n, bound, iterations)
                proposals += iterations
            if proposals > MAX_PROPOSALS_PER_MOVE * sample_size * k:
                stuck = True
                break
        if stuck:
            break
    return scores[:count], corrector[:count]


def _beta_mean_log(a: float, b: float) -> float:
    """E[log X] of X ~ Beta(a, b - a + 1) (fgsea's betaMeanLog)."""
    return float(digamma(a) - digamma(b + 1))


def ruler_pvalue(
    scores: np.ndarray, corrector: np.ndarray, es: float, sample_size: int = SAMPLE_SIZE
) -> tuple[float, bool]:
    """P(ES >= es and ES > 0) from an EsRuler ladder (fgsea's EsRuler::getPvalue, sign=FALSE).

    Parameters
    ----------
    scores, corrector
        The ladder and its count of sets with positive signed ES (:func:`_ruler`).
    es
        |ES| of the set, on the ladder's side.
    sample_size
        Sets per level.

    Returns
    -------
    (float, bool)
        The probability, and whether it is within the ladder and the conditional probability
        of the last level is >= 1/2 (fgsea's good-error flag; False: likely overestimated).
    """
    half = (sample_size + 1) // 2
    good = True
    if es >= scores[-1]:
        index = len(scores) - 1
        good = es <= scores[-1] + 1e-10
    else:
        index = int(np.searchsorted(scores, es, side="left"))
    levels = index // half
    remainder = sample_size - index % half
    log_p = levels * _beta_mean_log(half, sample_size) + _beta_mean_log(remainder + 1, sample_size)
    correction = _beta_mean_log(int(corrector[index]) + 1, remainder)
    good = good and math.exp(correction) >= 0.5
    return max(0.0, min(1.0, math.exp(log_p + correction))), good


def multilevel_pvalues(
    weights: np.ndarray,
    size: int,
    es: np.ndarray,
    same_sign_fraction: np.ndarray,
    seed: int = 0,
    sample_size: int = SAMPLE_SIZE,
    eps: float = EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """fgseaMultilevel p-values of sets of one size: P(|ES| >= |es| | ES of that sign).

    Parameters
    ----------
    weights
        |metric| along the ranking (descending metric).
    size
        The sets' size.
    es
        Their observed ES.
    same_sign_fraction
        Per set, P(ES has its sign) from the simple permutations, (n + 1) / (B + 1) (fgsea's
        denomProb).
    seed
        Seed of the rulers.
    sample_size
        Random sets per level (odd; fgsea's sampleSize, 101).
    eps
        p-values below eps are reported as eps (fgsea's eps, 1e-50; 0 resolves all).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        p-values and fgsea's good-error flags.
    """
    es = np.asarray(es, dtype=float)
    denominator = np.asarray(same_sign_fraction, dtype=float)
    sample_size = max(3, int(sample_size) | 1)  # fgsea: odd, >= 3
    # fgsea's multilevelImpl: eps scaled by the smallest denominator, levels to resolve it
    scaled = eps * float(denominator.min()) if eps > 0 else 0.0
    max_levels = int(-math.log2(0.5 * scaled)) + 2 if scaled > 0 else 1100
    pvalues = np.full(len(es), np.nan)
    good = np.ones(len(es), dtype=bool)
    for positive in (True, False):
        mask = es >= 0 if positive else es < 0
        if not mask.any():
            continue
        # the negative side is the positive side of the reversed ranking
        side = np.ascontiguousarray(weights if positive else weights[::-1])
        target = float(np.abs(es[mask]).max())
        scores, corrector = _ruler(side, int(size), target, sample_size, int(seed), max_levels)
        for i in np.flatnonzero(mask):
            p, ok = ruler_pvalue(scores, corrector, abs(float(es[i])), sample_size)
            pvalues[i] = min(1.0, p / denominator[i])
            good[i] = ok
    if eps > 0:
        good[pvalues <= eps] = True  # below eps: reported as eps (fgsea's eps)
        pvalues = np.maximum(pvalues, eps)
    return pvalues, good


@dataclass
class TermResult:
    """One set's result, with the attributes :mod:`enrichment` reads from gseapy's."""

    term: str
    es: float
    nes: float
    esnull: np.ndarray
    hits: list[int]
    weights: np.ndarray = field(repr=False)

    @property
    def run_es(self) -> np.ndarray:
        """The running enrichment score along the ranking (computed when asked: one array per
        set would be genes x sets floats)."""
        n, k = len(self.weights), len(self.hits)
        steps = np.full(n, -1.0 / (n - k))
        hit_weights = self.weights[self.hits]
        total = hit_weights.sum()
        steps[self.hits] = hit_weights / total if total > 0 else 0.0
        return np.cumsum(steps)


def prerank(
    ordered: pd.Series,
    sets: dict[str, list[str]],
    permutations: int = 1000,
    seed: int = 0,
) -> list[TermResult]:
    """ES, shared-null NES and null ES of each set (fgseaSimple), weight p = 1 (gseapy's).

    Parameters
    ----------
    ordered
        Metric per symbol, sorted descending.
    sets
        term -> symbols in the ranking (already restricted to the size window).
    permutations
        Random sets per set size.
    seed
        Seed of the random sets.

    Returns
    -------
    list of TermResult
        One per set: NES = ES / mean null ES of the same sign (as GSEA and gseapy), esnull =
        the null ES of the set's size (the same array for every set of that size).
    """
    weights = np.abs(ordered.to_numpy(dtype=float))
    # a dict, not Series.loc: 5k pandas lookups took half the run
    where = {gene: i for i, gene in enumerate(ordered.index)}
    names = list(sets)
    positions = [
        np.sort(np.fromiter((where[g] for g in sets[name]), dtype=np.int64)) for name in names
    ]
    offsets = np.zeros(len(positions) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in positions])
    flat = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
    observed = _observed_es(weights, flat, offsets)
    sizes = np.unique([len(p) for p in positions]).astype(np.int64)
    null = _null_es(weights, sizes, int(permutations), int(seed))
    column = {int(k): i for i, k in enumerate(sizes)}
    scales = {}
    for k, i in column.items():
        values = null[:, i]
        positive, negative = values[values >= 0], values[values < 0]
        scales[k] = (
            positive.mean() if len(positive) else np.nan,
            -negative.mean() if len(negative) else np.nan,
        )
    results = []
    for name, pos, es in zip(names, positions, observed, strict=True):
        scale_pos, scale_neg = scales[len(pos)]
        nes = es / scale_pos if es >= 0 else es / scale_neg
        results.append(
            TermResult(
                term=name,
                es=float(es),
                nes=float(nes),
                esnull=null[:, column[len(pos)]],
                hits=pos.tolist(),
                weights=weights,
            )
        )
    return results


def resolve_small_pvalues(
    results: list[TermResult],
    pvalues: dict[str, float],
    seed: int = 0,
    sample_size: int = SAMPLE_SIZE,
    eps: float = EPS,
) -> dict[str, float]:
    """Multilevel p-values for the sets no permutation reached (p at the 1 / (n + 1) floor).

    A set beyond all B permutations only gets p = 1 / (n + 1) from them; fgseaMultilevel
    estimates its p by a ladder of conditional probabilities, one ruler per set size and sign.
    (fgsea sends every set whose multilevel error beats the permutation error; here only the
    sets the permutations cannot resolve, which keeps the permutation p of all others.)

    Parameters
    ----------
    results
        :func:`prerank`'s results.
    pvalues
        term -> permutation p, (k + 1) / (n + 1) (:func:`enrichment.permutation_pvalues`).
    seed, sample_size, eps
        As :func:`multilevel_pvalues`.

    Returns
    -------
    dict
        term -> p, the multilevel estimate where k = 0, never 0 (>= eps).
    """
    from organomics.rnaseq.enrichment import _as_extreme

    by_size: dict[int, list[tuple[TermResult, float]]] = {}
    for term in results:
        null = term.esnull
        side = null >= 0 if term.es >= 0 else null < 0
        if int((_as_extreme(null, term.es) & side).sum()) == 0:
            denominator = (int(side.sum()) + 1) / (len(null) + 1)
            by_size.setdefault(len(term.hits), []).append((term, denominator))
    resolved = dict(pvalues)
    if not by_size:
        return resolved
    log.info(
        "multilevel p for %d sets beyond every permutation (%d set sizes)",
        sum(len(v) for v in by_size.values()),
        len(by_size),
    )
    weights = results[0].weights
    overestimated = []
    for size, terms in sorted(by_size.items()):
        p, good = multilevel_pvalues(
            weights,
            size,
            np.array([t.es for t, _ in terms]),
            np.array([d for _, d in terms]),
            seed=seed + size,
            sample_size=sample_size,
            eps=eps,
        )
        for (term, _), value, ok in zip(terms, p, good, strict=True):
            resolved[term.term] = float(value)
            if not ok:
                overestimated.append(term.term)
    if overestimated:
        log.warning("multilevel p likely overestimated (fgsea's log2err NA): %s", overestimated)
    return resolved
