"""Pathway enrichment (GSEA prerank by fgsea or gseapy, ORA) and ssGSEA immune signature scores."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.rnaseq.genesets import log_symbols, ranking, restrict, to_symbols
from organomics.rnaseq.results import signature_long
from organomics.stats import paired_site_comparison

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GseaSettings:
    """The config block ``rnaseq.gsea`` (GSEA prerank; the size window also applies to ORA).

    Parameters
    ----------
    permutations
        Gene-set permutations (>= 1000 for reported results).
    min_size, max_size
        Gene-set size window, counted among the ranked (or background) genes.
    seed
        Permutation seed.
    top_terms
        Terms whose running scores are kept for the plots.
    nes_terms
        Terms per direction in the NES bar chart.
    engine
        ``fgsea`` (default) or ``gseapy`` (:func:`prerank`).
    multilevel
        fgsea engine: multilevel p for the sets beyond every permutation (:func:`prerank`).
    """

    SCHEMA_SECTION: ClassVar[str] = "rnaseq.gsea"
    permutations: int = 1000
    min_size: int = 15
    max_size: int = 500
    seed: int = 0
    top_terms: int = 6
    nes_terms: int = 12
    engine: str = "fgsea"
    multilevel: bool = False


GSEA_COLUMNS = ["term", "nes", "pvalue", "fdr", "size", "leading_edge"]
ORA_COLUMNS = [
    "direction",
    "term",
    "overlap",
    "odds_ratio",
    "pvalue",
    "fdr",
    "size",
    "leading_edge",
]


def prerank(
    ranks: pd.Series,
    gene_sets: dict[str, list[str]],
    permutations: int = 1000,
    min_size: int = 15,
    max_size: int = 500,
    seed: int = 0,
    threads: int = 1,
    engine: str = "fgsea",
    multilevel: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """GSEA prerank (fgsea's algorithm or gseapy's Rust engine), gene-set permutations.

    Parameters
    ----------
    ranks
        Metric per symbol (e.g. the Wald statistic, :func:`genesets.ranking`).
    gene_sets
        term -> gene symbols; sets are restricted to the ranked genes first.
    permutations
        Gene-set permutations.
    min_size, max_size
        Size window of the restricted sets.
    seed
        Permutation seed.
    threads
        Threads of gseapy's engine (the fgsea engine uses one).
    engine
        ``fgsea`` (:mod:`organomics.rnaseq.fgsea`: random sets drawn once per set size and
        shared by the sets of that size, multilevel p for sets beyond every permutation) or
        ``gseapy`` (gseapy.prerank's engine, random sets per set).
    multilevel
        With the fgsea engine, replace the p of the sets no permutation reached (p at the
        1 / (n + 1) floor) by fgseaMultilevel's estimate (:func:`fgsea.resolve_small_pvalues`);
        slower: ~0.1-0.5 s per set size and sign that has such sets.

    Returns
    -------
    (pandas.DataFrame, dict)
        GSEA_COLUMNS: term, nes, pvalue (:func:`permutation_pvalues`; with `multilevel`, the
        multilevel estimate where no permutation is as extreme), fdr (made monotone by
        :func:`monotone_fdr`), size (genes of the set in the ranking), leading_edge
        (``;``-joined), sorted by FDR, then |NES| (descending), then p; and per term, gseapy's
        result (``.run_es`` running score, ``.hits`` positions in the sorted ranking).

    Raises
    ------
    InputError
        When no gene set falls within the size window.
    """
    if engine not in ("fgsea", "gseapy"):
        raise InputError(None, f"rnaseq.gsea.engine must be fgsea or gseapy, not {engine!r}")
    sets = restrict(gene_sets, ranks.index, min_size, max_size)
    if not sets:
        raise InputError(
            None,
            f"no gene set has {min_size}-{max_size} genes among the {len(ranks)} ranked genes; "
            "check that gene ids map to symbols (rnaseq.symbols) and the GMT uses symbols",
        )
    log.info(
        "GSEA prerank (%s): %d genes, %d sets (%d-%d genes), %d permutations, seed %d",
        engine,
        len(ranks),
        len(sets),
        min_size,
        max_size,
        permutations,
        seed,
    )
    ordered = ranks.sort_values(ascending=False, kind="stable")
    if engine == "fgsea":
        from organomics.rnaseq import fgsea

        summaries = fgsea.prerank(ordered, sets, permutations, seed)
    else:
        # gseapy.prerank's Python wrapper keeps every term's running score as a Python list
        # (~32 bytes per gene per set: 5.6 GB for 20k genes x 5k GO sets), so call its Rust
        # core, the same computation, and read each running score only while taking its
        # leading edge
        from gseapy.gse import prerank_rs

        summaries = prerank_rs(
            ordered.index.tolist(),
            ordered.to_numpy(dtype=float).tolist(),
            sets,
            1.0,  # weight p = 1, the classic weighted Kolmogorov-Smirnov statistic
            min_size,
            max_size,
            permutations,
            max(1, int(threads)),
            seed,
        ).summaries
    genes = ordered.index.to_numpy()
    pvalues, fdrs = permutation_pvalues(summaries)
    if engine == "fgsea" and multilevel:
        pvalues = fgsea.resolve_small_pvalues(summaries, pvalues, seed=seed)
    fdrs = monotone_fdr(fdrs, {term.term: float(term.nes) for term in summaries})
    rows, results = [], {}
    for term in summaries:
        results[term.term] = term
        rows.append(
            {
                "term": str(term.term),
                "nes": term.nes,
                "pvalue": pvalues[term.term],
                "fdr": fdrs[term.term],
                "size": len(sets[term.term]),
                "leading_edge": ";".join(genes[leading_edge(term.es, term.run_es, term.hits)]),
            }
        )
    table = pd.DataFrame(rows, columns=GSEA_COLUMNS).astype(
        {"nes": float, "pvalue": float, "fdr": float}
    )
    table = table.assign(_abs=-table["nes"].abs())
    # FDR first: with 1,000 permutations many sets share the smallest p, 1 / (n + 1)
    table = table.sort_values(["fdr", "_abs", "pvalue", "term"]).drop(columns="_abs")
    return table.reset_index(drop=True)[GSEA_COLUMNS], results


CURVE_COLUMNS = ["term", "position", "running_score", "hit"]


def gsea(
    results: pd.DataFrame,
    gene_sets: dict[str, list[str]],
    settings: GseaSettings,
    threads: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GSEA prerank on the DESeq2 Wald statistic (gsea_prerank.tsv and its running scores).

    Parameters
    ----------
    results
        The DESeq2 results table (``symbol``, ``stat``); genes without a symbol are left out.
    gene_sets
        term -> gene symbols.
    settings
        Permutations, size window, seed and how many terms keep their running score.
    threads
        Threads of gseapy's engine.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        :func:`prerank`'s table, and the running scores of :func:`top_terms` (CURVE_COLUMNS:
        one row per term and ranked gene, hit = 1 where the gene is in the set).
    """
    if settings.permutations < 1000:
        log.warning(
            "GSEA with %d permutations: use >= 1000 for reported results", settings.permutations
        )
    table, raw = prerank(
        ranking(results, "stat"),
        gene_sets,
        permutations=settings.permutations,
        min_size=settings.min_size,
        max_size=settings.max_size,
        seed=settings.seed,
        threads=threads,
        engine=settings.engine,
        multilevel=settings.multilevel,
    )
    return table, running_scores(raw, top_terms(table, settings.top_terms))


def running_scores(raw: dict, terms: list[str]) -> pd.DataFrame:
    """The running enrichment score and hits of each term, for the GSEA plot.

    Parameters
    ----------
    raw
        term -> gseapy result (``.run_es``, ``.hits``), as :func:`prerank` returns.
    terms
        The terms to keep, in order.

    Returns
    -------
    pandas.DataFrame
        CURVE_COLUMNS, one row per term and position in the ranking.
    """
    rows = []
    for term in terms:
        running = np.asarray(raw[term].run_es, dtype=float)
        hits = np.zeros(len(running), dtype=int)
        hits[np.asarray(raw[term].hits, dtype=int)] = 1
        rows.append(
            pd.DataFrame(
                {
                    "term": term,
                    "position": np.arange(len(running)),
                    "running_score": running,
                    "hit": hits,
                }
            )
        )
    return pd.concat(rows) if rows else pd.DataFrame(columns=CURVE_COLUMNS)


# Null ES within this relative distance of the observed ES count as "at least as extreme": the
# same hits give the same ES up to rounding, whatever order the sums were taken in.
ES_TOLERANCE = 1e-10


def _as_extreme(null: np.ndarray, observed: float) -> np.ndarray:
    """Nulls at least as extreme as `observed` on its side (>= for ES >= 0, <= below)."""
    slack = ES_TOLERANCE * max(abs(observed), 1e-300)
    return null >= observed - slack if observed >= 0 else null <= observed + slack


def permutation_pvalues(
    summaries, pseudocount: int = 1
) -> tuple[dict[str, float], dict[str, float]]:
    """GSEA nominal p and FDR per term from gseapy's null ES, never 0 (Phipson & Smyth 2010).

    gseapy reports k / n, where n is the number of permutations whose ES has the observed ES's
    sign and k those at least as extreme, so a set beyond every permutation gets p = 0. Here
    p = (k + 1) / (n + 1). The FDR is GSEA's (Subramanian et al. 2005): the fraction of the
    null NES of all sets (same sign) at least as extreme as the observed NES, over the same
    fraction among the observed NES, capped at 1; its null fraction gets the same + 1.
    With ``pseudocount=0`` both equal gseapy's `pval` and `fdr` (tested).

    Parameters
    ----------
    summaries
        gseapy's per-term results (``.term``, ``.es``, ``.nes``, ``.esnull``).
    pseudocount
        Added to the counts of extreme and of all permutations (1; 0 gives gseapy's values).

    Returns
    -------
    tuple of dict
        term -> p-value and term -> FDR.
    """
    pvalues, null_nes, observed = {}, [], {}
    for term in summaries:
        null = np.asarray(term.esnull, dtype=float)
        side = null >= 0 if term.es >= 0 else null < 0
        k = int((_as_extreme(null, term.es) & side).sum())
        pvalues[term.term] = (k + pseudocount) / (int(side.sum()) + pseudocount)
        # NES = ES / mean |null ES| of the same sign, for the observed and the null alike
        positive, negative = null[null >= 0], null[null < 0]
        scale_pos = positive.mean() if len(positive) else np.nan
        scale_neg = -negative.mean() if len(negative) else np.nan
        null_nes.append(np.where(null >= 0, null / scale_pos, null / scale_neg))
        observed[term.term] = float(term.nes)
    nulls = np.concatenate(null_nes) if null_nes else np.array([])
    nulls = nulls[np.isfinite(nulls)]
    values = np.array([v for v in observed.values() if np.isfinite(v)])
    # counts by binary search in the sorted sides (sets x permutations nulls; a pass over all
    # of them per set took minutes for 5k GO sets): the same counts as _as_extreme
    null_pos, null_neg = np.sort(nulls[nulls >= 0]), np.sort(nulls[nulls < 0])
    obs_pos, obs_neg = np.sort(values[values >= 0]), np.sort(values[values < 0])
    fdrs = {}
    for name, nes in observed.items():
        if not np.isfinite(nes):
            fdrs[name] = np.nan
            continue
        null_count, null_total = _count_extreme(null_pos, null_neg, nes)
        obs_count, obs_total = _count_extreme(obs_pos, obs_neg, nes)
        null_fraction = (null_count + pseudocount) / (null_total + pseudocount)
        fdrs[name] = min(1.0, null_fraction / (obs_count / obs_total))
    return pvalues, fdrs


def _count_extreme(positive: np.ndarray, negative: np.ndarray, observed: float) -> tuple[int, int]:
    """How many of the sorted values on observed's side are at least as extreme (as
    :func:`_as_extreme`), and how many are on that side."""
    slack = ES_TOLERANCE * max(abs(observed), 1e-300)
    if observed >= 0:
        return len(positive) - int(np.searchsorted(positive, observed - slack, "left")), len(
            positive
        )
    return int(np.searchsorted(negative, observed + slack, "right")), len(negative)


def monotone_fdr(fdrs: dict[str, float], nes: dict[str, float]) -> dict[str, float]:
    """GSEA FDRs made monotone in |NES| within each sign (q-values, as Storey's).

    With the + 1 on the null fraction, a set beyond every permutation gets 1 / (n + 1) over
    the fraction of observed sets at least as extreme, which is smaller for a less extreme NES
    (more observed sets pass): the most extreme set could show a larger FDR than a weaker one.
    A set's FDR is therefore the smallest FDR among the sets of its sign that are no more
    extreme than it, so the order by FDR follows the order by |NES|.

    Parameters
    ----------
    fdrs, nes
        term -> FDR and term -> NES.

    Returns
    -------
    dict
        term -> monotone FDR (NaN stays NaN).
    """
    result = dict(fdrs)
    for positive in (True, False):
        terms = [t for t, v in nes.items() if np.isfinite(v) and (v >= 0) == positive]
        terms.sort(key=lambda t: abs(nes[t]))  # least extreme first
        running = np.inf
        for term in terms:
            if np.isfinite(fdrs[term]):
                running = min(running, fdrs[term])
                result[term] = running
    return result


def leading_edge(es: float, running: list[float], hits: list[int]) -> list[int]:
    """Positions of the leading-edge genes (Subramanian et al. 2005, as gseapy).

    Parameters
    ----------
    es
        The set's enrichment score.
    running
        The running score along the ranking.
    hits
        Positions of the set's genes in the ranking.

    Returns
    -------
    list of int
        Hits up to the running-score peak (ES >= 0) or from its trough on, nearest the extreme
        first.
    """
    running = np.asarray(running)
    if es >= 0:
        peak = int(running.argmax())
        return [h for h in hits if h <= peak]
    trough = int(running.argmin())
    return [h for h in hits if h >= trough][::-1]


def ora(
    results: pd.DataFrame,
    gene_sets: dict[str, list[str]],
    alpha: float = 0.05,
    lfc: float = 0.0,
    min_size: int = 15,
    max_size: int = 500,
) -> pd.DataFrame:
    """Over-representation (gseapy enrich, offline, hypergeometric) of up and down genes.

    Parameters
    ----------
    results
        The DESeq2 results table (symbol, padj, log2FoldChange).
    gene_sets
        term -> gene symbols.
    alpha
        Genes are ``up``/``down`` when padj < alpha and log2FoldChange > lfc / < -lfc.
    lfc
        |log2FoldChange| threshold.
    min_size, max_size
        Size window of the sets, counted within the background: every gene tested (non-missing
        padj) with a symbol.

    Returns
    -------
    pandas.DataFrame
        ORA_COLUMNS, sorted by direction, p, term; fdr is Benjamini-Hochberg within each
        direction (gseapy's "Adjusted P-value"), size = set genes in the background,
        leading_edge = the overlapping genes, ``;``-joined and sorted.
    """
    import gseapy

    tested = results[results["padj"].notna() & results["symbol"].astype(str).ne("")]
    background = sorted(set(tested["symbol"]))
    sets = restrict(gene_sets, background, min_size, max_size)
    lists = {
        "up": tested.loc[(tested["padj"] < alpha) & (tested["log2FoldChange"] > lfc), "symbol"],
        "down": tested.loc[(tested["padj"] < alpha) & (tested["log2FoldChange"] < -lfc), "symbol"],
    }
    frames = []
    for direction, genes in lists.items():
        genes = sorted(set(genes))
        log.info(
            "ORA %s: %d genes against %d background, %d sets",
            direction,
            len(genes),
            len(background),
            len(sets),
        )
        if not genes or not sets:
            continue
        enr = gseapy.enrich(
            gene_list=genes,
            gene_sets=sets,
            background=background,
            outdir=None,
            no_plot=True,
            cutoff=1.0,
            verbose=False,
        )
        raw = enr.res2d
        if raw is None or raw.empty:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "direction": direction,
                    "term": raw["Term"].astype(str),
                    "overlap": raw["Overlap"].astype(str),
                    "odds_ratio": pd.to_numeric(raw["Odds Ratio"], errors="coerce"),
                    "pvalue": pd.to_numeric(raw["P-value"], errors="coerce"),
                    "fdr": pd.to_numeric(raw["Adjusted P-value"], errors="coerce"),
                    "size": [len(sets[t]) for t in raw["Term"].astype(str)],
                    # gseapy joins a set intersection: its order follows the string hash,
                    # which changes with every process (PYTHONHASHSEED); sorted, the table is
                    # the same on every run
                    "leading_edge": raw["Genes"].astype(str).map(_sorted_genes),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=ORA_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["direction", "pvalue", "term"]).reset_index(drop=True)[ORA_COLUMNS]


def _sorted_genes(genes: str) -> str:
    return ";".join(sorted(genes.split(";")))


def ssgsea_scores(
    expression: pd.DataFrame, signatures: dict[str, list[str]], min_size: int = 2
) -> pd.DataFrame:
    """ssGSEA scores (gseapy, normalised ES; rank-normalised samples, no permutations).

    Parameters
    ----------
    expression
        Symbols x samples expression.
    signatures
        signature -> gene symbols.
    min_size
        Signatures with fewer measured genes are skipped (logged).

    Returns
    -------
    pandas.DataFrame
        Samples (index ``sample``, in the expression's order) x signatures (in the given order).

    Raises
    ------
    InputError
        When no signature has enough measured genes.
    """
    import gseapy

    sets = restrict(signatures, expression.index, min_size, 10_000)
    dropped = sorted(set(signatures) - set(sets))
    if dropped:
        log.warning("signatures with < %d measured genes are skipped: %s", min_size, dropped)
    if not sets:
        raise InputError(None, "no immune signature has enough measured genes (symbols)")
    result = gseapy.ssgsea(
        data=expression.astype(float),
        gene_sets=sets,
        outdir=None,
        sample_norm_method="rank",
        min_size=min_size,
        max_size=10_000,
        permutation_num=0,
        no_plot=True,
        threads=1,
        verbose=False,
    )
    raw = result.res2d
    scores = raw.pivot(index="Name", columns="Term", values="NES").astype(float)
    scores = scores.reindex(index=list(expression.columns), columns=[s for s in sets])
    scores.index.name = "sample"
    return scores


def signature_scores(
    values: pd.DataFrame, symbols: pd.Series | None, signatures: dict[str, list[str]]
) -> pd.DataFrame:
    """ssGSEA immune signature scores from gene-level expression (signature_scores.tsv).

    Parameters
    ----------
    values
        Genes x samples VST values (any gene ids).
    symbols
        Ensembl id -> symbol (:func:`genesets.read_symbol_table`).
    signatures
        signature -> gene symbols.

    Returns
    -------
    pandas.DataFrame
        Samples x signatures scores (:func:`ssgsea_scores`), genes collapsed to one per symbol
        (:func:`collapse_to_symbols`).
    """
    mapped = to_symbols(values.index, symbols)
    log_symbols(values.index, mapped)
    return ssgsea_scores(collapse_to_symbols(values, mapped), signatures)


def signature_comparison(
    scores: pd.DataFrame,
    design: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired test of each signature's score between the sites (signature_comparison.tsv).

    Parameters
    ----------
    scores
        Samples x signatures (:func:`signature_scores`).
    design
        sample, patient, site of the samples.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous; BH within each subset); None (no
        collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per signature (and subset), as ``organomics.stats.paired_site_comparison``
        gives it.
    """
    long = signature_long(scores, design)
    return paired_site_comparison(long, "score", ["signature"], reference, compare, simultaneous)


def collapse_to_symbols(expression: pd.DataFrame, symbols: pd.Series) -> pd.DataFrame:
    """Expression per symbol, keeping the most expressed gene of each.

    Parameters
    ----------
    expression
        Genes x samples values.
    symbols
        Symbol per gene id ("" or missing: the gene is left out).

    Returns
    -------
    pandas.DataFrame
        Symbols (index ``symbol``, by decreasing mean) x samples.
    """
    mapped = expression.assign(_symbol=symbols.reindex(expression.index).to_numpy())
    mapped = mapped[mapped["_symbol"].astype(str).ne("") & mapped["_symbol"].notna()]
    mapped = mapped.assign(_mean=mapped.drop(columns="_symbol").mean(axis=1))
    mapped = mapped.sort_values("_mean", ascending=False).drop_duplicates("_symbol")
    return mapped.set_index("_symbol").drop(columns="_mean").rename_axis("symbol")


def top_terms(table: pd.DataFrame, n: int) -> list[str]:
    """The terms whose running scores are drawn.

    Parameters
    ----------
    table
        :func:`prerank`'s table (most significant first).
    n
        How many terms.

    Returns
    -------
    list of str
        Up to `n` terms: the most significant of each direction in turn, negative NES first.
    """
    ok = table.dropna(subset=["pvalue", "nes"])
    down = ok.loc[ok["nes"] < 0, "term"].tolist()
    up = ok.loc[ok["nes"] > 0, "term"].tolist()
    chosen = []
    while len(chosen) < n and (down or up):
        for side in (down, up):
            if side and len(chosen) < n:
                chosen.append(side.pop(0))
    return chosen
