"""Which library a job runs: its modules (an edit to any reruns the rule), this workflow's copy."""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path

PACKAGE = "organomics"


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of module `dotted` (organomics.x.y) under `root`, the folder of organomics/."""
    base = root.joinpath(*dotted.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


@cache
def _direct_imports(path: Path, root: Path) -> frozenset[Path]:
    """Library files that `path` imports anywhere in its body (lazy imports in functions too)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from organomics.rnaseq import steps` names a module; `from organomics.x import f`
            # names an attribute of module organomics.x
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name == PACKAGE or not name.startswith(f"{PACKAGE}."):
                continue
            module = _module_file(root, name)
            if module is not None:
                found.add(module)
    return frozenset(found)


def library_closure(script: str | Path, root: str | Path) -> list[Path]:
    """Every library module `script` imports, directly or through other library modules.

    Parameters
    ----------
    script
        A Python file (a Snakemake adapter in scripts/, or a library module).
    root
        The folder that holds the `organomics` package (scripts/).

    Returns
    -------
    list of Path
        Module files, sorted; package `__init__.py` files only when something is imported from
        them (a bare package holds no code whose edit should rerun a rule).
    """
    return list(_closure(Path(script).resolve(), Path(root).resolve()))


@cache
def _closure(script: Path, root: Path) -> tuple[Path, ...]:
    """library_closure of resolved paths, cached: the Snakefile asks for ~50 scripts whose
    closures share most modules, and every job process re-parses the Snakefile."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        for module in _direct_imports(todo.pop(), root):
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return tuple(sorted(module for module in seen if _has_code(module)))


@cache
def _has_code(module: Path) -> bool:
    """False for a package __init__ that holds a docstring at most."""
    if module.name != "__init__.py":
        return True
    body = ast.parse(module.read_text()).body
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body)


def put_library_first(root: str) -> None:
    """Put `root` (the workflow's scripts folder) first on PYTHONPATH, which jobs inherit.

    Snakemake's script preamble appends the scripts folder to a job's sys.path, after
    site-packages: with organomics pip-installed from another checkout, jobs imported that one,
    not the library `library_closure` lists as their inputs. PYTHONPATH comes before
    site-packages.

    Parameters
    ----------
    root
        The folder holding organomics/.
    """
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if paths[0] != root:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *filter(None, paths)])
