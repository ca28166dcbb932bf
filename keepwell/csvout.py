"""The one way Keepwell writes CSV for people: reports (`keepwell report … --csv`), the
customers export (`/customers/export.csv`) and an import's rejects file.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula — so a
customer who calls themselves `=HYPERLINK("http://evil.example", "Click")` would put a
live link (or worse) in the file of whoever opens the export (CSV injection). Every
text cell that a spreadsheet could read as a formula is written with a leading
apostrophe, which spreadsheets show as text and do not display. Numbers stay numbers
(a negative amount is not text), times are ISO 8601, None is an empty cell.

The rejects file of an import is the one exception (`verbatim=True`): it holds the
bad rows of the user's own file exactly as they were, so that the fixed rows can be
imported again; it adds nothing the input file did not already hold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TextIO

# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula:
# its first character, also after leading spaces or control characters; the full-width
# forms count too (some spreadsheets read them as their ASCII twins).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# Cells starting with these are escaped whatever follows (OWASP's advice: a tab or a
# line break first can hide a formula from someone looking at the file).
ALWAYS_ESCAPED = frozenset("\t\r\n")
LEADING = " " + "".join(map(chr, range(32))) + "\x7f"  # skipped before looking for one
Cell = str | int | float | Decimal


def cell(value: Any, *, verbatim: bool = False) -> Cell:
    """A value as a CSV cell: None → "", a time → ISO 8601, a number as it is, text that
    a spreadsheet would run as a formula → with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool too: True / False
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value)
    if verbatim or not text:
        return text
    if text[0] in ALWAYS_ESCAPED:
        return "'" + text
    if text.lstrip(LEADING)[:1] in FORMULA_STARTS:
        return "'" + text
    return text


class CsvWriter:
    """Rows written to `stream` as CSV (RFC 4180 quoting), every value through `cell`."""

    def __init__(
        self, stream: TextIO, *, lineterminator: str = "\r\n", verbatim: bool = False
    ) -> None:
        self._writer = csv.writer(stream, lineterminator=lineterminator)
        self._verbatim = verbatim

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow([cell(v, verbatim=self._verbatim) for v in values])

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.row(values)


def write(
    stream: TextIO,
    header: Sequence[str],
    rows: Iterable[Iterable[Any]],
    *,
    lineterminator: str = "\r\n",
) -> None:
    """A whole table: the header, then the rows."""
    writer = CsvWriter(stream, lineterminator=lineterminator)
    writer.row(header)
    writer.rows(rows)


def chunks(
    header: Sequence[str], rows: Iterable[Iterable[Any]], *, rows_per_chunk: int = 500
) -> Iterator[str]:
    """A table as pieces of CSV text of `rows_per_chunk` rows each (for a streamed
    download: the rows are read while the file is being sent)."""
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.row(header)
    for n, values in enumerate(rows, 1):
        writer.row(values)
        if n % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
