"""The benchmark scripts' own logic: run.py's per-rule table, job_floor.py's profiles and stats."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def load_benchmark(name: str):
    """benchmarks/<name>.py as a module (the folder is not a package)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JOB_FLOOR = load_benchmark("job_floor")


def write(path: Path, seconds: float, rss: str, cpu: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_rule_table_sums_jobs_and_keeps_the_largest_peak(tmp_path):
    write(tmp_path / "wes" / "sample" / "A.tsv", 3.5, "120.5", 3.0)
    write(tmp_path / "wes" / "sample" / "B.tsv", 4.5, "140.0", 4.0)
    write(tmp_path / "wes" / "cohort.tsv", 2.0, "225.0", 1.5)
    write(tmp_path / "pairing.tsv", 0.5, "NA", 0.0)  # a job too short for a memory reading
    table = load_benchmark("run").rule_table(tmp_path).set_index("rule")
    assert table.index.tolist() == ["wes/sample", "wes/cohort", "pairing"]  # by wall time
    assert table.loc["wes/sample", "jobs"] == 2
    assert table.loc["wes/sample", "wall_s"] == pytest.approx(8.0)
    assert table.loc["wes/sample", "cpu_s"] == pytest.approx(7.0)
    assert table.loc["wes/sample", "max_rss_mb"] == pytest.approx(140.0)
    assert table.loc["pairing", "max_rss_mb"] != table.loc["pairing", "max_rss_mb"]  # NaN


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
