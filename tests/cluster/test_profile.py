"""profiles/slurm without a cluster: its rules exist, its keys are documented and valid options."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm" / "profile.yaml"


def workflow_rules() -> set[str]:
    text = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    return set(re.findall(r"^rule (\w+):", text, flags=re.M))


def test_per_rule_settings_name_existing_rules():
    profile = yaml.safe_load(PROFILE.read_text())
    named = set(profile["set-resources"]) | set(profile["set-threads"])
    assert named - workflow_rules() == set()


def test_every_top_level_key_has_a_comment_above():
    lines = PROFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"[a-z-]+:", line):
            assert lines[number - 1].startswith("#"), f"profile.yaml line {number + 1}: {line}"


def test_profile_keys_are_valid_snakemake_and_plugin_options(tmp_path):
    """A dry run parses every key (a misspelt one is an unrecognized argument)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    command += ["--directory", str(tmp_path), "--profile", str(PROFILE.parent)]
    command += ["--workflow-profile", "none", "-n", "clinical"]
    command += ["--configfile", str(REPO / "config" / "config.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    resources = re.findall(r"resources: (.*)", result.stdout + result.stderr)
    assert resources and all("slurm_partition=compute" in line for line in resources)
    assert all("runtime=30" in line and "mem_mb=2000" in line for line in resources)
