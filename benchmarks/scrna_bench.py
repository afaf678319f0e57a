"""Benchmark the scRNA cohort job (integrate, annotate, score, write) at a given cell count.

    python benchmarks/scrna_bench.py --cells 100000 300000 [--genes 20000] [--workdir DIR]

For each size, writes 12 QC'd per-sample h5ad files (6 PL/LM pairs, raw counts over `--genes`
genes, ~1,500 detected genes per cell as in 10x tumour data) and runs the cohort job in a fresh
process, reporting wall time and that process's peak resident memory (getrusage).
Every cell is simulated with the demo's cell-type programmes on the demo panel's 1,800 real
genes, plus ~2,400 counts spread over low-expressed filler genes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

FILL_COUNTS = 2400  # mean counts per cell on filler genes (the panel adds ~600)


def panel_counts(rng, panel, n_cells: int, role: str, damping: float):
    """demo.simulate_counts, vectorised over cells (same model, not the same random stream)."""
    import scipy.sparse as sp

    from organomics.demo import scrna as demo

    names = list(demo.COMPOSITION[role])
    fractions = rng.dirichlet(np.array(list(demo.COMPOSITION[role].values())) * 300 + 1e-3)
    types = rng.choice(names, size=n_cells, p=fractions)
    states = types.astype(object).copy()
    for compartment, mix in demo.STATES.items():
        chosen = types == compartment
        states[chosen] = rng.choice(list(mix[role]), chosen.sum(), p=list(mix[role].values()))
    mito = np.array([g.startswith("MT-") for g in panel.symbols])
    chunks = []
    for start in range(0, n_cells, 5000):
        t, st = types[start : start + 5000], states[start : start + 5000]
        w = np.stack([np.maximum(panel.baseline, panel.programmes[x]) for x in t])
        for i, state in enumerate(st):
            if state in panel.programmes:
                w[i] = np.maximum(w[i], panel.programmes[state])
        w *= np.stack([panel.noise[x] for x in t])
        if role == "compare":
            for compartment, genes in panel.signature_genes.items():
                w[np.ix_(t == compartment, genes)] *= damping
        p = w / w.sum(axis=1, keepdims=True)
        pct_mt = rng.uniform(0.01, 0.08, len(t))
        p *= (1 - pct_mt)[:, None]
        p[:, mito] = (pct_mt / mito.sum())[:, None]
        library = rng.lognormal(np.log(demo.MEAN_COUNTS), 0.35, len(t))
        rate = library[:, None] * p * rng.gamma(2.0, 0.5, p.shape)
        chunks.append(sp.csr_matrix(rng.poisson(rate).astype(np.float32)))
    return sp.vstack(chunks).tocsr()


def simulate_sample(rng, panel, n_genes: int, n_cells: int, role: str, damping: float):
    """CSR counts: the demo's programmes on its panel genes plus low-expressed filler genes."""
    import scipy.sparse as sp

    counts = panel_counts(rng, panel, n_cells, role, damping)
    n_fill = n_genes - counts.shape[1]
    # Filler genes: skewed expression, as most of a transcriptome is; counts drawn as gene
    # indices (multinomial by inverse CDF), summed per cell by the COO -> CSR conversion.
    weights = rng.lognormal(0.0, 1.5, n_fill)
    cdf = np.cumsum(weights / weights.sum())
    chunks = []
    for start in range(0, n_cells, 5000):
        size = min(5000, n_cells - start)
        per_cell = rng.poisson(rng.lognormal(np.log(FILL_COUNTS), 0.35, size))
        genes = np.minimum(np.searchsorted(cdf, rng.random(per_cell.sum())), n_fill - 1)
        cells = np.repeat(np.arange(size), per_cell)
        ones = np.ones(len(genes), dtype=np.float32)
        chunks.append(sp.coo_matrix((ones, (cells, genes)), shape=(size, n_fill)).tocsr())
    return sp.hstack([counts.astype(np.float32), sp.vstack(chunks)]).tocsr()


def generate(workdir: Path, n_cells: int, n_genes: int, seed: int = 0) -> list[dict]:
    """Write 12 per-sample h5ad files totalling n_cells; returns the sample records."""
    import anndata as ad
    import pandas as pd

    from organomics.demo import scrna as demo

    rng = np.random.default_rng(seed)
    panel = demo.load_panel(rng)
    genes = [*panel.symbols, *[f"FILL{i:05d}" for i in range(n_genes - len(panel.symbols))]]
    records = []
    per_sample = n_cells // 12
    workdir.mkdir(parents=True, exist_ok=True)
    for p in range(6):
        for role, site in (("reference", "PL"), ("compare", "LM")):
            sample = f"P{p + 1:02d}_{site}"
            x = simulate_sample(rng, panel, n_genes, per_sample, role, demo.SIGNATURE_FOLD_COMPARE)
            obs = pd.DataFrame(index=[f"{sample}_{i}" for i in range(per_sample)])
            adata = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=genes))
            adata.uns["sample"] = sample
            adata.write_h5ad(workdir / f"{sample}.h5ad")
            records.append({"sample": sample, "patient": f"P{p + 1:02d}", "site": site})
    (workdir / "records.json").write_text(json.dumps(records))
    return records


def cohort_job(workdir: Path) -> None:
    """What scripts/scrna_cohort.py does, with the schema's default settings."""
    import logging

    import h5py
    import scanpy as sc

    from organomics.scrna import annotate, cohort, scores, store

    logging.basicConfig(
        filename=workdir / "job.log", level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    sc.settings.n_jobs = 2
    records = json.loads((workdir / "records.json").read_text())
    paths = [workdir / f"{r['sample']}.h5ad" for r in records]
    markers = annotate.load_markers(REPO / "resources/scrna/markers.yaml")
    signatures = scores.load_signatures(REPO / "resources/scrna/signatures.yaml")
    params = cohort.CohortParams()
    timings = {}
    start = time.perf_counter()
    loaded = cohort.load(paths, records, markers, signatures, params)
    adata = loaded.adata
    timings["load_s"] = time.perf_counter() - start
    scored, clusters = cohort.run(adata, markers, signatures, params, loaded.controls)
    timings["integrate_annotate_score_s"] = time.perf_counter() - start - timings["load_s"]
    tables = cohort.tables(
        adata.obs, markers.labels, signatures, scored, records, "PL", "LM", params.min_cells
    )
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.tsv", sep="\t", index=False)
    t = time.perf_counter()
    store.write_cohort(out / "adata.h5ad", adata, loaded.var, loaded.blocks())
    timings["write_s"] = time.perf_counter() - t
    timings["n_cells"] = adata.n_obs
    nnz = 0
    for path in paths:
        with h5py.File(path, "r") as f:
            nnz += f["X"]["data"].shape[0]
    timings["nnz"] = nnz
    timings["analysed_genes"] = adata.n_vars
    timings["analysed_nnz"] = int(adata.X.nnz)
    timings["n_clusters"] = len(clusters)
    print(json.dumps(timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("scrna_bench"))
    parser.add_argument("--reuse", action="store_true", help="keep already generated samples")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        cohort_job(args.run)
        return
    rows = []
    for n in args.cells:
        folder = args.workdir / f"cells_{n}"
        t = time.perf_counter()
        if not (args.reuse and (folder / "records.json").exists()):
            generate(folder, n, args.genes)
        generated = time.perf_counter() - t
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        t = time.perf_counter()
        result = subprocess.run(
            [sys.executable, __file__, "--run", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime - cpu_before
        detail = json.loads(result.stdout.strip().splitlines()[-1])
        if peak_mb <= before / 1024:
            peak_mb = float("nan")  # a smaller run than an earlier one: not measurable this way
        rows.append({"cells": n, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                     "peak_rss_mb": round(peak_mb),
                     "generate_s": round(generated, 1), **detail})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    print("\n| cells | non-zeros (analysed) | wall (s) | CPU (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['cells']:,} | {row['nnz']:,} ({row['analysed_nnz']:,}) | {row['wall_s']} "
            f"| {row['cpu_s']} | {row['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
