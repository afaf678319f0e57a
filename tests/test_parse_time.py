"""Parse-time input checks run in the main process only; job processes skip the pure checks."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd

from organomics.dependencies import library_closure


def _sheet_with_broken_vcf(repo, tmp_path):
    """The demo sheet with P01_PL's VCF replaced by a text file that is no VCF at all."""
    broken = tmp_path / "P01_PL.vcf"
    broken.write_text("this is not a VCF\n")
    sheet = pd.read_csv(repo / "resources/demo/samples.tsv", sep="\t", dtype=str).fillna("")
    sheet.loc[sheet["sample"] == "P01_PL", "wes"] = str(broken)
    path = tmp_path / "samples.tsv"
    sheet.to_csv(path, sep="\t", index=False)
    return path


def test_job_process_skips_input_checks_main_process_stops(repo, tmp_path, snakemake_runner):
    # the same bad VCF header: the main process (default mode) stops at parse time naming the
    # file; a job process (--mode subprocess, as cluster and script jobs re-parse the
    # Snakefile) skips wes_check_inputs and parses, while SAMPLES still comes from the sheet
    sheet = _sheet_with_broken_vcf(repo, tmp_path)
    args = ["--configfile", str(repo / "config/config.yaml"), "--config", f"samples={sheet}"]
    main = snakemake_runner(tmp_path, *args, "-n", check=False, cores=1)
    output = main.stdout + main.stderr
    assert main.returncode != 0, output[-3000:]
    assert "InputError" in output and "P01_PL.vcf" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    job = snakemake_runner(tmp_path, *args, "--mode", "subprocess", "-l", check=False, cores=1)
    assert job.returncode == 0, (job.stdout + job.stderr)[-3000:]
    assert "wes_sample" in job.stdout


def test_cached_library_closure_matches_a_fresh_scan(repo, tmp_path):
    # the cache must not change answers: a copy of the library under another root is scanned
    # afresh (new paths, empty cache) and must give the same relative closure as the original
    scripts = repo / "scripts"
    script = "summary_response.py"
    first = library_closure(scripts / script, scripts)
    again = library_closure(scripts / script, scripts)
    assert first == again and first is not again  # a copy: callers may mutate their list
    copy = tmp_path / "scripts"
    shutil.copytree(scripts / "organomics", copy / "organomics")
    shutil.copy(scripts / script, copy / script)
    fresh = library_closure(copy / script, copy)
    assert [p.relative_to(copy) for p in fresh] == [p.relative_to(scripts) for p in first]
    assert len(first) > 3


# Modules that must not be imported while the Snakefile is parsed (in the main process and in
# every cluster job). On this 2-core machine, `python -c "import pandas, yaml, h5py, cyvcf2"`
# takes 0.47-0.49 s, and 1.59-1.73 s with these added. Demo `snakemake -n --forceall`:
# 5.63-5.90 s with them, 4.19-4.36 s without.
HEAVY_AT_PARSE = (
    "scipy.stats",
    "scipy.optimize",
    "scipy.spatial",
    "scipy.ndimage",
    "matplotlib",
    "anndata",
    "sklearn",
    "scanpy",
)

REPORT_MODULES = """
import atexit, runpy, sys
heavy = sys.argv[1].split(",")
atexit.register(lambda: print("LOADED:" + ",".join(m for m in heavy if m in sys.modules)))
sys.argv = ["snakemake", *sys.argv[2:]]
runpy.run_module("snakemake", run_name="__main__")
"""


def test_parse_imports_no_heavy_library(repo, tmp_path):
    # The modules the .smk files import for their checks and constants import SciPy's stats,
    # optimize and spatial, matplotlib and anndata inside the functions that use them, so
    # that parsing the Snakefile does not pay for them.
    command = [sys.executable, "-c", REPORT_MODULES, ",".join(HEAVY_AT_PARSE)]
    command += ["-s", str(repo / "Snakefile"), "--directory", str(tmp_path), "--cores", "1"]
    command += ["--configfile", str(repo / "config/config.yaml"), "-n", "-q"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = [line for line in result.stdout.splitlines() if line.startswith("LOADED:")]
    assert loaded == ["LOADED:"], loaded
