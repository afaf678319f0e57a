"""Benchmark: preranked GSEA, the fgsea engine against gseapy.prerank, side by side in one run.

Both engines get the same ranking, the bundled GO BP sets (15-500 genes) and 1,000
permutations, one thread each (organomics.rnaseq.enrichment.prerank with engine="fgsea" and
engine="gseapy", the workflow's own calls, p-values and FDR included). The ranking is a
Wald-statistic-like metric over --genes GO BP symbols: t(30) noise, and 40 GO sets whose genes
are shifted by +/-1.5 in 40% of their members (the planted pathways), or a DESeq2 results table
(--results, column stat). Prints both times, the ratio, the fgsea engine's parts (first-call
numba compilation or cache load, permutations, multilevel p) and the agreement: Spearman of NES
over terms, the top terms of each, and the p-values below 1 / (permutations + 1).

With --multilevel, also the fgsea engine with fgseaMultilevel p for the sets beyond every
permutation (rnaseq.gsea.multilevel), timed on its own.

Measured 2026-11-28 on the shared 2-core machine, one thread each, 1,000 permutations
(load 1-2 during the 16k run, 10-15 during the demo run: the ratio is what matters):
  simulated ranking, 16,041 genes, 5,233 GO BP sets: fgsea 1.9 s, gseapy.prerank 343.0 s: 181x
    (149x with numba's first calls from its cache); NES Spearman 0.9995; FDR < 0.05: 265 and
    263 sets, 253 in both; top 10 by FDR: 9 shared (top 20: 10, many sets share the smallest
    FDR); with --multilevel 49.4 s (6.9x): 289 sets resolved below 1/1001, min p 1.4e-25;
    36.3 s (9.5x) after in-place Markov moves (same p-values), rerun alone at load ~1;
    with fgsea's chunked Markov step (same p-values), one run at load 6-7, wall clock: gseapy
    1008.9 s, fgsea 6.7 s (151.6x), fgsea + multilevel 45.7 s (22.1x); the multilevel part
    36.0 -> 27.3 s CPU back to back (old and new module, same 5,233 p-values)
  the demo's DESeq2 table (--results), 3,000 genes, 1,902 sets: fgsea 0.6 s, gseapy 71.6 s:
    114x; NES Spearman 0.9997; top 20: 18 shared
  numba compilation on an empty cache (fresh clone, first job only; cached in __pycache__
    after): ~5 s for the permutation kernels, ~23 s more for the multilevel ones (load ~12)

Usage: python benchmarks/gsea_bench.py [--genes 18000] [--permutations 1000] [--seed 0]
                                      [--results results/rnaseq/deseq2_results.tsv] [--multilevel]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from organomics.rnaseq import enrichment  # noqa: E402
from organomics.rnaseq.genesets import ranking, read_gmt  # noqa: E402

GMT = REPO / "resources/genesets/go_bp.gmt.gz"


def simulated_ranking(sets: dict[str, list[str]], n_genes: int, seed: int) -> pd.Series:
    """A Wald-statistic-like ranking of `n_genes` GO BP symbols with 40 planted pathways."""
    rng = np.random.default_rng(seed)
    universe = sorted({gene for genes in sets.values() for gene in genes})
    genes = rng.choice(universe, size=min(n_genes, len(universe)), replace=False)
    ranks = pd.Series(rng.standard_t(30, size=len(genes)), index=genes)
    names = [name for name, members in sets.items() if 30 <= len(members) <= 300]
    for j, name in enumerate(rng.choice(names, size=40, replace=False)):
        members = [g for g in sets[name] if g in ranks.index]
        chosen = rng.choice(members, size=int(0.4 * len(members)), replace=False)
        ranks[chosen] += 1.5 if j % 2 == 0 else -1.5
    return ranks.sort_values(ascending=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=18000)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--multilevel", action="store_true")
    args = parser.parse_args(argv)

    sets = read_gmt(GMT)
    if args.results is not None:
        ranks = ranking(pd.read_csv(args.results, sep="\t"), "stat")
    else:
        ranks = simulated_ranking(sets, args.genes, args.seed)
    print(f"ranking: {len(ranks)} genes; {len(sets)} GO BP sets; {args.permutations} permutations")

    start = time.perf_counter()
    from organomics.rnaseq import fgsea

    # numba's first call compiles (or loads the on-disk cache): what a fresh Snakemake job pays
    fgsea._null_es(np.abs(ranks.to_numpy()[:100]), np.array([15], dtype=np.int64), 2, 0)
    fgsea._ruler(np.abs(ranks.to_numpy()[:100]), 15, 0.1, 5, 0, 3)
    warmup = time.perf_counter() - start

    timings, tables = {}, {}
    for engine in ("fgsea", "gseapy"):
        start = time.perf_counter()
        tables[engine], _ = enrichment.prerank(
            ranks, sets, permutations=args.permutations, seed=args.seed, threads=1, engine=engine
        )
        timings[engine] = time.perf_counter() - start
        print(f"{engine}: {timings[engine]:.1f} s", flush=True)
    fast, ref = tables["fgsea"].set_index("term"), tables["gseapy"].set_index("term")
    common = fast.index.intersection(ref.index)
    rho = stats.spearmanr(fast.loc[common, "nes"], ref.loc[common, "nes"]).statistic
    floor = 1 / (args.permutations + 1)
    print(f"fgsea engine   {timings['fgsea']:8.1f} s  (+ {warmup:.1f} s numba's first calls)")
    print(f"gseapy.prerank {timings['gseapy']:8.1f} s")
    print(f"ratio          {timings['gseapy'] / timings['fgsea']:8.1f}x")
    print(
        f"ratio incl. first calls {timings['gseapy'] / (timings['fgsea'] + warmup):5.1f}x "
        "(numba compiles there, or loads its on-disk cache: ~5 s to compile on a fresh clone)"
    )
    print(f"NES Spearman over {len(common)} terms: {rho:.4f}")
    for engine, table in tables.items():
        print(f"top 10 {engine}: {table['term'].head(10).tolist()}")
    overlap = len(set(fast.index[:20]) & set(ref.index[:20]))
    print(f"top-20 overlap: {overlap}/20")
    sig = {e: set(t.loc[t["fdr"] < 0.05, "term"]) for e, t in tables.items()}
    print(
        f"FDR < 0.05: fgsea {len(sig['fgsea'])}, gseapy {len(sig['gseapy'])}, "
        f"both {len(sig['fgsea'] & sig['gseapy'])}"
    )
    print(
        f"p < 1/(B+1) = {floor:.2g}: fgsea {int((fast['pvalue'] < floor * 0.999).sum())}, "
        f"gseapy {int((ref['pvalue'] < floor * 0.999).sum())}; min p fgsea "
        f"{fast['pvalue'].min():.3g}, gseapy {ref['pvalue'].min():.3g}"
    )
    if args.multilevel:
        start = time.perf_counter()
        multi, _ = enrichment.prerank(
            ranks, sets, permutations=args.permutations, seed=args.seed, multilevel=True
        )
        took = time.perf_counter() - start
        below = int((multi["pvalue"] < floor * 0.999).sum())
        print(
            f"fgsea engine + multilevel {took:.1f} s: {below} sets resolved below {floor:.2g}, "
            f"min p {multi['pvalue'].min():.3g}; ratio to gseapy {timings['gseapy'] / took:.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
