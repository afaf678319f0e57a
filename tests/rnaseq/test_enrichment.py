"""Gene sets, symbol mapping, GSEA prerank, ORA and ssGSEA of the bulk RNA branch."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from organomics.errors import InputError
from organomics.rnaseq import enrichment, genesets
from organomics.rnaseq.results import signature_long

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_read_gmt_plain_and_gz(tmp_path, repo):
    plain = tmp_path / "s.gmt"
    plain.write_text("A\tdesc\tG1\tG2\tG1\nB\tdesc\tG3\n")
    assert genesets.read_gmt(plain) == {"A": ["G1", "G2"], "B": ["G3"]}
    go = genesets.read_gmt(repo / "resources/genesets/go_bp.gmt.gz")
    study = [name for name in go if name.endswith(("(GO:0019882)", "(GO:0042267)", "(GO:0050852)"))]
    assert len(study) == 3
    assert "CD8A" in go["antigen processing and presentation (GO:0019882)"]
    assert all(10 <= len(genes) <= 500 for genes in go.values())


def test_read_gmt_errors(tmp_path):
    bad = tmp_path / "bad.gmt.gz"
    with gzip.open(bad, "wt") as handle:
        handle.write("A\tdesc\tG1\nA\tdesc\tG2\n")
    with pytest.raises(InputError, match="row 2: gene set 'A' appears twice"):
        genesets.read_gmt(bad)
    with pytest.raises(InputError, match="not found"):
        genesets.read_gmt(tmp_path / "missing.gmt")


def test_ensembl_ids_map_to_symbols(repo):
    table = genesets.read_symbol_table(repo / "resources/rnaseq/ensembl_to_symbol.tsv.gz")
    ids = [
        "ENSG00000153563.16",
        "ENSG00000136167",
        "ENSG00000002586.20_PAR_Y",
        "ENSG99999999999",
        "LCK",
    ]
    symbols = genesets.to_symbols(ids, table)
    assert symbols.tolist() == ["CD8A", "LCP1", "CD99", "", "LCK"]
    # issue 12 finding 1: the index must stay the ids (it became the symbols before)
    assert symbols.index.tolist() == ids


def test_collapse_to_symbols_with_ensembl_versions_and_par_y(repo):
    """Issue 12 finding 1: Ensembl ids (versions, _PAR_Y) collapse by symbol, no reindex crash."""
    table = genesets.read_symbol_table(repo / "resources/rnaseq/ensembl_to_symbol.tsv.gz")
    ids = ["ENSG00000002586.20", "ENSG00000002586.20_PAR_Y", "ENSG00000153563.16"]
    ids.append("ENSG99999999999")
    values = pd.DataFrame({"s1": [5.0, 1.0, 3.0, 7.0], "s2": [4.0, 2.0, 6.0, 8.0]}, index=ids)
    collapsed = enrichment.collapse_to_symbols(values, genesets.to_symbols(ids, table))
    # CD99: the X copy (mean 4.5) beats the _PAR_Y copy (mean 1.5); ENSG99999999999 has no symbol
    assert collapsed.to_dict("index") == {
        "CD99": {"s1": 5.0, "s2": 4.0},
        "CD8A": {"s1": 3.0, "s2": 6.0},
    }


def test_ranking_keeps_strongest_gene_per_symbol():
    results = pd.DataFrame(
        {"gene": ["a", "b", "c", "d"], "symbol": ["X", "X", "Y", ""], "stat": [1.0, -3.0, 2.0, 9.0]}
    )
    ranks = genesets.ranking(results)
    assert ranks.to_dict() == {"Y": 2.0, "X": -3.0}


def test_ora_matches_hypergeometric():
    genes = [f"G{i}" for i in range(200)]
    results = pd.DataFrame(
        {
            "gene": genes,
            "symbol": genes,
            "padj": [0.001] * 20 + [0.5] * 180,
            "log2FoldChange": [-1.0] * 20 + [0.1] * 180,
        }
    )
    sets = {"S": genes[:10] + genes[100:120], "T": genes[150:170]}
    table = enrichment.ora(results, sets, alpha=0.05, lfc=0.5, min_size=5, max_size=100)
    row = table[(table["direction"] == "down") & (table["term"] == "S")].iloc[0]
    # 10 of the 20 down genes are among the 30 genes of S, in a universe of 200.
    expected = stats.hypergeom.sf(10 - 1, 200, 30, 20)
    assert row["overlap"] == "10/30"
    assert row["pvalue"] == pytest.approx(expected, rel=1e-6)
    assert row["size"] == 30
    assert table.columns.tolist() == enrichment.ORA_COLUMNS
    assert set(table["direction"]) == {"down"}
    assert row["leading_edge"] == ";".join(sorted(genes[:10]))


def test_ora_table_is_the_same_whatever_the_hash_seed(tmp_path):
    """gseapy's overlap genes come from a set: without sorting, their order (and ora.tsv)
    changed from run to run with Python's string hash seed."""
    code = (
        "import pandas as pd\n"
        "from organomics.rnaseq import enrichment\n"
        "genes = [f'GENE{i}' for i in range(200)]\n"
        "results = pd.DataFrame({'gene': genes, 'symbol': genes, 'padj': [0.001] * 40 + [0.5] *"
        " 160, 'log2FoldChange': [-1.0] * 40 + [0.1] * 160})\n"
        "sets = {'S': genes[:30] + genes[100:120]}\n"
        "table = enrichment.ora(results, sets, alpha=0.05, lfc=0.5, min_size=5, max_size=100)\n"
        "print(table['leading_edge'].iloc[0])\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(SCRIPTS)}
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1


def test_prerank_recovers_planted_set_and_is_seeded():
    rng = np.random.default_rng(1)
    genes = [f"G{i}" for i in range(1000)]
    ranks = pd.Series(rng.normal(size=1000), index=genes)
    planted = genes[:30]
    ranks[planted] -= 2.5
    sets = {"planted": planted}
    sets.update({f"random{j}": list(rng.choice(genes, 30, replace=False)) for j in range(20)})
    first, raw = enrichment.prerank(ranks, sets, permutations=200, seed=3, min_size=15)
    second, _ = enrichment.prerank(ranks, sets, permutations=200, seed=3, min_size=15)
    pd.testing.assert_frame_equal(first, second)
    top = first.iloc[0]
    assert top["term"] == "planted" and top["nes"] < -2 and top["pvalue"] < 0.01
    assert top["size"] == 30 and first.columns.tolist() == enrichment.GSEA_COLUMNS
    assert len(raw["planted"].run_es) == 1000


def test_prerank_matches_gseapy_prerank():
    """Same NES and leading edges as gseapy.prerank's own wrapper (reference tool); p and FDR
    are gseapy's with (k + 1) / (n + 1), and equal to gseapy's without the + 1."""
    import gseapy

    rng = np.random.default_rng(7)
    genes = [f"G{i}" for i in range(800)]
    ranks = pd.Series(rng.normal(size=800), index=genes)  # continuous: no ties to order
    ranks[genes[:25]] += 1.5
    ranks[genes[25:50]] -= 1.0
    sets = {"up": genes[:25], "down": genes[25:50]}
    sets.update({f"random{j}": list(rng.choice(genes, 20 + j, replace=False)) for j in range(12)})
    ours, raw = enrichment.prerank(
        ranks, sets, permutations=300, seed=11, threads=1, engine="gseapy"
    )
    reference = gseapy.prerank(
        rnk=ranks.sort_values(ascending=False), gene_sets=sets, permutation_num=300,
        min_size=15, max_size=500, seed=11, threads=1, outdir=None, no_plot=True,
        verbose=False,
    ).res2d.set_index("Term")  # fmt: skip
    reference = reference.loc[ours["term"]]
    np.testing.assert_allclose(ours["nes"], reference["NES"].astype(float))
    # gseapy's p = k / n over the n permutations with the observed ES's sign: recover k, add 1
    nulls = {t: np.asarray(raw[t].esnull) for t in ours["term"]}
    same_sign = [int(np.sum(n >= 0 if raw[t].es >= 0 else n < 0)) for t, n in nulls.items()]
    k = np.round(reference["NOM p-val"].astype(float).to_numpy() * same_sign)
    np.testing.assert_allclose(ours["pvalue"], (k + 1) / (np.array(same_sign) + 1))
    plain_p, plain_fdr = enrichment.permutation_pvalues(raw.values(), pseudocount=0)
    np.testing.assert_allclose(
        [plain_p[t] for t in ours["term"]], reference["NOM p-val"].astype(float)
    )
    np.testing.assert_allclose(
        [plain_fdr[t] for t in ours["term"]], reference["FDR q-val"].astype(float)
    )
    # with the + 1, FDRs are made monotone in |NES| within each sign (enrichment.monotone_fdr)
    _, counted_fdr = enrichment.permutation_pvalues(raw.values(), pseudocount=1)
    by_nes = ours.assign(abs_nes=ours["nes"].abs()).sort_values("abs_nes")
    for positive in (True, False):
        side = by_nes[(by_nes["nes"] >= 0) == positive]
        expected = np.minimum.accumulate([counted_fdr[t] for t in side["term"]])
        np.testing.assert_allclose(side["fdr"], expected)
        assert side["fdr"].is_monotonic_decreasing  # more extreme NES, FDR never larger
    assert ours["leading_edge"].tolist() == reference["Lead_genes"].astype(str).tolist()
    assert {"up", "down"} <= set(ours["term"][:2])


def test_prerank_p_never_zero_for_a_set_at_the_top():
    """Issue 12 finding 10: a set at the very top of the ranking gets p = 1 / (n + 1), where n is
    the number of permutations with ES >= 0 (no permuted set reaches ES = 1), never 0."""
    genes = [f"G{i}" for i in range(300)]
    ranks = pd.Series(np.linspace(3.0, -3.0, 300), index=genes)
    sets = {"top": genes[:15], "bottom": genes[-15:]}
    # gseapy engine: its permutation p; the fgsea engine resolves these (test_fgsea.py)
    table, raw = enrichment.prerank(
        ranks, sets, permutations=1000, seed=0, min_size=15, engine="gseapy"
    )
    table = table.set_index("term")
    for term, sign in (("top", 1), ("bottom", -1)):
        null = np.asarray(raw[term].esnull)
        assert raw[term].es == pytest.approx(sign * 1.0)  # every hit before any miss
        n = int((null >= 0).sum() if sign > 0 else (null < 0).sum())
        assert 400 < n < 600  # about half of 1,000 permutations on each side
        assert table.at[term, "pvalue"] == pytest.approx(1 / (n + 1), rel=1e-12)
        assert table.at[term, "fdr"] > 0
    # gseapy itself reports 0 here: the finding
    plain, _ = enrichment.permutation_pvalues(raw.values(), pseudocount=0)
    assert plain["top"] == 0 and plain["bottom"] == 0


def test_prerank_without_usable_sets():
    ranks = pd.Series([1.0, 2.0], index=["A", "B"])
    with pytest.raises(InputError, match="no gene set has 15-500 genes"):
        enrichment.prerank(ranks, {"S": ["X"]})


def test_ssgsea_scores_follow_expression():
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(300)]
    expression = pd.DataFrame(rng.normal(5, 1, (300, 4)), index=genes, columns=list("abcd"))
    expression.loc[genes[:10], "a"] += 5  # signature genes top-ranked in sample a only
    scores = enrichment.ssgsea_scores(expression, {"sig": genes[:10], "absent": ["X1", "X2"]})
    assert scores.columns.tolist() == ["sig"]
    assert scores["sig"].idxmax() == "a"


def test_signature_site_comparison_against_scipy():
    rng = np.random.default_rng(4)
    patients = [f"P{i}" for i in range(10)]
    pl = rng.normal(1, 0.3, 10)
    lm = pl - rng.uniform(0.05, 0.6, 10)
    scores = pd.DataFrame(
        {"sig": np.r_[pl, lm]},
        index=pd.Index(
            [f"{p}_PL" for p in patients] + [f"{p}_LM" for p in patients], name="sample"
        ),
    )
    design = pd.DataFrame(
        {"sample": scores.index, "patient": patients * 2, "site": ["PL"] * 10 + ["LM"] * 10}
    )
    from organomics.stats import paired_site_comparison

    long = signature_long(scores, design)
    row = paired_site_comparison(long, "score", ["signature"], "PL", "LM").iloc[0]
    expected = stats.wilcoxon(lm, pl, method="exact").pvalue
    assert row["n_pairs"] == 10 and row["p_value"] == pytest.approx(expected)


def test_top_terms_alternate_directions():
    table = pd.DataFrame(
        {"term": list("abcde"), "nes": [-2, -1.9, -1.8, 1.5, 1.2], "pvalue": [0, 0, 0, 0.01, 0.02]}
    )
    assert enrichment.top_terms(table, 4) == ["a", "d", "b", "e"]
    assert enrichment.top_terms(table, 10) == ["a", "d", "b", "e", "c"]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(5, 40))
def test_permutation_p_bounds_property(seed, size):
    """For any ranking and set: 1 / (n + 1) <= p <= 1 and p = (k + 1) / (n + 1) with k counted
    by hand from gseapy's null ES; never 0 (issue 12 finding 10)."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(200)]
    ranks = pd.Series(rng.normal(size=200), index=genes)
    sets = {"S": list(rng.choice(genes, size, replace=False))}
    table, raw = enrichment.prerank(ranks, sets, permutations=200, seed=seed, min_size=5)
    null, es = np.asarray(raw["S"].esnull), raw["S"].es
    side = null >= 0 if es >= 0 else null < 0
    k = int(np.sum(side & ((null >= es) if es >= 0 else (null <= es))))
    p = table.loc[0, "pvalue"]
    assert p == pytest.approx((k + 1) / (side.sum() + 1), rel=1e-12)
    assert 1 / (side.sum() + 1) <= p <= 1
