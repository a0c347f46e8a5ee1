"""CSV text read safely: a file's lines in batches (UTF-8, no NUL bytes, no line over
MAX_LINE_CHARS, no more than MAX_CSV_BYTES in all) and the cells of one line.

Messages name the line, never its text.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator

from ..errors import DataError
from .limits import size_text

MAX_CSV_BYTES = 500_000_000
MAX_LINE_CHARS = 1_000_000
_READ_BYTES = 1 << 20

#: ``progress(bytes_read, bytes_total)``, called while a file loads
Progress = Callable[[int, int], None]


def file_batches(f, source: str, total: int, progress: Progress | None) -> Iterator[list[str]]:
    """The file's lines in batches, decoded from UTF-8 (a leading BOM dropped), each
    without its line end; refuses NUL bytes, over-long lines and more than MAX_CSV_BYTES."""
    done, line, rest = 0, 0, b""
    while True:
        chunk = f.read(_READ_BYTES)
        done += len(chunk)
        if done > MAX_CSV_BYTES:  # it grew since it was opened
            raise DataError(f"{source}: more than the {size_text(MAX_CSV_BYTES)} a CSV file may be")
        if not chunk:
            if len(rest) > MAX_LINE_CHARS:
                raise DataError(f"{source}, line {line + 1}: longer than the "
                                f"{MAX_LINE_CHARS:,} characters a line may have")
            if rest:
                yield [_decode(rest, source, line + 1)]
            return
        if done == len(chunk) and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        if rest:
            chunk, rest = rest + chunk, b""
        end = chunk.rfind(b"\n")
        if end < 0:
            rest = chunk
            if len(rest) > MAX_LINE_CHARS:
                raise DataError(f"{source}, line {line + 1}: longer than the "
                                f"{MAX_LINE_CHARS:,} characters a line may have")
            continue
        rest = chunk[end + 1:]
        try:
            text = chunk[:end].decode("utf-8")
        except UnicodeDecodeError:  # find the line, to name it
            for i, raw in enumerate(chunk[:end].split(b"\n")):
                _decode(raw, source, line + i + 1)
            raise
        lines = text.split("\n")
        if "\0" in text:
            bad = next(i for i, s in enumerate(lines) if "\0" in s)
            raise DataError(f"{source}, line {line + bad + 1}: a NUL byte; this is not a text file")
        if len(text) > MAX_LINE_CHARS and max(map(len, lines)) > MAX_LINE_CHARS:
            bad = next(i for i, s in enumerate(lines) if len(s) > MAX_LINE_CHARS)
            raise DataError(f"{source}, line {line + bad + 1}: longer than the "
                            f"{MAX_LINE_CHARS:,} characters a line may have")
        line += len(lines)
        if progress is not None:
            progress(done, total)
        yield lines


def _decode(raw: bytes, source: str, line: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{source}, line {line}: not UTF-8 text; a CSV file must be "
                        f"UTF-8") from None
    if "\0" in text:
        raise DataError(f"{source}, line {line}: a NUL byte; this is not a text file")
    return text


def line_batches(lines: Iterable[str]) -> Iterator[list[str]]:
    """Any iterable of lines (a text file, a list) as batches like ``file_batches`` gives."""
    batch: list[str] = []
    for s in lines:
        batch.append(s[:-1] if s.endswith("\n") else s)
        if len(batch) >= 4096:
            yield batch
            batch = []
    if batch:
        yield batch


def cells_of(line: str, source: str, lineno: int) -> list[str]:
    """The cells of line ``lineno``; quoted cells ("a, b") are CSV-quoted and stay on
    one line."""
    if line.endswith("\r"):
        line = line[:-1]
    if '"' not in line:
        return line.split(",")
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as e:  # the module's own fixed wording, never the line's text
        raise DataError(f"{source}, line {lineno}: bad quoting ({e}); quote a whole value, "
                        f"as \"a, b\"") from None


def blank(line: str) -> bool:
    return not line or line.isspace()


def count_lines(f) -> int:
    """Lines in a binary file (the last one may lack its line end); leaves it at the start."""
    count, last = 0, b"\n"
    while chunk := f.read(_READ_BYTES):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    f.seek(0)
    return count + (last != b"\n")
