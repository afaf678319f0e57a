"""Jobs import the library of the workflow they run, not an organomics installed from elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# Appended to the copy's organomics/__init__.py: every process that imports it says so.
IMPORT_LOG = """
import os as _os
with open(_os.environ["ORGANOMICS_IMPORT_LOG"], "a") as _log:
    _log.write(f"{_os.getpid()}\\t{__file__}\\n")
"""


def test_job_imports_the_workflows_own_library(repo, tmp_path):
    """A second checkout (here a copy of this one) run while organomics is installed from the
    first: its job (results/pairing.tsv) must import the copy's library, which `lib_of` lists as
    the job's input. Snakemake alone puts the copy's scripts folder after site-packages."""
    import organomics

    copy = tmp_path / "checkout"
    copy.mkdir()
    for part in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs"):
        source = repo / part
        if source.is_dir():
            shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, copy / part)
    (copy / "resources").symlink_to(repo / "resources")
    with open(copy / "scripts/organomics/__init__.py", "a") as init:
        init.write(IMPORT_LOG)
    log = tmp_path / "imports.tsv"
    env = {**os.environ, "MPLBACKEND": "Agg", "ORGANOMICS_IMPORT_LOG": str(log)}
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "results/pairing.tsv"]
    run = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert (copy / "results/pairing.tsv").exists()
    # the installed package is this checkout's, not the copy
    assert not organomics.__file__.startswith(str(copy))
    imports = [line.split("\t") for line in log.read_text().splitlines()]
    pids = {pid for pid, _ in imports}
    assert len(pids) >= 2, imports  # Snakemake's own process and the job's
    assert all(path.startswith(str(copy)) for _, path in imports), imports


def test_put_library_first_prepends_once_and_keeps_the_rest(monkeypatch):
    from organomics.dependencies import put_library_first

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/a", "/b"]))
    put_library_first("/lib")
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/lib", "/a", "/b"])
    put_library_first("/lib")  # a cluster job parses the Snakefile again: no second copy
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/lib", "/a", "/b"])
    monkeypatch.delenv("PYTHONPATH")
    put_library_first("/lib")
    assert os.environ["PYTHONPATH"] == "/lib"
