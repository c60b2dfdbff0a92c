import csv
import io

from reportkit.export import rows_to_csv, write_csv

SALES = [
    {"region": "East", "total": 10.5, "manager": "Ann"},
    {"region": "North", "total": 7, "manager": None},
    {"region": "West", "total": 12, "manager": "Bo"},
]


def parse(text):
    return list(csv.reader(io.StringIO(text)))


def test_header_uses_first_row_keys():
    assert parse(rows_to_csv(SALES))[0] == ["region", "total", "manager"]


def test_all_rows_are_exported():
    lines = parse(rows_to_csv(SALES))
    assert [line[0] for line in lines[1:]] == ["East", "North", "West"]


def test_single_row_report():
    assert rows_to_csv([{"region": "East", "total": 3}]) == "region,total\nEast,3\n"


def test_missing_values_are_blank():
    lines = parse(rows_to_csv(SALES))
    assert lines[2] == ["North", "7", ""]


def test_values_with_commas_are_quoted():
    rows = [{"name": "Smith, J.", "n": 1}, {"name": "Doe", "n": 2}]
    assert rows_to_csv(rows).splitlines()[1] == '"Smith, J.",1'


def test_explicit_columns_order():
    text = rows_to_csv(SALES, columns=["total", "region"])
    assert parse(text)[:2] == [["total", "region"], ["10.50", "East"]]


def test_empty_report():
    assert rows_to_csv([]) == ""


def test_write_csv_returns_row_count(tmp_path):
    out = tmp_path / "sales.csv"
    assert write_csv(out, SALES) == 3
    assert out.read_text(encoding="utf-8").count("\n") == 4
