"""FGA, LOH fraction and arm-level events against hand-computed segments on the bundled arms."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from organomics.wes.arms import cohort_copy_number, read_arms, sample_copy_number

REPO = Path(__file__).resolve().parents[2]
ARMS = read_arms(str(REPO / "resources" / "wes" / "arms_GRCh38.tsv"))


def genome(events: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """One segment per scored autosomal arm: CN 2 (1+1) unless `events` names the arm."""
    rows = []
    for arm in ARMS[ARMS["chrom"].isin([str(n) for n in range(1, 23)])].itertuples():
        total, minor = events.get(arm.arm, (2.0, 1.0))
        rows.append((arm.chrom, arm.start, arm.end, total, minor))
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "total_cn", "minor_cn"])


def test_bundled_arms_cover_each_chromosome_once():
    for genome_build in ("GRCh38", "GRCh37"):
        arms = read_arms(str(REPO / "resources" / "wes" / f"arms_{genome_build}.tsv"))
        assert len(arms) == 48  # p and q of 1-22, X, Y
        for _, chrom in arms.groupby("chrom"):
            assert chrom["start"].iloc[0] == 1
            assert chrom["start"].iloc[1] == chrom["end"].iloc[0] + 1
    assert ARMS.set_index("arm").at["1p", "end"] == 123400000  # hg38 p11.1 ends at 123.4 Mb
    assert not ARMS.set_index("arm").at["13p", "scored"]


def test_fga_and_arm_events_hand_computed():
    segments = genome({"1q": (3.0, 1.0), "8p": (1.0, 0.0), "17p": (2.0, 0.0)})
    summary, per_arm = sample_copy_number(segments, ARMS)
    arms = ARMS.set_index("arm")
    size = {a: arms.at[a, "end"] - arms.at[a, "start"] + 1 for a in ("1q", "8p", "17p")}
    total = sum(
        arms.at[a, "end"] - arms.at[a, "start"] + 1
        for a in arms.index
        if arms.at[a, "chrom"] in [str(n) for n in range(1, 23)]
    )
    # one segment per arm: the segmented length is the whole autosomal genome
    segmented = int((segments["end"] - segments["start"] + 1).sum())
    assert segmented == total
    assert summary["baseline_cn"] == 2
    assert summary["fga"] == pytest.approx((size["1q"] + size["8p"]) / segmented)
    assert summary["fraction_loh"] == pytest.approx((size["8p"] + size["17p"]) / segmented)
    calls = per_arm.set_index("arm")
    assert calls.at["1q", "gain"] and not calls.at["1q", "loss"]
    assert calls.at["8p", "loss"] and calls.at["8p", "loh"]
    assert calls.at["17p", "loh"] and not calls.at["17p", "loss"]  # copy-neutral LOH
    assert (summary["n_arm_gains"], summary["n_arm_losses"], summary["n_arm_loh"]) == (1, 1, 2)
    assert summary["n_arms_called"] == 39  # 44 autosomal arms less 5 acrocentric p arms


def test_arm_fraction_boundary_and_coverage():
    arms = ARMS.set_index("arm")
    start, end = arms.at["2p", "start"], arms.at["2p", "end"]
    length = end - start + 1
    cut = start + int(length * 0.9) - 1  # exactly 90% of 2p gained
    segments = genome({}).query("not (chrom == '2' and start == 1)")
    extra = pd.DataFrame(
        [("2", start, cut, 3.0, 1.0), ("2", cut + 1, end, 2.0, 1.0)],
        columns=segments.columns,
    )
    summary, per_arm = sample_copy_number(pd.concat([segments, extra]), ARMS, arm_fraction=0.9)
    share = (cut - start + 1) / length
    assert share == pytest.approx(0.9, abs=1e-8)
    assert bool(per_arm.set_index("arm").at["2p", "gain"]) == (share >= 0.9 - 1e-9)
    # half of 3p segmented: below min_coverage 0.6, not called
    a3 = arms.loc["3p"]
    half = genome({}).query("not (chrom == '3' and start == 1)")
    half = pd.concat(
        [half, pd.DataFrame([("3", 1, a3["end"] // 2, 1.0, 0.0)], columns=half.columns)]
    )
    _, per_arm = sample_copy_number(half, ARMS, min_coverage=0.6)
    assert per_arm.set_index("arm")["gain"].isna()["3p"]


def test_paired_events_and_tests():
    records = [
        {"sample": f"{p}_{s}", "patient": p, "site": s} for p in ("A", "B") for s in ("PL", "LM")
    ]
    segments = {
        "A_PL": genome({"1q": (3.0, 1.0), "8p": (1.0, 0.0)}),
        "A_LM": genome({"1q": (3.0, 1.0)}),
        "B_PL": genome({}),
        "B_LM": genome({"5p": (4.0, 2.0)}),
    }
    tables = cohort_copy_number(records, segments, ARMS, "PL", "LM")
    paired = tables["paired"]
    a = paired[paired["patient"] == "A"].set_index(["arm", "event"])["class"].to_dict()
    assert a == {
        ("1q", "gain"): "shared",
        ("8p", "loss"): "private_PL",
        ("8p", "loh"): "private_PL",
    }
    b = paired[paired["patient"] == "B"]
    assert b[["arm", "event", "class"]].values.tolist() == [["5p", "gain", "private_LM"]]
    comparison = tables["comparison"].set_index("metric")
    assert comparison.at["n_arm_gains", "n_pairs"] == 2
    assert tables["summary"]["n_arm_gains"].tolist() == [1, 1, 0, 1]
