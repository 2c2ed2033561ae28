"""Reading the files users give: plain or gzipped text, whole, streamed or in part, or as a table.

Everything that can go wrong with the file itself (missing, a folder, empty, truncated gzip, cut
short mid-row, ragged rows) is raised as :class:`~knockseq.errors.InputError` naming the file
and row. Gzip is detected from the magic bytes, never from the name.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import itertools
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from knockseq.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def _empty(path: Path) -> InputError:
    """The error of an empty file."""
    return InputError("file is empty.", path=path, fix="rerun the step that wrote it.")


def check_file(path: Path) -> None:
    """Raise :class:`InputError` if ``path`` is missing, a folder or empty."""
    if not path.exists():
        raise InputError("file not found.", path=path, fix="check the path and that the quantifier finished.")
    if path.is_dir():
        raise InputError("is a folder, not a file.", path=path)
    if path.stat().st_size == 0:
        raise _empty(path)


@contextlib.contextmanager
def _gzip_errors(path: Path) -> Iterator[None]:
    """Turn a truncated or corrupt gzip stream, noticed while reading, into an InputError."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(
            f"gzip file is truncated or corrupt ({error}).", path=path, fix="re-download or re-compress the file."
        ) from None


@functools.lru_cache(maxsize=8)
def _decoded(path: str, mtime_ns: int, size: int) -> str:
    """Whole decompressed text of a file; cached: sniffing and reading a file both need it."""
    with open_text(Path(path)) as handle:
        return handle.read()


def open_text(path: Path) -> IO[str]:
    """Open a plain or gzipped (detected from the magic bytes, not the name) text file.

    Undecodable bytes are replaced rather than fatal: sniffing a binary file (kallisto's
    ``abundance.h5``) must simply fail to match. A UTF-8 byte-order mark (Notepad, Excel) is
    dropped, so it cannot become part of the first gene id or header.
    """
    check_file(path)
    with open(path, "rb") as raw:
        magic = raw.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def iter_lines(path: Path) -> Iterator[str]:
    """Lines of a (possibly gzipped) text file without line endings, streamed (for big GTFs)."""
    with open_text(path) as handle, _gzip_errors(path):
        for line in handle:
            yield line.rstrip("\r\n")


def load_text(path: Path) -> str:
    """Whole text of a file, decompressed; :class:`InputError` if empty, missing or truncated."""
    check_file(path)
    stat = path.stat()
    with _gzip_errors(path):
        text = _decoded(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if not text.strip():
        raise _empty(path)
    return text


def head(path: Path, n: int) -> list[str]:
    """First ``n`` non-blank lines (streamed: a GTF can be gigabytes); at least one."""
    lines = list(itertools.islice((line for line in iter_lines(path) if line.strip()), n))
    if not lines:
        raise _empty(path)
    return lines


def check_complete(path: Path, format: str | None) -> None:
    """Raise :class:`InputError` if the file ends in the middle of a row (cut short).

    Every quantifier ends its output with a line break, so a missing one means an interrupted
    copy or a full disk, and the last number may be cut (``2890`` read as ``28``). A count
    matrix may come from a script that writes no final line break, so it is only called cut
    short when its last row also has fewer fields than the row above.

    Parameters
    ----------
    path : Path
        The file.
    format : str or None
        Its reader's name, or None when no reader recognised it.
    """
    text = load_text(path)
    if text.endswith("\n"):
        return
    lines = text.splitlines()
    if format == "matrix":
        sep = "\t" if "\t" in lines[0] else ","
        if len(lines) < 2 or lines[-1].count(sep) >= lines[-2].count(sep):
            return
    raise InputError(
        "the file ends in the middle of this row (no line break after it): it was cut short.",
        path=path,
        row=len(lines),
        fix="copy or write the file again from the quantifier's output.",
    )


def tail(path: Path, n: int) -> list[str]:
    """Last ``n`` non-blank lines."""
    return [line for line in load_text(path).splitlines() if line.strip()][-n:]


def read_table(path: Path, *, header: bool, sep: str = "\t", skip: int = 0) -> pd.DataFrame:
    """Read a delimited table as strings (exact cell text kept for error messages).

    Parameters
    ----------
    path : Path
        File to read (gzip allowed).
    header : bool
        Whether the first line read is a header.
    sep : str
        Field separator.
    skip : int
        Lines to skip before the header (comment lines).

    Returns
    -------
    pd.DataFrame
        Shape (n_rows, n_fields), dtype str, empty cells as "". Without a header the columns
        are numbered from 1, as messages and the tools' documentation count them.
    """
    text = load_text(path)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=0 if header else None,
            skiprows=skip,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if not found:
            raise InputError(f"cannot be parsed as a table ({error}).", path=path) from None
        expected, line, saw = found.groups()
        raise InputError(
            f"has {saw} fields where the lines above have {expected}.",
            path=path,
            row=int(line) + skip,
            fix="the file is cut or mixes separators; rewrite it from the tool's output.",
        ) from None
    return frame if header else frame.set_axis(range(1, frame.shape[1] + 1), axis=1)


def sibling(path: Path, suffix: str, new: str) -> Path | None:
    """``path`` with its name's ``suffix`` (after an optional ``.gz``) replaced by ``new``.

    The QC files beside an output share its prefix (STAR ``s1_ReadsPerGene.out.tab`` ->
    ``s1_Log.final.out``); a file renamed by the user has no recognisable sibling.
    """
    name = path.name.removesuffix(".gz")
    if not name.endswith(suffix):
        return None
    candidate = path.with_name(name[: -len(suffix)] + new)
    return candidate if candidate.is_file() else None
