"""Each rnaseq adapter runs only its own part of the library (issue 19): a plot edit must not
rerun PyDESeq2, and a DESeq2 edit must not redraw the figures."""

from __future__ import annotations

import pytest

from organomics.dependencies import library_closure

DESEQ = {"organomics/rnaseq/deseq.py", "organomics/rnaseq/lean_inference.py"}
PLOTS = {"organomics/rnaseq/plots.py", "organomics/plots.py"}


def closure(repo, script: str) -> set[str]:
    scripts = repo / "scripts"
    return {
        path.relative_to(scripts).as_posix() for path in library_closure(scripts / script, scripts)
    }


def test_plots_do_not_depend_on_deseq(repo):
    found = closure(repo, "rnaseq_plots.py")
    assert "organomics/rnaseq/plots.py" in found
    assert not found & DESEQ


def test_deseq2_does_not_depend_on_plots(repo):
    found = closure(repo, "rnaseq_deseq2.py")
    assert "organomics/rnaseq/deseq.py" in found
    assert not found & PLOTS


@pytest.mark.parametrize(
    "script", ["rnaseq_sample_counts.py", "rnaseq_counts.py", "rnaseq_gsea.py", "rnaseq_ora.py",
               "rnaseq_signatures.py"]
)  # fmt: skip
def test_table_steps_depend_on_neither(repo, script):
    assert not closure(repo, script) & (DESEQ | PLOTS)
