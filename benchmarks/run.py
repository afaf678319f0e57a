"""Benchmark the whole workflow on generated cohorts: wall/CPU time and peak memory per rule.

    python benchmarks/run.py --scale demo    # the bundled demo's size
    python benchmarks/run.py --scale paper   # 27 pairs, 20k genes, 100k cells, 1M-record VCFs
    python benchmarks/run.py --scale 10x     # ten times the paper
    python benchmarks/run.py --scale 10x --layers clinical rnaseq -- --variants 100000
    python benchmarks/run.py --scale paper --reuse-data   # rerun on the cohort generated before

Options after `--` go to `python -m organomics.demo` and override the scale's sizes; --layers
generates (and so runs) only some layers.

Writes WORKDIR/benchmark_<scale>.tsv (one row per rule: jobs, wall_s, cpu_s, max_rss_mb) and
prints it as a Markdown table, with the whole run's wall time and its largest job's peak memory.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]

# Size flags of `python -m organomics.demo` per scale. Paper scale: 27 pairs; 100k cells over
# 2 x 6 single-cell samples; 20k genes; 1M records per VCF. 10x: ten times the patients, pairs
# and cells (1M); genes and records per file stay, as a bigger cohort has more files, not bigger.
SCALES = {
    "demo": [],
    "paper": ["--pairs", "27", "--genes", "20000", "--cells", "8334", "--variants", "1000000"],
    "10x": [
        "--patients", "520", "--pairs", "270", "--sc-pairs", "60", "--genes", "20000",
        "--cells", "8334", "--variants", "1000000",
    ],
}  # fmt: skip


def run(command: list[str], cwd: Path) -> float:
    """Run a command, failing loudly; returns its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True)
    return time.perf_counter() - start


def rule_table(benchmark_dir: Path) -> pd.DataFrame:
    """Snakemake benchmark files summed per rule (layout logs/benchmarks/<branch>/<rule>...)."""
    rows = []
    for path in sorted(benchmark_dir.rglob("*.tsv")):
        measures = pd.read_csv(path, sep="\t").iloc[-1]
        relative = path.relative_to(benchmark_dir).with_suffix("")
        # logs/benchmarks/<branch>/<rule>.tsv or logs/benchmarks/<branch>/<rule>/<sample>.tsv
        rule = "/".join(relative.parts[:2]) if len(relative.parts) > 2 else str(relative)
        rows.append(
            {
                "rule": rule,
                "wall_s": float(measures["s"]),
                "cpu_s": float(measures.get("cpu_time", float("nan"))),
                "max_rss_mb": float(pd.to_numeric(measures.get("max_rss"), errors="coerce")),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return (
        table.groupby("rule")
        .agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"), cpu_s=("cpu_s", "sum"),
             max_rss_mb=("max_rss_mb", "max"))
        .reset_index()
        .sort_values("wall_s", ascending=False)
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="default: /tmp/organomics-<scale>"
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layers", nargs="+", default=None, help="default: every layer")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep WORKDIR/data of an earlier run of this scale (its results are deleted)",
    )
    parser.add_argument("demo_args", nargs="*", help="after --: extra organomics.demo flags")
    args = parser.parse_args(argv)
    work = (args.workdir or Path(f"/tmp/organomics-{args.scale}")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    generate = [sys.executable, "-m", "organomics.demo", str(data), "--seed", str(args.seed)]
    generate += SCALES[args.scale] + args.demo_args  # the later flag wins in argparse
    if args.layers:
        generate += ["--layers", *args.layers]
    if args.reuse_data and (data / "config.yaml").exists():
        generation_s = 0.0  # the cohort of an earlier run: only the workflow is timed
        for old in ("results", "logs", ".snakemake"):  # so every job runs again
            shutil.rmtree(work / old, ignore_errors=True)
    else:
        generation_s = run(generate, cwd=work)
    snakemake = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    snakemake += ["--directory", str(work), "--cores", str(args.cores)]
    snakemake += ["--configfile", str(data / "config.yaml")]
    workflow_s = run(snakemake, cwd=work)
    table = rule_table(work / "logs" / "benchmarks")
    # per-job peaks from Snakemake's benchmark files (the data generator's own peak is not a job)
    peak_mb = float(table["max_rss_mb"].max()) if not table.empty else float("nan")
    out = work / f"benchmark_{args.scale}.tsv"
    table.to_csv(out, sep="\t", index=False, float_format="%.2f")
    print(
        f"scale {args.scale}: data generated in {generation_s:.0f} s; workflow wall time "
        f"{workflow_s:.0f} s on {args.cores} cores; largest job {peak_mb:.0f} MB"
    )
    print(table.to_markdown(index=False, floatfmt=".1f"))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
