"""Reading a CSV export as it comes: any common delimiter, UTF-8 (with or without
BOM) or UTF-16, quoted fields over several lines, blank lines, and a header whose
names are matched to Keepwell's fields through well-known aliases.

Every data row comes with the line it starts on, so errors can say FILE:LINE.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from keepwell.errors import ImportRejected, RowError

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
# The longest value a column Keepwell reads may hold, on every import path (a longer
# one is refused with its line and column: importer.RunState.oversized, and the fast
# path's check in orders_fast).
MAX_FIELD_CHARS = 100_000
# What the CSV reader itself takes in one field of any column, read or not: it bounds
# the memory a malformed file (an unclosed quote) can take.
READ_LIMIT_CHARS = 100 * MAX_FIELD_CHARS

csv.field_size_limit(READ_LIMIT_CHARS)


def normalize_header(name: str) -> str:
    """`Customer ID`, `customer-id` and ` customer_id ` all become `customer_id`."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def detect_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head[:4096]:
        # UTF-16 without a BOM: ASCII text has NUL in every other byte.
        even, odd = head[0:4096:2].count(0), head[1:4096:2].count(0)
        if odd > even:
            return "utf-16-le"
        if even > odd:
            return "utf-16-be"
    return "utf-8"


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into most columns and the rows alike."""
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-row
    if not lines:
        return ","
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        same = sum(1 for row in rows if len(row) == width) / len(rows)
        score = (same, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def encoding_error(path: Path, encoding: str) -> RowError:
    """Where the first byte that is not `encoding` text sits — the byte, its line and its
    column (in characters, from 1) — as a row error."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line, column, bad = 1, 1, "??"
    with path.open("rb") as raw:
        for chunk in iter(lambda: raw.read(65536), b""):
            state = decoder.getstate()
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start counts in what the decoder looked at (exc.object): the bytes
                # of a character cut at the last chunk's end, then this chunk — or, for
                # utf-8-sig, the file after its BOM — not in the chunk itself
                seen: bytes = exc.object
                bad = seen[exc.start : exc.start + 1].hex().upper()
                before = codecs.getincrementaldecoder(encoding)(errors="strict")
                before.setstate((b"", state[1]))
                line, column = _advance(line, column, before.decode(seen[: exc.start]))
                break
            line, column = _advance(line, column, text)
    return RowError(
        str(path),
        line,
        "",
        f"not valid {encoding} text (byte 0x{bad} at column {column} of the line); save "
        "the file as UTF-8, or name its encoding with --encoding (e.g. --encoding cp1252)",
    )


def _advance(line: int, column: int, text: str) -> tuple[int, int]:
    """The line and column just after `text`, read from `line` and `column`."""
    breaks = text.count("\n")
    if not breaks:
        return line, column + len(text)
    return line + breaks, len(text) - text.rindex("\n")


@dataclass(frozen=True)
class FieldSpec:
    """A field Keepwell reads from a file, and the header names that mean it."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False


@dataclass
class CsvFile:
    """An open CSV file with its header mapped to fields. Iterate for (line, row)."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    columns: dict[str, int]  # field name -> column index
    ignored: list[str]
    size: int
    header_lines: int  # physical lines up to and including the header
    _raw: IO[bytes]
    _text: io.TextIOWrapper
    _reader: Any  # a csv reader (its line_num tells where a row ends)
    rows_read: int = field(default=0)

    @property
    def name(self) -> str:
        return str(self.path)

    def column_name(self, field_name: str) -> str:
        return self.header[self.columns[field_name]]

    def bytes_read(self) -> int:
        return self._raw.tell()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for lines, rows in self.batches(1000):
            yield from zip(lines, rows, strict=True)

    def batches(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        """Data rows in lists of `size`, with the line each starts on; blank lines skipped.

        A row of the wrong width is passed on: the caller reports it with its line.
        """
        reader = self._reader
        width = len(self.header)
        last = reader.line_num
        lines: list[int] = []
        rows: list[list[str]] = []
        try:
            for row in reader:
                start, last = last + 1, reader.line_num
                if not row or (not row[0] and len(row) <= width and not "".join(row).strip()):
                    continue  # a blank line
                lines.append(start)
                rows.append(row)
                if len(rows) >= size:
                    self.rows_read += len(rows)
                    yield lines, rows
                    lines, rows = [], []
        except UnicodeDecodeError as exc:
            raise ImportRejected([encoding_error(self.path, self.encoding)]) from exc
        except csv.Error as exc:
            raise ImportRejected(
                [RowError(self.name, last + 1, "", f"unreadable CSV: {exc}")]
            ) from exc
        self.rows_read += len(rows)
        if rows:
            yield lines, rows

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_csv(
    path: Path,
    fields: list[FieldSpec],
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    alternatives: list[tuple[str, ...]] | None = None,
) -> CsvFile:
    """Open `path`, detect its encoding and delimiter, and map its header to `fields`.

    `mapping` overrides aliases (`{"amount": "Gross Sales"}`). `alternatives` lists
    groups of fields of which at least one must be present (e.g. id or email).
    Problems with the header raise ImportRejected naming line 1.
    """
    name = str(path)
    if not path.is_file():
        raise ImportRejected([RowError(name, 0, "", "no such file")])
    raw = path.open("rb")
    try:
        head = raw.read(SAMPLE_BYTES)
        raw.seek(0)
        if not head.strip():
            raise ImportRejected([RowError(name, 1, "", "the file is empty")])
        enc = encoding or detect_encoding(head)
        try:
            sample = head.decode(enc, errors="strict")
        except UnicodeDecodeError as exc:
            cut = len(head) - len(exc.object) + exc.start  # exc.object: after a BOM
            if len(head) < SAMPLE_BYTES or cut < len(head) - 4:
                raise ImportRejected([encoding_error(path, enc)]) from exc
            sample = head[:cut].decode(enc)  # a character cut at the sample's end
        except LookupError as exc:
            raise ImportRejected([RowError(name, 0, "", f"unknown encoding {enc!r}")]) from exc
        sample = sample.lstrip("\ufeff")
        delimiter = sniff_delimiter(sample)
        text = io.TextIOWrapper(raw, encoding=enc, newline="", errors="strict")
    except BaseException:
        raw.close()
        raise
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header: list[str] = []
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except StopIteration:
        text.close()
        raise ImportRejected([RowError(name, 1, "", "the file has no header row")]) from None
    except UnicodeDecodeError as exc:
        text.close()
        raise ImportRejected([encoding_error(path, enc)]) from exc
    except csv.Error as exc:
        text.close()
        raise ImportRejected([RowError(name, 1, "", f"unreadable header: {exc}")]) from exc
    header = [h.lstrip("\ufeff").strip() for h in header]
    try:
        columns, ignored = map_header(name, header, fields, mapping or {}, alternatives or [])
    except ImportRejected:
        text.close()
        raise
    return CsvFile(
        path=path,
        encoding=enc,
        delimiter=delimiter,
        header=header,
        columns=columns,
        ignored=ignored,
        size=path.stat().st_size,
        header_lines=reader.line_num,
        _raw=raw,
        _text=text,
        _reader=reader,
    )


def map_header(
    name: str,
    header: list[str],
    fields: list[FieldSpec],
    mapping: Mapping[str, str],
    alternatives: list[tuple[str, ...]],
) -> tuple[dict[str, int], list[str]]:
    normalized = [normalize_header(h) for h in header]
    known = {spec.name: spec for spec in fields}
    errors: list[RowError] = []
    columns: dict[str, int] = {}
    for field_name, column in mapping.items():
        if field_name not in known:
            errors.append(
                RowError(
                    name,
                    1,
                    "",
                    f"--map names an unknown field {field_name!r}; fields are: " + ", ".join(known),
                )
            )
            continue
        wanted = normalize_header(column)
        if wanted not in normalized:
            errors.append(
                RowError(
                    name,
                    1,
                    column,
                    f"--map {field_name}={column}: no such column; the header has: "
                    + ", ".join(header),
                )
            )
            continue
        columns[field_name] = normalized.index(wanted)
    taken = set(columns.values())
    for spec in fields:
        if spec.name in columns:
            continue
        for alias in (spec.name, *spec.aliases):
            if alias in normalized and normalized.index(alias) not in taken:
                columns[spec.name] = normalized.index(alias)
                taken.add(columns[spec.name])
                break
    for field_name, index in columns.items():  # a field read from a name given twice
        twin = next(
            (i for i, n in enumerate(normalized) if n == normalized[index] and i != index), None
        )
        if twin is not None:
            first, second = sorted((index, twin))
            names = (
                f"{header[first]!r} twice"
                if header[first] == header[second]
                else f"{header[first]!r} and {header[second]!r}"
            )
            errors.append(
                RowError(
                    name,
                    1,
                    "",
                    f"the header has {names} (columns {first + 1} and {second + 1}): "
                    f"which one is {field_name}? Rename or remove one",
                )
            )
    for spec in fields:
        if spec.required and spec.name not in columns:
            errors.append(
                RowError(
                    name,
                    1,
                    "",
                    f"no column for {spec.name} (looked for: "
                    f"{', '.join((spec.name, *spec.aliases))}); the header has: "
                    f"{', '.join(header)}; name it with --map {spec.name}=COLUMN",
                )
            )
    for group in alternatives:
        if not any(f in columns for f in group):
            errors.append(
                RowError(
                    name,
                    1,
                    "",
                    f"the file needs a column for one of: {', '.join(group)}; the header has: "
                    f"{', '.join(header)}",
                )
            )
    if errors:
        raise ImportRejected(errors)
    ignored = [h for i, h in enumerate(header) if i not in taken and h]
    return columns, ignored
