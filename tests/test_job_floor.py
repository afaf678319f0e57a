"""benchmarks/job_floor.py: its job profiles still import, and it reads Snakemake's job stats."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest


def load_job_floor():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "job_floor.py"
    spec = importlib.util.spec_from_file_location("job_floor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JOB_FLOOR = load_job_floor()


@pytest.mark.parametrize("name", sorted({m for ms in JOB_FLOOR.PROFILES.values() for m in ms}))
def test_profile_modules_import(name):
    # a module renamed in the library would make the benchmark price a job that no longer exists
    importlib.import_module(name)


def test_every_profile_has_its_text_and_the_per_sample_rules_a_profile():
    assert set(JOB_FLOOR.PROFILE_TEXT) == set(JOB_FLOOR.PROFILES)
    assert {"wes_sample", "mihc_sample", "scrna_sample"} <= set(JOB_FLOOR.PROFILES)


def test_job_stats_reads_the_first_table_of_a_dry_run():
    # the layout of Snakemake 9.27's `snakemake -n`: the table is printed twice, and a rule
    # whose name starts with "total" is still a rule
    dry_run = (
        "Building DAG of jobs...\nJob stats:\njob                         count\n"
        "------------------------  -------\nclinical_adam                   1\n"
        "mihc_sample                    55\ntotal_counts                    2\n"
        "excluded_table                  5\n"
        "all                             1\ntotal                         62\n\n"
        "[Sun Nov 29 12:00:00 2026]\nrule clinical_adam:\n...\nJob stats:\n"
        "job                         count\n------------------------  -------\n"
        "clinical_adam                   1\ntotal                          1\n"
    )
    assert JOB_FLOOR.job_stats(dry_run) == {
        "clinical_adam": 1,
        "mihc_sample": 55,
        "total_counts": 2,
        "excluded_table": 5,
        "all": 1,
    }
