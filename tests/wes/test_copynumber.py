"""Copy-number readers on real tool outputs (FACETS, ASCAT, PureCN, CNVkit) and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from organomics.errors import InputError
from organomics.wes.copynumber import check_segments, read_segments, segment_at

CN = Path(__file__).parent / "data" / "cn"


def row(table, chrom, start):
    hit = table[(table["chrom"] == chrom) & (table["start"] == start)]
    assert len(hit) == 1, (chrom, start)
    return hit.iloc[0]


def test_facets_cohort_cncf_picks_the_sample_and_names_x():
    table = read_segments(str(CN / "facets_cohort_excerpt.cncf"), "s_67")
    assert len(table) == 76  # the s_67 rows of the file; the s_37 rows are left out
    first = row(table, "1", 1001177)
    assert (first["end"], first["total_cn"], first["minor_cn"]) == (16255758, 2, 0)
    assert math.isnan(row(table, "1", 16256100)["minor_cn"])  # lcn.em NA
    # FACETS numbers X as 23: tcn.em 2, lcn.em NA / 1 / NA
    x = table[table["chrom"] == "X"]
    assert x["start"].tolist() == [450950, 53230850, 139586617]
    assert x["minor_cn"].fillna(-1).tolist() == [-1, 1, -1]
    assert check_segments(str(CN / "facets_cohort_excerpt.cncf"), "s_67") == "FACETS cncf"


def test_facets_cohort_without_sample_id_is_refused():
    with pytest.raises(InputError, match="several samples.*s_67.*s_37"):
        read_segments(str(CN / "facets_cohort_excerpt.cncf"))


def test_ascat_segments_total_is_major_plus_minor():
    path = str(CN / "ascat_A17.segments.txt")
    table = read_segments(path, "A17F-0095_CRUK_PC_0095_M5")
    assert len(table) == 636
    first = row(table, "1", 10583)  # nMajor 3, nMinor 2
    assert (first["end"], first["total_cn"], first["minor_cn"]) == (936674, 5, 2)
    assert table["minor_cn"].notna().all()
    assert (np.diff(table[table["chrom"] == "1"]["start"]) > 0).all()


def test_purecn_loh_csv():
    table = read_segments(str(CN / "purecn_example_loh.csv"))
    assert len(table) == 48
    first = row(table, "1", 114515871)  # C 2, M 0: copy-neutral LOH of 1p
    assert (first["end"], first["total_cn"], first["minor_cn"]) == (121535434, 2, 0)
    assert math.isnan(row(table, "10", 72604230)["minor_cn"])  # M NA: no SNP in the segment
    assert row(table, "10", 72604230)["total_cn"] == 1
    assert int(table["minor_cn"].isna().sum()) == 10


def test_cnvkit_call_cns_is_made_one_based_and_boundary_bases_given_once():
    table = read_segments(str(CN / "cnvkit_tr95t.call.cns"))
    assert len(table) == 124
    first = row(table, "1", 10501)  # 0-based 10500
    assert (first["end"], first["total_cn"], first["minor_cn"]) == (2421341, 2, 1)
    # 0-based [2433501, 18617471) then [18617470, 21479562): the shared base 18617471 stays
    # with the first segment
    assert row(table, "1", 2433502)["end"] == 18617471
    trimmed = row(table, "1", 18617472)
    assert (trimmed["end"], trimmed["total_cn"], trimmed["minor_cn"]) == (21479562, 1, 0)
    assert math.isnan(row(table, "1", 2422583)["minor_cn"])  # no BAF: cn1/cn2 empty
    for chrom, group in table.groupby("chrom"):
        assert (group["start"].to_numpy()[1:] > group["end"].to_numpy()[:-1]).all(), chrom


def test_cnvkit_without_baf_gives_total_only():
    table = read_segments(str(CN / "cnvkit_tr95t_nobaf.call.cns"))
    assert len(table) == 124 and table["minor_cn"].isna().all()
    assert row(table, "1", 2422583)["total_cn"] == 3


def test_sequenza_both_layouts_and_generic():
    seq = read_segments(str(CN / "sequenza_segments.txt"))
    assert seq[["chrom", "start", "end"]].iloc[2].tolist() == ["2", 41205, 243152000]
    assert seq[["total_cn", "minor_cn"]].iloc[2].tolist() == [2, 0]  # CNt 2, B 0: LOH
    assert math.isnan(seq["minor_cn"].iloc[3])  # A, B NA
    quoted = read_segments(str(CN / "sequenza2_quoted_segments.txt"))
    assert quoted[["chrom", "start", "total_cn", "minor_cn"]].iloc[0].tolist() == ["7", 19111, 3, 1]
    generic = read_segments(str(CN / "generic_segments.tsv"))
    assert generic["chrom"].tolist() == ["1", "1", "2", "3"]
    assert generic["start"].tolist() == [1, 120000001, 1, 1]
    assert math.isnan(generic["minor_cn"].iloc[3])


def test_generic_without_minor_column(tmp_path):
    path = tmp_path / "total.tsv"
    path.write_text("chrom\tstart\tend\ttotal_cn\n1\t100\t200\t3\n")
    table = read_segments(str(path))
    assert table["total_cn"].tolist() == [3] and table["minor_cn"].isna().all()


def write(tmp_path, text, name="seg.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


HEADER = "chrom\tstart\tend\ttotal_cn\tminor_cn\n"


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("1\t100\t200\t2\t1\n1\t1x0\t300\t2\t1\n", r"row 3, column 'start'.*'1x0'"),
        ("1\t100\t200\ttwo\t1\n", r"row 2, column 'total_cn'.*'two'"),
        ("1\t300\t200\t2\t1\n", r"row 2, column 'end'.*ends \(200\) before it starts \(300\)"),
        ("1\t100\t200\t2\t1\n1\t150\t300\t2\t1\n", r"row 3.*overlaps the segment of line 2"),
        ("1\t100\t200\t2\t3\n", r"row 2, column 'minor_cn'.*outside 0..total"),
        ("1\t100\t200\t-1\t0\n", r"row 2, column 'total_cn'.*negative"),
    ],
)
def test_bad_segments_name_line_and_column(tmp_path, body, pattern):
    path = write(tmp_path, HEADER + body)
    with pytest.raises(InputError, match=pattern) as caught:
        read_segments(path)
    assert path in str(caught.value)


def test_unknown_header_lists_the_formats(tmp_path):
    path = write(tmp_path, "contig\tfrom\tto\tcopies\n1\t1\t2\t2\n")
    with pytest.raises(InputError, match=r"row 1: unknown copy-number segment format.*CNVkit"):
        read_segments(path)


def test_overlap_in_a_one_based_format_is_not_trimmed(tmp_path):
    # a one-base overlap is CNVkit's artefact only; in a 1-based table it is a real conflict
    path = write(tmp_path, HEADER + "1\t100\t200\t2\t1\n1\t200\t300\t3\t1\n")
    with pytest.raises(InputError, match="overlaps .* by 1 base"):
        read_segments(path)


def test_segment_lookup_is_inclusive_at_both_ends():
    table = read_segments(str(CN / "generic_segments.tsv"))
    found = segment_at(
        table,
        ["1", "1", "1", "2", "4", "3"],
        [120000000, 120000001, 248956423, 1, 5, 198295559],
    )
    assert found.tolist() == [0, 1, -1, 2, -1, 3]
