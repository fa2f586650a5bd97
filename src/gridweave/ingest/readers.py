"""Read an extract file as its contract says, in chunks of string columns with line numbers.

Whole-file problems (empty, wrong encoding, header lacking a contract column) raise ExtractError
or ContractError before anything is written. Row problems (ragged or truncated lines, broken JSON)
come back as `BadRow`s for the quarantine, and reading goes on.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import polars as pl

from gridweave.core.errors import ExtractError
from gridweave.ingest.contracts import Contract, check_header

LINE = "_line"  # the column that carries each row's line number in the file


@dataclass
class BadRow:
    """A row that could not be read into the contract's columns, kept for the quarantine."""

    line: int
    row: dict[str, Any]
    problem: str


@dataclass
class Chunk:
    """Up to `chunk_rows` rows: one String column per contract column, plus `_line`."""

    frame: pl.DataFrame
    bad_rows: list[BadRow] = field(default_factory=list)
    bytes_read: int = 0  # how far into the file this chunk reaches (for progress)


def _python_codec(encoding: str) -> str:
    return {"utf-8": "utf-8-sig", "gbk": "gb18030"}.get(encoding, encoding)


def _locate_decode_error(path: Path, encoding: str) -> str:
    """Name the first line that does not decode, and guess the encoding the file is really in."""
    decoder = codecs.getincrementaldecoder(_python_codec(encoding))()
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                bad = line[exc.start : exc.start + 4].hex(" ")
                guess = ""
                for other in ("utf-8", "gb18030"):
                    if other != _python_codec(encoding).replace("-sig", ""):
                        try:
                            line.decode(other)
                            guess = f"; the line does decode as {other.upper()}"
                            break
                        except UnicodeDecodeError:
                            pass
                return f"line {number}, byte {exc.start + 1} (bytes {bad}){guess}"
    return "the last line (the file ends inside a multi-byte character: truncated?)"


def _encoding_error(path: Path, contract: Contract) -> ExtractError:
    where = _locate_decode_error(path, contract.file.encoding)
    return ExtractError(
        f"{path}: not valid {contract.file.encoding.upper()} at {where}",
        hint=f"set 'file: encoding:' in contract '{contract.name}' to the file's real encoding"
        " (utf-8, utf-8-sig, gb18030, gbk), or ask the department to re-export it;"
        " nothing was ingested",
    )


def read_extract(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    """Yield the extract's rows in chunks; raise before the first chunk if the file is unusable."""
    if not path.is_file():
        raise ExtractError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ExtractError(
            f"{path}: the file is empty (0 bytes)",
            hint="the export probably failed; ask the department to export it again",
        )
    fmt = contract.file.format
    if fmt == "csv":
        return _read_csv(path, contract, chunk_rows)
    if fmt == "jsonl":
        return _read_jsonl(path, contract, chunk_rows)
    return _read_xlsx(path, contract, chunk_rows)


def _frame(columns: list[str], rows: list[list[str | None]], lines: list[int]) -> pl.DataFrame:
    data: dict[str, Any] = {LINE: pl.Series(LINE, lines, dtype=pl.Int64)}
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for name, values in zip(columns, transposed, strict=True):
        data[name] = pl.Series(name, values, dtype=pl.String)
    return pl.DataFrame(data).with_columns(_blank_as_null(c) for c in columns)


def _blank_as_null(column: str) -> pl.Expr:
    """A cell of only white space is missing; any other cell is kept exactly as sent."""
    col = pl.col(column).cast(pl.String)
    return pl.when(col.str.strip_chars() == "").then(None).otherwise(col).alias(column)


def _read_csv(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    if not _has_byte_seq(path, b'"'):
        return _read_plain_csv(path, contract, chunk_rows)
    return _read_quoted_csv(path, contract, chunk_rows)


BLOCK_BYTES = 32 << 20
# the first block is small: no chunk can be staged, nor anything written, before its block is
# read and split (a whole 32 MB block of a police register: ~0.5 s before the first write)
FIRST_BLOCK_BYTES = 1 << 20


def _block_sizes() -> Iterator[int]:
    return itertools.chain([FIRST_BLOCK_BYTES], itertools.repeat(BLOCK_BYTES))


def _whole_line_blocks(fh: BinaryIO) -> Iterator[bytes]:
    """The rest of `fh` in blocks of `_block_sizes()` bytes, each carried on to the end of the
    line it stops in (so only the last may end without a line end); none empty. A block is
    copied once, where its line's end is added (cutting blocks at their last line end instead
    copied the whole file three times: ~125,000 more page faults for a 190 MB register)."""
    for size in _block_sizes():
        block = fh.read(size)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += fh.readline()
        yield block


def _read_plain_csv(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    """CSV without quotes: split whole blocks of lines in polars, not a Python loop per row."""
    codec = _python_codec(contract.file.encoding)
    sep = contract.file.delimiter
    fh = path.open("rb")
    first = fh.readline()
    try:
        header_text = first.decode(codec)
    except UnicodeDecodeError:
        fh.close()
        raise _encoding_error(path, contract) from None
    header = [h.strip().lstrip("\ufeff") for h in header_text.rstrip("\r\n").split(sep)]
    if not header_text.strip():
        fh.close()
        raise ExtractError(f"{path}: the file has no header line")
    try:
        check_header(contract, header, str(path))
    except Exception:
        fh.close()
        raise
    wanted = contract.columns()
    index = [header.index(c) for c in wanted]
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        line_offset = 1  # lines consumed so far (the header)
        total = 0
        with fh:
            for block in _whole_line_blocks(fh):
                try:
                    lines = _block_lines(block, codec)
                except UnicodeDecodeError:
                    raise _encoding_error(path, contract) from None
                frame, bad = _split_lines(
                    lines,
                    line_offset,
                    sep,
                    width,
                    header,
                    wanted,
                    index,
                    last_is_cut=not block.endswith(b"\n"),
                )
                line_offset += len(lines)
                total += frame.height
                for offset in range(0, max(frame.height, 1), chunk_rows):
                    part = frame.slice(offset, chunk_rows)
                    yield Chunk(part, bad if offset == 0 else [], fh.tell())
        if total == 0:
            raise ExtractError(
                f"{path}: the file has a header but no rows",
                hint="if the department had nothing to send, there is nothing to ingest",
            )

    return chunks()


UNIT_SEPARATOR = b"\x1f"  # what polars' CSV reader splits a line on in `_block_lines`


def _block_lines(block: bytes, codec: str) -> pl.Series:
    """The block's lines, each without its line end ("\\n", or "\\r\\n"; at the end of the
    file, a lone "\\r" too); a line with nothing in it may be null. A UTF-8 block is split by
    polars' CSV reader, one column a line (a tenth of the CPU of Python's decode and split,
    and without the GIL); a block in another encoding, one holding the unit separator that
    reader splits on, or one that is not valid UTF-8, by Python. Raises UnicodeDecodeError."""
    if codec.startswith("utf-8") and UNIT_SEPARATOR not in block:
        try:
            return pl.read_csv(
                io.BytesIO(block),
                has_header=False,
                separator=UNIT_SEPARATOR.decode(),
                quote_char=None,
                schema={"text": pl.String},
            ).to_series()
        except pl.exceptions.ComputeError:  # not UTF-8: Python names the bad bytes
            pass
    lines = block.decode(codec).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pl.Series("text", lines, dtype=pl.String).str.strip_suffix("\r")


def _split_lines(
    lines: pl.Series,
    line_offset: int,
    sep: str,
    width: int,
    header: list[str],
    wanted: list[str],
    index: list[int],
    last_is_cut: bool,
) -> tuple[pl.DataFrame, list[BadRow]]:
    frame = pl.DataFrame({"text": lines}).with_row_index(LINE)
    frame = frame.with_columns((pl.col(LINE).cast(pl.Int64) + line_offset + 1).alias(LINE)).filter(
        pl.col("text").str.strip_chars() != ""
    )
    frame = frame.with_columns(
        (pl.col("text").str.count_matches(sep, literal=True) + 1).alias("_fields")
    )
    bad: list[BadRow] = []
    ragged = frame.filter(pl.col("_fields") != width)
    last_line = line_offset + len(lines)
    for line, text, fields in ragged.iter_rows():
        values = text.split(sep)
        row: dict[str, Any] = dict(zip(header, values, strict=False))
        if fields > width:
            row["_extra_fields"] = values[width:]
        cut = " (cut short: is the file truncated?)" if fields < width else ""
        if last_is_cut and line == last_line and not cut:
            cut = " (the last line has no line end: is the file truncated?)"
        bad.append(
            BadRow(line, row, f"line {line} has {fields} fields, the header has {width}{cut}")
        )
    good = frame.filter(pl.col("_fields") == width)
    parts = good.select(LINE, pl.col("text").str.split_exact(sep, width - 1).alias("f")).unnest("f")
    names = parts.columns[1:]
    out = parts.select(
        LINE, *[pl.col(names[i]).alias(name) for i, name in zip(index, wanted, strict=True)]
    )
    return out.with_columns(_blank_as_null(c) for c in wanted), bad


def _read_quoted_csv(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    codec = _python_codec(contract.file.encoding)
    # Decode strictly but lazily; an undecodable byte anywhere refuses the whole file.
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
    reader = csv.reader(text, delimiter=contract.file.delimiter, strict=True)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raw.close()
        raise ExtractError(f"{path}: the file has no header line") from None
    except UnicodeDecodeError:
        raw.close()
        raise _encoding_error(path, contract) from None
    check_header(contract, header, str(path))
    wanted = contract.columns()
    index = [header.index(c) for c in wanted]
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        rows: list[list[str | None]] = []
        lines: list[int] = []
        bad: list[BadRow] = []
        total = 0
        try:
            while True:
                line = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError:
                    raise _encoding_error(path, contract) from None
                except csv.Error as exc:
                    end = "unexpected end of data" in str(exc)
                    problem = (
                        f"line {line}: the file ends inside a quoted field (truncated file?)"
                        if end
                        else f"line {line}: {exc}"
                    )
                    bad.append(BadRow(line, {"_error": str(exc)}, problem))
                    if end:
                        break
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                if len(fields) != width:
                    cut = " (cut short: is the file truncated?)" if len(fields) < width else ""
                    row = dict(zip(header, fields, strict=False))
                    if len(fields) > width:
                        row["_extra_fields"] = fields[width:]  # type: ignore[assignment]
                    bad.append(
                        BadRow(
                            line,
                            row,
                            f"line {line} has {len(fields)} fields, the header has {width}{cut}",
                        )
                    )
                    continue
                rows.append([fields[i] for i in index])
                lines.append(line)
                total += 1
                if len(rows) >= chunk_rows:
                    yield Chunk(_frame(wanted, rows, lines), bad, raw.tell())
                    rows, lines, bad = [], [], []
            if rows or bad or total == 0:
                if total == 0 and not bad:
                    raise ExtractError(
                        f"{path}: the file has a header but no rows",
                        hint="if the department had nothing to send, there is nothing to ingest",
                    )
                yield Chunk(_frame(wanted, rows, lines), bad, raw.tell())
        finally:
            raw.close()

    return chunks()


def _read_jsonl(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    if _python_codec(contract.file.encoding) == "utf-8-sig" and _plain_jsonl(path):
        return _read_jsonl_blocks(path, contract, chunk_rows)
    return _read_jsonl_lines(path, contract, chunk_rows, start=0, first_line=1)


def _plain_jsonl(path: Path) -> bool:
    """No blank lines and no BOM: line numbers can be counted from row numbers."""
    with path.open("rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            return False
    return not _has_byte_seq(path, b"\n\n")


def _has_byte_seq(path: Path, seq: bytes) -> bool:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm.find(seq) != -1


def _read_jsonl_blocks(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    """Well-formed JSON Lines, a block of whole lines at a time, split by polars.

    From the first block polars cannot read (a broken line, a line cut short, a value that is
    not text), the line reader takes over at that block's first line, so it can name the line;
    blocks before it are already handed on, so memory stays one block whatever the file's size.
    """
    wanted = contract.columns()
    with path.open("rb") as fh:
        try:
            first = orjson.loads(fh.readline())
        except orjson.JSONDecodeError:
            first = None
        if not isinstance(first, dict):
            yield from _read_jsonl_lines(path, contract, chunk_rows, start=0, first_line=1)
            return
        check_header(contract, list(first), str(path))
        fh.seek(0)
        start, line_offset = 0, 0
        for block in _whole_line_blocks(fh):
            if block.isspace():
                return
            try:
                if not block.endswith(b"\n"):
                    raise ValueError("last line cut short")
                frame = pl.read_ndjson(io.BytesIO(block), schema=dict.fromkeys(wanted, pl.String))
            except (pl.exceptions.PolarsError, ValueError):
                yield from _read_jsonl_lines(
                    path, contract, chunk_rows, start=start, first_line=line_offset + 1
                )
                return
            frame = frame.with_row_index(LINE, offset=line_offset + 1).with_columns(
                pl.col(LINE).cast(pl.Int64), *(_blank_as_null(c) for c in wanted)
            )
            line_offset += frame.height
            start += len(block)
            for offset in range(0, frame.height, chunk_rows):
                yield Chunk(frame.slice(offset, chunk_rows).select(LINE, *wanted), [], start)


def _read_jsonl_lines(
    path: Path, contract: Contract, chunk_rows: int, *, start: int, first_line: int
) -> Iterator[Chunk]:
    """JSON Lines read line by line from byte `start` (line `first_line`): every bad line named."""
    codec = _python_codec(contract.file.encoding)
    wanted = contract.columns()

    def chunks() -> Iterator[Chunk]:
        rows: list[list[str | None]] = []
        lines: list[int] = []
        bad: list[BadRow] = []
        header_checked = start > 0  # a reader taking over mid-file: the header was checked
        with path.open("rb") as fh:
            fh.seek(start)
            for number, raw_line in enumerate(fh, first_line):
                try:
                    text = raw_line.decode(codec).strip()
                except UnicodeDecodeError:
                    raise _encoding_error(path, contract) from None
                if not text:
                    continue
                try:
                    obj = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    tail = "" if raw_line.endswith(b"\n") else " (last line cut short: truncated?)"
                    problem = f"line {number}: not JSON{tail}: {exc}"
                    bad.append(BadRow(number, {"_text": text[:2000]}, problem))
                    continue
                if not isinstance(obj, dict):
                    problem = f"line {number}: not a JSON object"
                    bad.append(BadRow(number, {"_text": text[:2000]}, problem))
                    continue
                if not header_checked:
                    check_header(contract, list(obj), str(path))
                    header_checked = True
                rows.append([_as_text(obj.get(c)) for c in wanted])
                lines.append(number)
                if len(rows) >= chunk_rows:
                    yield Chunk(_frame(wanted, rows, lines), bad, fh.tell())
                    rows, lines, bad = [], [], []
            if not header_checked and not bad:
                raise ExtractError(f"{path}: the file has no JSON rows")
            yield Chunk(_frame(wanted, rows, lines), bad, fh.tell())

    return chunks()


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool | int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _read_xlsx(path: Path, contract: Contract, chunk_rows: int) -> Iterator[Chunk]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
    except Exception as exc:  # calamine raises its own types for zip/xml damage
        raise ExtractError(
            f"{path}: not a readable XLSX workbook ({exc})",
            hint="the file may be truncated or not really .xlsx; ask for a new export",
        ) from None
    sheet_ref = contract.file.sheet if contract.file.sheet is not None else 0
    if isinstance(sheet_ref, str) and sheet_ref not in reader.sheet_names:
        raise ExtractError(
            f"{path}: no sheet named '{sheet_ref}' (sheets: {', '.join(reader.sheet_names)})",
            hint=f"fix 'file: sheet:' in contract '{contract.name}'",
        )
    frame = reader.load_sheet(sheet_ref, dtypes="string").to_polars()
    header = [str(c).strip() for c in frame.columns]
    check_header(contract, header, str(path))
    frame.columns = header
    wanted = contract.columns()
    # Row 1 is the header; blank rows keep their place, so data row i is sheet row i + 2.
    frame = frame.select(wanted).with_columns(_blank_as_null(c) for c in wanted)
    frame = frame.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
    frame = frame.filter(~pl.all_horizontal(pl.col(c).is_null() for c in wanted))
    if frame.height == 0:
        raise ExtractError(f"{path}: the sheet has a header but no rows")
    size = path.stat().st_size

    def chunks() -> Iterator[Chunk]:
        for offset in range(0, frame.height, chunk_rows):
            part = frame.slice(offset, chunk_rows)
            done = min(offset + chunk_rows, frame.height)
            yield Chunk(part.select([LINE, *wanted]), [], size * done // frame.height)

    return chunks()
