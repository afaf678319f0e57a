"""The demo's results after the speed work (issue 18) equal those the code gave before it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.stats import subset_all

REPO = Path(__file__).resolve().parents[1]
BEFORE = REPO / "tests" / "data" / "demo_before_speed"
RESULTS = REPO / "results"
# tests/data/demo_before_speed: these tables from `snakemake --cores 8` on a clean clone of
# 8eba46c (the last commit before the speed work of issue 18), gzipped.
TABLES = sorted(path.name for path in BEFORE.glob("*.tsv.gz"))

pytestmark = pytest.mark.skipif(
    not (RESULTS / "summary" / "findings.tsv").exists(),
    reason="run the demo first (snakemake --cores 8): CI does, before the tests",
)


def result_path(name: str) -> Path:
    """summary_findings.tsv.gz -> results/summary/findings.tsv."""
    layer, rest = name.removesuffix(".gz").split("_", 1)
    return RESULTS / layer / rest


def read(path) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""], low_memory=False)
    # tables that gained the simultaneous-pairs rows (issue 14) are compared on the `all` rows
    return subset_all(table).drop(columns="subset", errors="ignore")


@pytest.mark.parametrize("name", TABLES)
def test_demo_table_unchanged(name):
    before, after = read(BEFORE / name), read(result_path(name))
    assert list(after.columns) == list(before.columns), name
    assert len(after) == len(before), name
    for column in before.columns:
        old, new = before[column], after[column]
        if pd.api.types.is_numeric_dtype(old) and pd.api.types.is_numeric_dtype(new):
            # the tables are written with 6 significant digits: equal up to that rounding
            np.testing.assert_allclose(
                new.to_numpy(float), old.to_numpy(float), rtol=1e-5, atol=1e-12,
                equal_nan=True, err_msg=f"{name}: {column}",
            )  # fmt: skip
        else:
            assert new.astype(str).tolist() == old.astype(str).tolist(), f"{name}: {column}"
