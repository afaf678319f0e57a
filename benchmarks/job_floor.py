"""The CPU a Snakemake script job spends before any work of its own, and the demo's sum of it.

    python benchmarks/job_floor.py [--jobs 8]

Runs a throwaway workflow whose script jobs only import modules: nothing (the interpreter and
Snakemake's script preamble), numpy + pandas (what every organomics adapter loads), and the
modules a demo job of each per-sample rule has loaded by its end (read from `sys.modules` in a
demo run). Each job records its own CPU (user + system) when its imports are done and ends the
way organomics jobs do (`os._exit`, no interpreter teardown). What the Snakemake process spends
per job (its scheduling, the job's shell and script file) is the run's CPU less the jobs' own
and less a run without jobs. Then the demo's jobs (`snakemake -n --forceall`) are priced at
these floors: the CPU the demo spends before any job does anything.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# profile -> modules a job of that kind imports; the per-sample lists are what a demo job of
# the rule had loaded at its end (its sys.modules), everything heavy it uses
PROFILES = {
    "bare": [],
    "pandas": ["numpy", "pandas"],
    "wes_sample": ["organomics.wes.sample", "organomics.wes.targets", "pyarrow.parquet", "cyvcf2"],
    "mihc_sample": [
        "organomics.mihc.sample",
        "organomics.mihc.export",
        "scipy.spatial",
        "scipy.ndimage",
        "h5py",
        "pyarrow.parquet",
    ],
    "scrna_sample": ["organomics.scrna.io", "organomics.scrna.qc", "scanpy"],
}
PROFILE_TEXT = {
    "bare": "python + Snakemake's script preamble",
    "pandas": "numpy + pandas (every adapter)",
    "wes_sample": "a WES sample job's imports",
    "mihc_sample": "an mIHC sample job's imports",
    "scrna_sample": "an scRNA sample job's imports (scanpy)",
}

SNAKEFILE = """
rule all:
    input:
        expand("cpu/{profile}/{i}.tsv", profile=list(config["profiles"]), i=range(config["jobs"])),


rule floor:
    output:
        "cpu/{profile}/{i}.tsv",
    params:
        modules=lambda wildcards: config["profiles"][wildcards.profile],
    script:
        "floor_job.py"
"""

JOB = """
import importlib
import os
import resource
import sys

for name in snakemake.params.modules:
    importlib.import_module(name)
usage = resource.getrusage(resource.RUSAGE_SELF)
with open(snakemake.output[0], "w") as out:
    out.write(f"{usage.ru_utime + usage.ru_stime}\\n")
sys.stdout.flush()
os._exit(0)  # as organomics.logs.end_job_process: no teardown
"""


def run_snakemake(workdir: Path, profiles: dict[str, list[str]], jobs: int) -> float:
    """CPU seconds (Snakemake and its jobs) of one run of the throwaway workflow, one core."""
    config = workdir / "config.yaml"
    lines = [f"jobs: {jobs}", "profiles:"]
    lines += [f"  {name}: [{', '.join(modules)}]" for name, modules in profiles.items()]
    config.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "--forceall", "--quiet"]
    command += ["--configfile", str(config)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def demo_job_counts() -> dict[str, int]:
    """Jobs per rule of the demo, from `snakemake -n --forceall` in the repository."""
    command = [sys.executable, "-m", "snakemake", "-n", "--forceall", "--cores", "1"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    return job_stats(result.stdout)


def job_stats(dry_run: str) -> dict[str, int]:
    """Rule -> jobs from the first "Job stats:" table of Snakemake's dry-run output."""
    table = re.split(r"\ntotal\s", dry_run.split("Job stats:", 1)[1], maxsplit=1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs per profile")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "Snakefile").write_text(SNAKEFILE)
        (workdir / "floor_job.py").write_text(JOB)
        empty = run_snakemake(workdir, {"bare": []}, 0)  # parse and DAG, no job
        total = run_snakemake(workdir, PROFILES, args.jobs)
        floors = {
            name: [float(path.read_text()) for path in (workdir / "cpu" / name).glob("*.tsv")]
            for name in PROFILES
        }
    jobs_cpu = sum(sum(values) for values in floors.values())
    per_job_snakemake = (total - jobs_cpu - empty) / (args.jobs * len(PROFILES))
    median = {name: statistics.median(values) for name, values in floors.items()}
    print(f"CPU s per job, median of {args.jobs} (range), one job at a time:")
    for name, values in floors.items():
        print(
            f"  {PROFILE_TEXT[name]:42s} {median[name]:.2f} ({min(values):.2f}-{max(values):.2f})"
        )
    print(f"  {'the Snakemake process, per job':42s} {per_job_snakemake:.2f}")

    counts = demo_job_counts()
    counts.pop("all", None)  # a local rule with no process
    n_jobs = sum(counts.values())
    print("\nThe demo's jobs at these floors (CPU s before any job does its own work):")
    floor_sum = 0.0
    for rule in ("wes_sample", "mihc_sample", "scrna_sample"):
        n = counts.pop(rule, 0)
        cost = n * (median[rule] + per_job_snakemake)
        floor_sum += cost
        print(f"  {rule:42s} {n:4d} jobs {cost:6.1f}")
    n_other = sum(counts.values())
    cost = n_other * (median["pandas"] + per_job_snakemake)
    floor_sum += cost
    print(f"  {'other rules, at the numpy + pandas floor':42s} {n_other:4d} jobs {cost:6.1f}")
    cpus = len(os.sched_getaffinity(0))
    print(f"  {'all':42s} {n_jobs:4d} jobs {floor_sum:6.1f}")
    print(f"Two minutes on {cpus} CPUs hold {120 * cpus} CPU s.")


if __name__ == "__main__":
    main()
