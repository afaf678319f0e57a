"""The schemas are the one source of defaults: config.yaml, config/README.md and the library's
config dataclasses must say the same."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest
import yaml

import organomics

BRANCHES = ("clinical", "wes", "rnaseq", "mihc", "scrna", "summary")
# keys whose value in config/config.yaml is the demo's, not the default: the demo's own inputs
# and columns, and the scRNA settings sized for its small matrices (said in config.yaml too)
DEMO_VALUES = {
    "samples",
    "clinical.lesions",
    "clinical.patients",
    "wes.targets",
    "wes.fasta",
    "rnaseq.counts",
    "mihc.region",
    "mihc.tumour",
    "scrna.qc.min_genes",
    "scrna.integration.n_top_genes",
}
ROW = re.compile(r"^\|\s*`([\w.\-]+)`\s*\|\s*([^|]*?)\s*\|")


def schema_defaults(schema: dict, prefix: str = "") -> dict[str, object]:
    """{dotted key: default} of every property that has a default other than an empty object."""
    found = {}
    for key, spec in (schema.get("properties") or {}).items():
        name = f"{prefix}{key}"
        if "default" in spec and spec["default"] != {}:
            found[name] = spec["default"]
        if spec.get("type") == "object" or "properties" in spec:
            found.update(schema_defaults(spec, f"{name}."))
    return found


@pytest.fixture(scope="module")
def defaults(repo):
    top = yaml.safe_load((repo / "workflow/schemas/config.schema.yaml").read_text())
    found = {k: v for k, v in schema_defaults(top).items() if k.split(".")[0] not in BRANCHES}
    for branch in BRANCHES:
        schema = yaml.safe_load((repo / f"workflow/schemas/{branch}.schema.yaml").read_text())
        found.update(schema_defaults(schema, f"{branch}."))
    return found


def flatten(block: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in block.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_config_yaml_values_are_the_schema_defaults(repo, defaults):
    config = flatten(yaml.safe_load((repo / "config/config.yaml").read_text()))
    wrong = {
        key: (value, defaults[key])
        for key, value in config.items()
        if key in defaults and key not in DEMO_VALUES and value != defaults[key]
    }
    assert not wrong, f"config.yaml value != schema default: {wrong}"


def readme_defaults(repo) -> dict[str, str]:
    """{dotted key: default cell} from config/README.md's key tables, per branch section."""
    text = (repo / "config/README.md").read_text()
    found, branch = {}, None
    for line in text.splitlines():
        opened = re.match(r"<!-- >>> (\w+) -->", line)
        if opened:
            branch = opened.group(1)
        elif line.startswith("<!-- <<< "):
            branch = None
        match = ROW.match(line)
        if match:
            key = match.group(1)
            if branch and not key.startswith(f"{branch}."):
                key = f"{branch}.{key}"
            found[key] = match.group(2)
    return found


def normalise(cell: str):
    """A README default cell as a value: `x` -> x, none/null -> None, numbers, lists."""
    text = cell.replace("`", "").strip()
    if text.lower() in ("none", "null", "-", "—", ""):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
        return [normalise(part) for part in text.split(",")] if text.strip() else []
    if "," in text:
        return [normalise(part) for part in text.split(",")]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def same(cell: str, default) -> bool:
    """Whether a README default cell says the schema's default."""
    if isinstance(default, dict) or (
        isinstance(default, list) and any(isinstance(item, dict) for item in default)
    ):
        return True  # maps and lists of maps (organ_sites, concordance) are described in prose
    if isinstance(default, str):
        return cell.replace("`", "").strip() == default
    documented = normalise(cell)
    if isinstance(default, list) and not isinstance(documented, list):
        documented = [documented] if documented is not None else []
    return documented == default


def test_readme_documents_every_default_as_the_schema_says(repo, defaults):
    documented = readme_defaults(repo)
    missing = sorted(key for key in defaults if key not in documented)
    assert not missing, f"schema keys with a default but no row in config/README.md: {missing}"
    wrong = {
        key: (documented[key], defaults[key])
        for key in defaults
        if not same(documented[key], defaults[key])
    }
    assert not wrong, f"config/README.md default != schema default: {wrong}"


def config_dataclasses():
    """Library dataclasses that hold a config block: they name it in SCHEMA_SECTION (and a
    field elsewhere in the config names its key in ``metadata["schema_key"]``)."""
    found = []
    for module in pkgutil.walk_packages(organomics.__path__, "organomics."):
        if ".demo" in module.name:
            continue
        loaded = importlib.import_module(module.name)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if dataclasses.is_dataclass(cls) and "SCHEMA_SECTION" in vars(cls):
                found.append(cls)
    return sorted(set(found), key=lambda c: c.__qualname__)


def test_config_dataclasses_default_to_the_schema(defaults):
    classes = config_dataclasses()
    assert classes, "no dataclass names its SCHEMA_SECTION"
    wrong = {}
    for cls in classes:
        for item in dataclasses.fields(cls):
            # a field whose key lies outside the class's section names it in its metadata
            key = item.metadata.get("schema_key", f"{cls.SCHEMA_SECTION}.{item.name}")
            if key not in defaults:
                continue
            if item.default is not dataclasses.MISSING:
                value = item.default
            elif item.default_factory is not dataclasses.MISSING:
                value = item.default_factory()
            else:
                continue
            if value != defaults[key]:
                wrong[f"{cls.__qualname__}.{item.name}"] = (value, defaults[key])
    assert not wrong, f"dataclass default != schema default: {wrong}"
    checked = {
        item.metadata.get("schema_key", f"{cls.SCHEMA_SECTION}.{item.name}")
        for cls in classes
        for item in dataclasses.fields(cls)
    }
    # the sections this test is known to cover (a renamed section must not silently drop out)
    assert {"wes.filters.min_vaf", "scrna.qc.min_genes", "scrna.comparison.min_cells"} <= checked
