"""read_table on what spreadsheets and tools write: each variant read as meant, or a clear error."""

from __future__ import annotations

import gzip

import pytest

from organomics.errors import InputError
from organomics.tables import read_table

EXPECTED = [["P1", "10", "a,b"], ["P2", "20", "c"]]


@pytest.mark.parametrize(
    "text",
    [
        "id\tn\tnote\nP1\t10\ta,b\nP2\t20\tc\n",
        "id\tn\tnote\t\nP1\t10\ta,b\t\nP2\t20\tc\t\n",  # trailing tab everywhere
        "id\tn\tnote\nP1\t10\ta,b\t\nP2\t20\tc\n",  # trailing tab on one data row
        "id\tn\tnote\nP1\t10\ta,b\nP2\t20\tc\t\t\n",  # two on a later row
        "\ufeffid\tn\tnote\r\nP1\t10\ta,b\r\nP2\t20\tc\r\n",  # BOM + CRLF
        'id\tn\tnote\n"P1"\t"10"\t"a,b"\nP2\t20\t"c"\n',  # quoted cells
    ],
)
def test_variants_read_as_meant(tmp_path, text):
    path = tmp_path / "table.tsv"
    path.write_bytes(text.encode())
    table = read_table(path)
    assert table.columns.tolist() == ["id", "n", "note"]
    assert table.to_numpy().tolist() == EXPECTED


def test_csv_with_quoted_comma_and_trailing_comma(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text('id,n,note,\nP1,10,"a,b",\nP2,20,c,\n')
    assert read_table(path).to_numpy().tolist() == EXPECTED


def test_comment_lines_and_skiprows_keep_line_numbers(tmp_path):
    path = tmp_path / "fc.txt"
    path.write_text("# Program:featureCounts\nid\tn\nA\t1\nB\t2\tx\n")
    with pytest.raises(InputError, match=r"row 4: 3 fields where the header names 2"):
        read_table(path, skiprows=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id\tn\nP1\t10\textra\n", r"row 2: 3 fields where the header names 2 columns"),
        ("id\tn\nP1\t10\nP2\t20\t5\n", r"row 3: 3 fields where the header names 2 columns"),
        ("id\t\tn\nP1\t3\t10\n", r"row 2: column 2 has values \(e.g. '3'\) but no name"),
        ("id\tn\tid\nP1\t10\tP2\n", r"row 1: the header names column\(s\) id twice"),
        ("", r"the file is empty"),
    ],
)
def test_malformed_tables_name_row_or_column(tmp_path, text, message):
    path = tmp_path / "table.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(b"id\tn\n" + b"P1\t10\n" * 1000)
    path = tmp_path / "table.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="is it truncated"):
        read_table(path)


def test_missing_required_column(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("id\tn\nP1\t1\n")
    with pytest.raises(InputError, match=r"missing required column\(s\) site; found id, n"):
        read_table(path, required=["id", "site"])
