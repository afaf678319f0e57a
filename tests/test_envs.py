"""Every conda env in envs/ pins the same versions as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# conda-forge/bioconda package name -> PyPI name, where they differ.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "python-igraph": "igraph"}
NOT_PYTHON_PACKAGES = {"python", "pip"}


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins = {}
    for requirement in requirements:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", requirement).groups()
        pins[name.lower()] = version
    return pins


ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=[path.stem for path in ENV_FILES])
def test_env_pins_agree_with_pyproject(env_file):
    pins = pyproject_pins()
    env = yaml.safe_load(env_file.read_text())
    checked = 0
    for dependency in env["dependencies"]:
        if not isinstance(dependency, str):
            continue
        name, _, version = dependency.partition("=")
        name = name.strip().lower()
        assert version, f"{env_file.name}: {name} is not pinned"
        if name == "python":
            assert version == "3.11", f"{env_file.name}: python={version}"
            continue
        if name in NOT_PYTHON_PACKAGES:
            continue
        pypi_name = CONDA_TO_PYPI.get(name, name)
        assert pypi_name in pins, f"{env_file.name}: {name} is not a pyproject dependency"
        assert version == pins[pypi_name], (
            f"{env_file.name}: {name}={version}, pyproject {pins[pypi_name]}"
        )
        checked += 1
    assert checked >= 3


def test_every_branch_has_an_env():
    names = {path.stem for path in ENV_FILES}
    rules = {path.stem for path in (REPO / "workflow/rules").glob("*.smk")}
    for branch in ("clinical", "wes", "rnaseq", "mihc", "scrna"):
        if branch in rules and (REPO / f"workflow/rules/{branch}.smk").read_text().count("rule "):
            assert branch in names, f"envs/{branch}.yaml is missing"
