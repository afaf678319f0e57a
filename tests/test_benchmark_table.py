"""benchmarks/run.py sums Snakemake's per-job benchmark files into one row per rule."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def load_run_module():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("benchmark_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path: Path, seconds: float, rss: str, cpu: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_rule_table_sums_jobs_and_keeps_the_largest_peak(tmp_path):
    write(tmp_path / "wes" / "sample" / "A.tsv", 3.5, "120.5", 3.0)
    write(tmp_path / "wes" / "sample" / "B.tsv", 4.5, "140.0", 4.0)
    write(tmp_path / "wes" / "cohort.tsv", 2.0, "225.0", 1.5)
    write(tmp_path / "pairing.tsv", 0.5, "NA", 0.0)  # a job too short for a memory reading
    table = load_run_module().rule_table(tmp_path).set_index("rule")
    assert table.index.tolist() == ["wes/sample", "wes/cohort", "pairing"]  # by wall time
    assert table.loc["wes/sample", "jobs"] == 2
    assert table.loc["wes/sample", "wall_s"] == pytest.approx(8.0)
    assert table.loc["wes/sample", "cpu_s"] == pytest.approx(7.0)
    assert table.loc["wes/sample", "max_rss_mb"] == pytest.approx(140.0)
    assert table.loc["pairing", "max_rss_mb"] != table.loc["pairing", "max_rss_mb"]  # NaN
