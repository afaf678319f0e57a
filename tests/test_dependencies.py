"""library_closure: every library module a script runs, through imports of imports."""

from __future__ import annotations

from organomics.dependencies import library_closure


def names(script, repo):
    root = repo / "scripts"
    return {str(path.relative_to(root / "organomics")) for path in library_closure(script, root)}


def test_closure_follows_imports_of_imports(repo):
    # clinical_plots imports clinical.survival, which its rule once forgot to list
    found = names(repo / "scripts/clinical_plots.py", repo)
    assert {"clinical/figures.py", "clinical/survival.py", "plots.py", "logs.py"} <= found
    assert {"tables.py", "errors.py"} <= found  # through survival and logs


def test_closure_of_a_made_up_script(tmp_path, repo):
    library = tmp_path / "organomics"
    (library / "pkg").mkdir(parents=True)
    (library / "__init__.py").write_text('"""Package."""\n')
    (library / "pkg/__init__.py").write_text("from organomics.base import VALUE\n")
    (library / "base.py").write_text("VALUE = 1\n")
    (library / "lazy.py").write_text("def f():\n    import organomics.deep as d\n    return d\n")
    (library / "deep.py").write_text("import json\n")
    (library / "unused.py").write_text("")
    script = tmp_path / "adapter.py"
    script.write_text("from organomics import lazy\nfrom organomics.pkg import VALUE\n")
    found = {str(p.relative_to(library)) for p in library_closure(script, tmp_path)}
    # a package __init__ with code counts, a docstring-only one does not; lazy imports count
    assert found == {"lazy.py", "deep.py", "pkg/__init__.py", "base.py"}
