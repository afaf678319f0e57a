"""Time the Snakefile parse and DAG: `snakemake -n` (main process) and a job process's re-parse."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# 541 samples per layer (520 patients, 270 of them with both sites), tiny files: the parse
# cost scales with the number of samples and files, not with their size
COHORT = ["--seed", "0", "--patients", "520", "--pairs", "270", "--sc-pairs", "60"]
COHORT += ["--genes", "200", "--cells", "50", "--variants", "50", "--mihc-cells", "50"]


def cohort(cache: Path) -> Path:
    """The 541-sample cohort's config, generated into `cache` once."""
    config = cache / "config.yaml"
    if not config.exists():
        command = [sys.executable, "-m", "organomics.demo", str(cache), *COHORT]
        subprocess.run(command, check=True)
    return config


def timed(command: list[str], workdir: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one command; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/organomics_dag_bench"))
    parser.add_argument(
        "--old", type=Path, help="a checkout of the code before (e.g. a clone at an old commit)"
    )
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    datasets = {"demo": REPO / "config/config.yaml", "541": cohort(args.cache.resolve())}
    codes = {"new": REPO} | ({"old": args.old.resolve()} if args.old else {})
    modes = {
        "main: snakemake -n": ["-n"],
        # a cluster/subprocess job re-parses the Snakefile in job mode; -l stops after the parse
        "job: --mode subprocess -l": ["--mode", "subprocess", "-l"],
    }
    print("cohort\tcode\twhat\twall_s\tcpu_s")
    with tempfile.TemporaryDirectory() as workdir:
        for data, config in datasets.items():
            for mode, extra in modes.items():
                # old and new back to back, so both see the same machine load
                for _ in range(args.repeats):
                    for code, root in codes.items():
                        command = [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile")]
                        command += ["--configfile", str(config), "--cores", "1", *extra]
                        wall, cpu = timed(command, Path(workdir))
                        print(f"{data}\t{code}\t{mode}\t{wall:.1f}\t{cpu:.1f}", flush=True)


if __name__ == "__main__":
    main()
