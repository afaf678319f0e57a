"""profiles/slurm on a real one-node SLURM cluster: jobs go through sbatch and finish.

tests/cluster/start_slurm.sh installs Debian's slurm and munge and starts the daemons (root and
apt-get needed: CI has both; elsewhere the tests skip with the reason); stop_slurm.sh stops them.
Two runs side by side from temporary working directories: the bundled demo's `clinical` target,
and one per-sample mIHC job of a tiny generated demo cohort.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort

pytestmark = pytest.mark.cluster

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLE = "P01_PL"
# Every rule of the clinical branch runs as an sbatch job (read from the branch file, so a new
# rule is expected without editing this test).
CLINICAL_RULES = set(
    re.findall(r"^rule (\w+):", (REPO / "workflow/rules/clinical.smk").read_text(), re.M)
)
# snakemake waits for running jobs on SIGTERM: `timeout` kills it 20 s later. The clinical
# target (11 jobs, one at a time on the node) took 191 s on a loaded machine.
RUN_TIMEOUT_S = 420
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$", re.M)
# The one-node cluster's partition; `--default-resources` on the command line replaces the
# profile's whole mapping, so runtime and mem_mb are restated (per-rule set-resources stay).
ONE_NODE = ["--default-resources", "slurm_partition=main", "runtime=10", "mem_mb=1000"]


def skip_reason() -> str | None:
    """Why this machine cannot host the test cluster (None when it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to install Debian's slurm and munge packages and start their daemons"
    if shutil.which("apt-get") is None:
        return "needs apt-get (Debian/Ubuntu) to install slurm"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "needs snakemake-executor-plugin-slurm: pip install -e '.[slurm]'"
    return None


@pytest.fixture(scope="module")
def slurm_env():
    """Start the cluster for this module; stop its daemons afterwards, whatever happened."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    # State in the scripts' fixed default folder: a run killed half-way leaves pid files that
    # the next run's start_slurm.sh reuses and its stop_slurm.sh cleans up.
    env = {**os.environ, "MPLBACKEND": "Agg"}
    try:
        started = subprocess.run(
            ["bash", str(HERE / "start_slurm.sh")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if started.returncode == 3:  # a real SLURM setup lives here: leave it alone
            pytest.skip(started.stderr.strip())
        if started.returncode != 0:
            pytest.fail(
                f"start_slurm.sh failed:\n{started.stdout[-3000:]}\n{started.stderr[-3000:]}"
            )
        yield env
    finally:
        subprocess.run(["bash", str(HERE / "stop_slurm.sh")], env=env, timeout=120, check=False)
    # A slurm.conf naming the stopped controller would make every later snakemake start in
    # this test session wait 10 s (the SLURM plugin runs `scontrol show config` on import).
    conf = Path("/etc/slurm/slurm.conf")
    assert not (conf.exists() and "written by organomics" in conf.read_text()), conf


def snakemake_command(work: Path, target: str, configfile: Path) -> list[str]:
    """The documented cluster command plus the one-node cluster's overrides."""
    return [
        "timeout",
        "--kill-after=20",
        str(RUN_TIMEOUT_S),
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--workflow-profile",
        "none",
        target,  # before --configfile, which takes several values
        "--configfile",
        str(configfile),
        *ONE_NODE,
        # check after 2 s, not the profile's 20 s: the demo's jobs take seconds
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--slurm-keep-successful-logs",  # the test reads them
    ]


@pytest.fixture(scope="module")
def runs(slurm_env, tmp_path_factory):
    """Run both targets side by side; returns {name: (workdir, snakemake output)}."""
    clinical = tmp_path_factory.mktemp("slurm-clinical")
    mihc = tmp_path_factory.mktemp("slurm-mihc")
    cohort = DemoCohort(seed=0, n_patients=3, n_pairs=2, n_sc_pairs=1, n_mihc_cells=300)
    write_demo(str(mihc / "demo"), cohort, layers=("mihc",))
    commands = {
        "clinical": (
            clinical,
            snakemake_command(clinical, "clinical", REPO / "config/config.yaml"),
        ),
        "mihc": (
            mihc,
            snakemake_command(mihc, f"results/mihc/counts/{SAMPLE}.tsv", mihc / "demo/config.yaml"),
        ),
    }
    start = time.monotonic()
    processes = {}
    try:
        for name, (work, command) in commands.items():
            with open(work / "snakemake.log", "w") as log:
                processes[name] = subprocess.Popen(
                    command, cwd=work, env=slurm_env, stdout=log, stderr=subprocess.STDOUT
                )
        for process in processes.values():
            process.wait(timeout=RUN_TIMEOUT_S + 60)
    finally:  # only if `timeout` itself failed: kill by pid
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    elapsed = time.monotonic() - start
    results = {}
    for name, (work, _) in commands.items():
        output = (work / "snakemake.log").read_text()
        code = processes[name].returncode
        assert code == 0, f"{name} run failed ({code}, 124 = timed out):\n{output[-6000:]}"
        results[name] = (work, output)
    print(f"both SLURM runs took {elapsed:.0f} s")
    return results


def slurm_job(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (finished jobs stay listed for MinJobAge = 600 s)."""
    shown = subprocess.run(
        ["scontrol", "show", "job", "--oneliner", job_id],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return dict(re.findall(r"(\w+)=(\S*)", shown))


def submitted(output: str, work: Path) -> dict[str, tuple[str, Path]]:
    """{SLURM job id: (rule, SLURM log file)} from the plugin's submission messages."""
    jobs = {}
    for job_id, log in SUBMITTED.findall(output):
        log = Path(log)
        rule = next(part for part in log.relative_to(work).parts if part.startswith("rule_"))
        jobs[job_id] = (rule.removeprefix("rule_"), log)
    return jobs


def check_jobs(work: Path, output: str, rules: set[str]) -> dict[str, dict[str, str]]:
    """Every rule ran as a COMPLETED sbatch job of the profile's settings; returns their records."""
    jobs = submitted(output, work)
    assert "Falling back to 'sacct'" not in output  # the profile's squeue status checks held
    assert {rule for rule, _ in jobs.values()} == rules, output[-4000:]
    records = {}
    for job_id, (rule, log) in jobs.items():
        job = slurm_job(job_id)
        assert job["JobState"] == "COMPLETED", (rule, job)
        assert job["Partition"] == "main"
        assert job["JobName"].startswith("organomics_")  # slurm-jobname-prefix
        assert Path(job["WorkDir"]).resolve() == work.resolve()
        # slurm-logdir: logs/slurm/rule_<RULE>/[<wildcards>/]<JOBID>.log, the job's own output
        assert log.is_relative_to(work / "logs" / "slurm") and log.name == f"{job_id}.log"
        assert f"rule {rule}:" in log.read_text()
        records[rule] = job
    return records


def test_clinical_target_runs_as_slurm_jobs(runs):
    work, output = runs["clinical"]
    jobs = check_jobs(work, output, CLINICAL_RULES)
    # --default-resources runtime=10 mem_mb=1000 reached sbatch as -t 10 --mem 1000
    assert jobs["clinical_rates"]["TimeLimit"] == "00:10:00"
    assert jobs["clinical_rates"]["MinMemoryNode"] == "1000M"
    rates = pd.read_csv(work / "results/clinical/response_rates.tsv", sep="\t").set_index("site")
    assert rates.loc["PL", ["n", "responders", "disease_control"]].tolist() == [52, 17, 45]
    assert rates.loc["LM", ["n", "responders", "disease_control"]].tolist() == [52, 11, 35]


def test_per_sample_job_uses_the_profile_resources(runs):
    work, output = runs["mihc"]
    job = check_jobs(work, output, {"mihc_sample"})["mihc_sample"]
    assert job["TimeLimit"] == "01:00:00"  # profile set-resources: mihc_sample runtime 60
    assert job["MinMemoryNode"] == "1500M"  # the rule's mem_mb_scaled(1500), first attempt
    assert job["NumCPUs"] == "1"
    counts = pd.read_csv(work / f"results/mihc/counts/{SAMPLE}.tsv", sep="\t")
    assert len(counts) > 0 and (work / f"results/mihc/points/{SAMPLE}.parquet").exists()
    assert not (work / "results/mihc/site_comparison.tsv").exists()  # only the one job ran
