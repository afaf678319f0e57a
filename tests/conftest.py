"""Shared pytest fixtures: the repository root and a runner for snakemake in a working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, cores: int = 2
) -> subprocess.CompletedProcess:
    """Run the workflow with `workdir` as working directory; output captured as text."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    command += ["--directory", str(workdir), "--cores", str(cores), *args]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    if check and result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{output}")
    return result


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def snakemake_runner():
    return run_snakemake
