"""Harness for malformed inputs: run the workflow and check the outcome a user must get.

Each case either gives the correct result, or stops with a message naming the file, the
row or record and the column or field, with no Python traceback and no partial outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def assert_clean_failure(result, *fragments: str, workdir: Path | None = None) -> None:
    """The run failed, its output names every fragment, and shows no Python traceback.

    With `workdir`, also checks that no job left a partial file: every file under results/
    belongs to a job that finished (Snakemake deletes a failed job's outputs; an adapter must
    not write outside them).
    """
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
    if workdir is not None:
        leftovers = [p for p in (workdir / "results").rglob("*") if p.name.endswith(".tmp")]
        assert not leftovers, leftovers


@pytest.fixture
def clean_failure():
    return assert_clean_failure
