"""WES MAF, neoantigen and cohort-table tests with hand-counted expectations."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from organomics.errors import InputError
from organomics.pairing import simultaneous_patients
from organomics.stats import subset_all
from organomics.summary import findings
from organomics.wes import cohort
from organomics.wes.neoantigens import count_neoantigens, read_neoantigens
from organomics.wes.sample import sample_variants
from organomics.wes.vcf import Filters

DATA = Path(__file__).parent / "data"
MAF = str(DATA / "cohort.maf")
S1, S2 = "TCGA-AA-0001-01A", "TCGA-AA-0001-06A"
# maftools' default vc_nonSyn (tmb(), oncoplot()), written out here independently of the library
MAFTOOLS_NONSYN = {
    "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site", "Translation_Start_Site",
    "Nonsense_Mutation", "Nonstop_Mutation", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation",
}  # fmt: skip


def independent_maf_count(path, barcode, min_depth=10, min_alt=3, min_vaf=0.05):
    """Plain csv count of passing and maftools-non-synonymous rows of one barcode."""
    n_pass = n_nonsyn = 0
    with open(path) as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        for row in rows:
            if row["Tumor_Sample_Barcode"] != barcode or row["FILTER"] not in ("PASS", "."):
                continue
            alt = int(row["t_alt_count"])
            depth = int(row["t_depth"] or int(row["t_ref_count"]) + alt)
            if depth >= min_depth and alt >= min_alt and alt / depth >= min_vaf:
                n_pass += 1
                n_nonsyn += row["Variant_Classification"] in MAFTOOLS_NONSYN
    return n_pass, n_nonsyn


def test_maf_filters_hand_counted():
    table, summary = sample_variants("P1_PL", [MAF], wes_id=S1)
    steps = dict(zip(summary["step"], summary["n"], strict=True))
    assert steps["records"] == 13
    assert (steps["filter"], steps["depth"], steps["alt_reads"], steps["vaf"]) == (1, 1, 1, 1)
    assert len(table) == 9
    assert int(table["nonsynonymous"].sum()) == 6
    assert set(table["chrom"]) >= {"12", "17"}  # 'chr' prefixes normalised


def test_maf_tmb_equals_independent_maftools_count():
    for barcode in (S1, S2):
        table, _ = sample_variants(barcode, [MAF])  # barcode defaults to the sample id
        n_pass, n_nonsyn = independent_maf_count(MAF, barcode)
        assert (len(table), int(table["nonsynonymous"].sum())) == (n_pass, n_nonsyn)
        tmb = cohort.tmb_table(table, [{"sample": barcode, "patient": "P", "site": "PL"}], 2.0)
        assert tmb["tmb"].iloc[0] == pytest.approx(n_nonsyn / 2.0)
    # S2's empty t_depth falls back to t_ref_count + t_alt_count
    assert independent_maf_count(MAF, S2) == (4, 3)


def test_maf_gzipped_and_errors(tmp_path):
    gz = tmp_path / "cohort.maf.gz"
    gz.write_bytes(gzip.compress(Path(MAF).read_bytes()))
    assert len(sample_variants("x", [str(gz)], wes_id=S1)[0]) == 9
    with pytest.raises(InputError, match="no rows with Tumor_Sample_Barcode 'nope'"):
        sample_variants("x", [MAF], wes_id="nope")
    text = Path(MAF).read_text().replace("t_alt_count", "alt_reads")
    bad = tmp_path / "bad.maf"
    bad.write_text(text)
    with pytest.raises(InputError, match="lacks required column.*t_alt_count") as err:
        sample_variants("x", [str(bad)], wes_id=S1)
    assert str(bad) in str(err.value)
    text = Path(MAF).read_text().replace("\t100\t80\t20\tPASS", "\tlots\t80\t20\tPASS", 1)
    bad.write_text(text)
    with pytest.raises(InputError, match="row 4, column 't_depth'"):  # 2 comments + header
        sample_variants("x", [str(bad)], wes_id=S1)
    cut = tmp_path / "cut.maf.gz"
    cut.write_bytes(gz.read_bytes()[:-30])
    with pytest.raises(InputError, match=str(cut)):
        sample_variants("x", [str(cut)], wes_id=S1)


def test_maf_filter_column_optional():
    table, _ = sample_variants("x", [MAF], Filters(pass_only=False), wes_id=S1)
    assert len(table) == 10  # the panel_of_normals row comes back


def test_pvacseq_neoantigens_hand_counted():
    epitopes = read_neoantigens(str(DATA / "pvacseq.all_epitopes.tsv"))
    # Median MT IC50: KRAS 45.2 (twice, 2 transcripts) and 500 pass, 500.01 fails; TP53 120
    # passes, 3000 fails; TTN NA fails -> 3 distinct (variant, peptide, HLA), 2 variants
    assert count_neoantigens(epitopes, 500) == (3, 2)
    assert count_neoantigens(epitopes, 50) == (1, 1)


def test_generic_neoantigens():
    epitopes = read_neoantigens(str(DATA / "generic_neoantigens.csv"))
    assert count_neoantigens(epitopes, 500) == (3, 2)


def test_neoantigen_errors(tmp_path):
    bad = tmp_path / "epitopes.tsv"
    bad.write_text("peptide\tallele\nAAAA\tA2\n")
    with pytest.raises(InputError, match="neither a pVACseq table"):
        read_neoantigens(str(bad))


SAMPLES = [
    {"sample": "P1_PL", "patient": "P1", "site": "PL"},
    {"sample": "P1_LM", "patient": "P1", "site": "LM"},
    {"sample": "P2_PL", "patient": "P2", "site": "PL"},  # unpaired
]


def test_shared_private_drivers_and_tmb():
    pl, _ = sample_variants("P1_PL", [str(DATA / "mutect2_vep.vcf")])
    lm, _ = sample_variants(
        "P1_LM",
        [str(DATA / "strelka2.somatic.snvs.vcf"), str(DATA / "strelka2.somatic.indels.vcf")],
    )
    variants = pd.concat([pl, lm], ignore_index=True)
    shared = cohort.shared_private(variants, SAMPLES, "PL", "LM")
    # both sites carry 1:100 G>T and 1:700 AT>A; PL has 5 more; LM none
    assert shared.to_dict("records") == [
        {"patient": "P1", "shared": 2, "private_PL": 5, "private_LM": 0, "jaccard": 2 / 7}
    ]
    drivers = cohort.drivers_table(variants, SAMPLES, ["KRAS", "TP53", "EGFR", "ALK"], "PL", "LM")
    # Strelka calls carry no annotation, so the LM side has no gene names
    assert drivers.to_dict("records") == [
        {"patient": "P1", "gene": "KRAS", "in_PL": True, "in_LM": False},
        {"patient": "P1", "gene": "TP53", "in_PL": True, "in_LM": False},
        {"patient": "P1", "gene": "EGFR", "in_PL": True, "in_LM": False},
    ]
    tmb = cohort.tmb_table(variants, SAMPLES, 0.5)
    assert tmb["n_pass"].tolist() == [7, 2, 0]
    assert tmb["n_nonsynonymous"].tolist() == [6, 0, 0]
    assert tmb["tmb"].tolist() == [12.0, 0.0, 0.0]


def test_site_comparison_matches_scipy_exact_wilcoxon():
    pl = [3.0, 5.5, 8.0, 2.0, 10.0, 4.0, 6.5]
    lm = [2.0, 6.0, 5.0, 2.7, 7.1, 0.7, 6.1]  # no tied |differences|: scipy exact applies
    rows = []
    for i, (a, b) in enumerate(zip(pl, lm, strict=True)):
        rows += [
            {"sample": f"P{i}_PL", "patient": f"P{i}", "site": "PL", "tmb": a,
             "n_nonsynonymous": int(a * 2)},
            {"sample": f"P{i}_LM", "patient": f"P{i}", "site": "LM", "tmb": b,
             "n_nonsynonymous": int(b * 2)},
        ]  # fmt: skip
    table = cohort.site_comparison(pd.DataFrame(rows), None, "PL", "LM")
    row = table.set_index("metric").loc["tmb"]
    expected = stats.wilcoxon(pl, lm, method="exact")
    assert row["n_pairs"] == 7
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert "Wilcoxon" in row["test"] and "Benjamini" in row["correction"]


def test_site_comparison_simultaneous_subset_matches_scipy_on_those_patients():
    pl = [3.0, 5.5, 8.0, 2.0, 10.0, 4.0, 6.5]
    lm = [2.0, 6.0, 5.0, 2.7, 7.1, 0.7, 6.1]
    # days apart 0, 200, 10, -30, 5, 30, 31: P5 sits exactly on the 30-day boundary (kept), P6 a
    # day past it, P1 far apart
    gaps = [0, 200, 10, -30, 5, 30, 31]
    rows, sheet = [], []
    for i, (a, b, gap) in enumerate(zip(pl, lm, gaps, strict=True)):
        rows += [
            {"patient": f"P{i}", "site": "PL", "tmb": a, "n_nonsynonymous": int(a * 2)},
            {"patient": f"P{i}", "site": "LM", "tmb": b, "n_nonsynonymous": int(b * 2)},
        ]
        sheet += [
            {"sample": f"P{i}_PL", "patient": f"P{i}", "site": "PL", "collection_day": "100"},
            {"sample": f"P{i}_LM", "patient": f"P{i}", "site": "LM", "collection_day": 100 + gap},
        ]
    simultaneous = simultaneous_patients(sheet, "PL", "LM", 30)
    assert simultaneous == ["P0", "P2", "P3", "P4", "P5"]
    table = cohort.site_comparison(pd.DataFrame(rows), None, "PL", "LM", simultaneous)
    assert table["subset"].tolist() == ["all", "all", "simultaneous", "simultaneous"]
    row = table[table["subset"] == "simultaneous"].set_index("metric").loc["tmb"]
    keep = [0, 2, 3, 4, 5]  # |differences| 1, 3, 0.7, 2.9, 3.3: no ties, scipy exact applies
    expected = stats.wilcoxon([pl[i] for i in keep], [lm[i] for i in keep], method="exact")
    assert row["n_pairs"] == 5
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert row["median_difference"] == pytest.approx(np.median([lm[i] - pl[i] for i in keep]))
    # BH within the subset: two metrics, so the "simultaneous" p_adj never uses the "all" p's
    assert row["correction"] == "Benjamini-Hochberg across 2 tests"
    # the "all" rows are the table without collection days, value for value
    before = cohort.site_comparison(pd.DataFrame(rows), None, "PL", "LM")
    assert "subset" not in before.columns
    pd.testing.assert_frame_equal(subset_all(table).drop(columns="subset"), before)
    assert cohort.site_comparison(pd.DataFrame(rows), None, "PL", "LM", None).equals(before)


def test_sbs6_classes():
    assert cohort.sbs6("C", "A") == "C>A"
    assert cohort.sbs6("G", "T") == "C>A"  # reverse complement onto the pyrimidine
    assert cohort.sbs6("A", "G") == "T>C"
    assert cohort.sbs6("AT", "A") == ""
    variants = pd.DataFrame(
        {"sample": ["S"] * 4, "ref": ["C", "G", "T", "AT"], "alt": ["T", "A", "A", "A"]}
    )
    spectrum = cohort.spectrum_table(variants, [{"sample": "S", "patient": "P", "site": "PL"}])
    counts = dict(zip(spectrum["substitution"], spectrum["n"], strict=True))
    assert counts == {"C>A": 0, "C>G": 0, "C>T": 2, "T>A": 1, "T>C": 0, "T>G": 0}


def test_findings_take_the_all_rows_of_a_table_with_subsets():
    rows = []
    for i, (a, b) in enumerate([(3.0, 2.0), (5.5, 6.0), (8.0, 5.0), (2.0, 2.7)]):
        rows += [
            {"patient": f"P{i}", "site": "PL", "tmb": a, "n_nonsynonymous": 1},
            {"patient": f"P{i}", "site": "LM", "tmb": b, "n_nonsynonymous": 2},
        ]
    table = cohort.site_comparison(pd.DataFrame(rows), None, "PL", "LM", ["P0", "P2"])
    got = findings.paired_rows("wes", table, lambda r: r["metric"], "PL", "LM", "difference")
    # one row per measure (not doubled), from the 4 pairs: PL - LM medians by hand 4.25, 3.85
    assert [r["measure"] for r in got] == ["tmb", "n_nonsynonymous"]
    assert got[0]["n"] == 4
    assert got[0]["value_PL"] == pytest.approx(4.25) and got[0]["value_LM"] == pytest.approx(3.85)
