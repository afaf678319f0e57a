"""Reruns: one changed sample reruns its own jobs and the cohort steps; a library edit its rules."""

from __future__ import annotations

import gzip
import re
import shutil

import pandas as pd
import pysam
import pytest

from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort

TARGETS = ("wes", "mihc")


def planned_jobs(result) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, repo, snakemake_runner):
    """A private copy of the workflow (so that a library edit stays here) and a small cohort."""
    root = tmp_path_factory.mktemp("reruns")
    workflow = root / "workflow_copy"
    shutil.copytree(
        repo,
        workflow,
        ignore=shutil.ignore_patterns(
            ".git", "demo", "tests", "results", "logs", ".snakemake", "__pycache__", "benchmarks"
        ),
    )
    work = root / "work"
    work.mkdir()
    cohort = DemoCohort(n_patients=6, n_pairs=3, n_sc_pairs=1, n_variants=60, n_mihc_cells=300)
    write_demo(str(work / "data"), cohort, layers=("clinical", "wes", "mihc"))
    run = _runner(snakemake_runner, workflow, work)
    run(*TARGETS)
    assert planned_jobs(run(*TARGETS, "-n")) == {}
    return workflow, work, run


def _runner(snakemake_runner, workflow, work):
    def run(*args):
        # Each call uses the copied Snakefile: snakemake_runner takes the repo's by default.
        import subprocess
        import sys

        command = [sys.executable, "-m", "snakemake", "-s", str(workflow / "Snakefile")]
        command += ["--directory", str(work), "--cores", "2", *args]
        command += ["--configfile", str(work / "data/config.yaml")]
        result = subprocess.run(command, capture_output=True, text=True, cwd=work)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    return run


def add_vcf_header_line(path):
    """Rewrite a bgzipped VCF with one more meta line (content changes, records do not)."""
    with gzip.open(path, "rt") as handle:
        lines = handle.readlines()
    lines.insert(1, "##organomics_test=updated\n")
    with pysam.BGZFile(str(path), "wb") as handle:
        handle.write("".join(lines).encode())


def append_cell(path):
    """Append one copy of the first cell to a gzipped cell table."""
    with gzip.open(path, "rt") as handle:
        lines = handle.readlines()
    with gzip.open(path, "wt") as handle:
        handle.writelines([*lines, lines[1]])


def test_one_changed_sample_reruns_only_its_jobs_and_the_cohort_steps(workspace):
    _, work, run = workspace
    sheet = pd.read_csv(work / "data/samples.tsv", sep="\t").set_index("sample")
    # Snakemake 9 compares checksums, so a bare touch is not a change: alter the content.
    add_vcf_header_line(work / sheet.loc["P01_PL", "wes"])
    append_cell(work / sheet.loc["P02_LM", "mihc"])
    jobs = planned_jobs(run(*TARGETS, "-n"))
    assert jobs["wes_sample"] == 1 and jobs["mihc_sample"] == 1
    assert {"wes_cohort", "mihc_cohort"} <= set(jobs)
    assert "clinical_response" not in jobs
    run(*TARGETS)
    assert planned_jobs(run(*TARGETS, "-n")) == {}


def test_editing_a_library_module_reruns_the_rules_that_use_it(workspace):
    workflow, _, run = workspace
    with open(workflow / "scripts/organomics/mihc/cohort.py", "a") as handle:
        handle.write("\n# edited by the rerun test\n")
    jobs = planned_jobs(run(*TARGETS, "-n"))
    assert "mihc_cohort" in jobs
    assert "mihc_sample" not in jobs and "wes_sample" not in jobs and "wes_cohort" not in jobs


def test_forcerun_reruns_one_rule_and_its_dependants(workspace):
    _, _, run = workspace
    jobs = planned_jobs(run(*TARGETS, "-n", "--forcerun", "wes_cohort"))
    assert "wes_cohort" in jobs and "wes_sample" not in jobs
