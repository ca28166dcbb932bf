"""`keepwell model fit --summary FILE`: Arrow reads a clean file, the csv module a dirty
one; both give the same numbers, and bad rows are named by line and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from keepwell.analytics import Summary, summary_from_transactions
from keepwell.cli import app
from keepwell.errors import ImportRejected, InvalidInput
from keepwell.scoring import summary_csv
from keepwell.scoring.summary_csv import SummaryRejected, read_summary_csv
from tests.analytics.conftest import CALIBRATION_END
from tests.conftest import CDNOW

COLUMNS = ("frequency", "recency", "T", "monetary_value")


@pytest.fixture(scope="module")
def cdnow() -> Summary:
    orders = np.genfromtxt(CDNOW, delimiter=",", names=True, dtype=None, encoding="utf-8")
    return summary_from_transactions(
        orders["customer_id"], orders["order_date"], orders["amount"], CALIBRATION_END
    )


def write(path: Path, s: Summary) -> Path:
    rows = zip(
        s.frequency.tolist(),
        s.recency.tolist(),
        s.T.tolist(),
        s.monetary_value.tolist(),
        strict=True,
    )
    path.write_text(
        "frequency,recency,T,monetary_value\n"
        + "".join(f"{x},{r!r},{t!r},{m!r}\n" for x, r, t, m in rows)
    )
    return path


def assert_same(got: Summary, want: Summary) -> None:
    for name in COLUMNS:
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert got.frequency.dtype == np.int64


def test_a_clean_file_takes_the_fast_path_and_reads_exactly(tmp_path: Path, cdnow: Summary) -> None:
    path = write(tmp_path / "summary.csv", cdnow)
    header = summary_csv._read_header(path)
    assert summary_csv._read_fast(path, header) is not None  # Arrow, not the csv module
    fast = read_summary_csv(path, "week")
    assert_same(fast, cdnow)
    careful = summary_csv._read_careful(path, header)
    for name in COLUMNS:
        assert np.array_equal(careful[name], getattr(cdnow, name)), name


def test_quirks_the_csv_module_accepted_are_still_accepted(tmp_path: Path) -> None:
    """A byte-order mark, padded names, extra and reordered columns, quotes, blank lines,
    spaces around numbers, exponents, extra cells: the careful path reads them as before."""
    path = tmp_path / "summary.csv"
    path.write_text(
        "\ufeffid, T ,frequency,note,recency\n"
        '1,20,2,"a, b",10.5\n'
        "\n"
        '2," 3.5e1",0,,0\n'
        "3,1E1,1,x,1e1,surplus\n",
        encoding="utf-8",
    )
    header = summary_csv._read_header(path)
    assert summary_csv._read_fast(path, header) is None  # Arrow refuses " 3.5e1" and the surplus
    s = read_summary_csv(path, "day")
    assert s.frequency.tolist() == [2, 0, 1]
    assert s.recency.tolist() == [10.5, 0.0, 10.0]
    assert s.T.tolist() == [20.0, 35.0, 10.0]
    assert s.monetary_value.tolist() == [0.0, 0.0, 0.0]  # no such column
    assert s.unit == "day"
    # the same file without the quirks Arrow refuses goes the fast way, to the same numbers
    path.write_text(
        '\ufeffid, T ,frequency,note,recency\n1,20,2,"a, b",10.5\n\n2,3.5e1,0,,0\n3,1E1,1,x,1e1\n',
        encoding="utf-8",
    )
    assert summary_csv._read_fast(path, summary_csv._read_header(path)) is not None
    again = read_summary_csv(path, "day")
    for name in COLUMNS:
        assert np.array_equal(getattr(again, name), getattr(s, name)), name


def test_many_bad_rows_show_the_first_twenty_and_the_count(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency,T\n" + "1,2,3\n" * 5 + "1,2,\n" * 30)
    with pytest.raises(SummaryRejected) as caught:
        read_summary_csv(path, "week")
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}:7: column T: '' is not a number"
    assert lines[19] == f"{path}:26: column T: '' is not a number"
    assert lines[20:] == ["… and 10 more bad rows", "rejected: 30 bad rows; nothing was fitted"]
    assert isinstance(caught.value, ImportRejected)  # reported the way imports are


def test_a_short_row_and_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency,T\n1,2,3\n1,2\n")
    with pytest.raises(
        SummaryRejected, match=r":3: column T: missing \(the row has 2 of 3 cells\)"
    ):
        read_summary_csv(path, "week")
    path.write_bytes(b"frequency,recency,T\n1,2,3\n1,2,3\n0,0,\xe9\n")
    with pytest.raises(SummaryRejected, match=r"summary.csv:4: not UTF-8 text"):
        read_summary_csv(path, "week")


def test_missing_columns_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,T\n1,3\n")
    with pytest.raises(InvalidInput, match=r"missing column\(s\) recency"):
        read_summary_csv(path, "week")
    with pytest.raises(InvalidInput, match="cannot read"):
        read_summary_csv(tmp_path / "nowhere.csv", "week")
    path.write_text("")
    with pytest.raises(InvalidInput, match=r"missing column\(s\) frequency, recency, T"):
        read_summary_csv(path, "week")


def test_a_file_without_customers_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency,T\n")
    result = CliRunner().invoke(app, ["model", "fit", "--summary", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: BG/NBD: needs at least 10 customers, got 0"
