"""What every reader shares: loading text safely, the :class:`Quant` record, id and count checks.

Readers turn one quantifier output into a :class:`Quant`. Everything that can go wrong with a
file the user gave (missing, empty, truncated gzip, ragged rows, duplicated ids, counts that are
not counts) is raised here as :class:`~knockseq.errors.InputError` naming the file, row and column.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import itertools
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, Literal

import numpy as np
import pandas as pd

from knockseq.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"

#: An Ensembl/GENCODE id with a version: ``ENSG00000123.12``, ``ENSMUST0000001.3``,
#: ``ENSG00000182378.14_PAR_Y``. Only these are stripped: dots are part of ids elsewhere
#: (WormBase ``Y74C9A.3``, RefSeq ``NM_000014.6`` where the version is not a release tag).
ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*\d{6,})\.\d+(_PAR_Y)?$")
#: Any Ensembl stable id (gene, transcript, other species' prefixes).
ENSEMBL_ID = re.compile(r"^ENS[A-Z]*\d{6,}")

#: How many offending ids an error message lists.
SHOWN = 5

NON_INTEGER_FIX = (
    "give raw read counts, not TPM/FPKM or normalised values; for salmon, kallisto or RSEM give "
    "their output files as `quant` so knockseq summarises them to genes with tximport."
)
#: A column is called TPM/normalised rather than counts with a stray typo when more than this
#: share of its non-zero values are fractions.
FRACTIONAL_SHARE = 0.5
#: Cell texts that mean "no value" (R's NA, pandas' NaN, Excel's #N/A ...), reported as a
#: missing count rather than as text that is not a number.
MISSING = {"", "na", "nan", "n/a", "#n/a", "null", "none", "-"}


@dataclass
class Quant:
    """One parsed quantifier output.

    Parameters
    ----------
    path : Path
        The file read.
    format : str
        Reader name (``featurecounts``, ``htseq``, ``star``, ``salmon``, ``kallisto``, ``rsem``,
        ``matrix``).
    counts : pd.DataFrame
        Shape (n_features, n_columns), indexed by gene or transcript id (versions stripped),
        one column per sample column of the file (a single column for one-sample formats, named
        by the file path). int64 for read counts, float64 for quantifier estimates.
    qc : dict
        Column name -> ``{qc field: value}`` (format-specific: ``unassigned_*``,
        ``strandedness``, ``percent_mapped`` ...).
    first_row : int
        1-based line number of the first data row, so row ``i`` of ``counts`` is line
        ``first_row + i`` of the file.
    level : {"gene", "transcript"}
        Whether ``counts`` is indexed by gene or by transcript.
    estimated : bool
        True when counts are a quantifier's (fractional) estimates rather than read counts.
    abundance, length : pd.DataFrame, optional
        TPM and effective length, same shape as ``counts`` (transcript quantifiers only).
    tx2gene : pd.Series, optional
        transcript_id -> gene_id carried by the file itself (RSEM isoforms, GENCODE-style names).
    gene_names : pd.Series, optional
        gene_id -> gene_name carried by the file (GENCODE-style names, a matrix's gene-name
        column).
    name_column : str, optional
        Header of the file's column ``gene_names`` came from (count matrices), for the notes.
    invalid : dict
        Column -> the :class:`InputError` its values raise; only raised if the column is used
        (multi-column tables may hold columns nobody asked for).
    notes : list of str
        Things the user should know about how the file was read.
    """

    path: Path
    format: str
    counts: pd.DataFrame
    qc: dict[str, dict[str, object]]
    first_row: int
    level: Literal["gene", "transcript"] = "gene"
    estimated: bool = False
    abundance: pd.DataFrame | None = None
    length: pd.DataFrame | None = None
    tx2gene: pd.Series | None = None
    gene_names: pd.Series | None = None
    name_column: str | None = None
    invalid: dict[str, InputError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Every sample column of the file, valid or not, in file order."""
        return [*self.counts.columns, *self.invalid]


def _empty(path: Path) -> InputError:
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


def strip_versions(ids: pd.Index, path: Path | str, what: str = "gene ids") -> pd.Index:
    """Drop Ensembl version suffixes (``ENSG00000123.12`` -> ``ENSG00000123``).

    Parameters
    ----------
    ids : pd.Index
        Ids as read, unique.
    path : Path or str
        File the ids come from, for the error message.
    what : str
        What the ids are, for the error message.

    Returns
    -------
    pd.Index
        Same length and order, versions removed.

    Raises
    ------
    InputError
        If two ids differ only by their version, naming them.
    """
    stripped = pd.Index(ids.astype(str).str.replace(ENSEMBL_VERSION, r"\1\2", regex=True), name=ids.name)
    if stripped.has_duplicates:
        clash = pd.Series(ids.astype(str), index=stripped)
        clash = clash[stripped.duplicated(keep=False)]
        groups = [" and ".join(group) for _, group in clash.groupby(level=0, sort=False)]
        raise InputError(
            f"removing Ensembl version suffixes makes {len(groups)} {what} collide: "
            + "; ".join(groups[:SHOWN])
            + ("; ..." if len(groups) > SHOWN else "")
            + ".",
            path=path,
            fix="keep one version of each gene (the file mixes annotation releases).",
        )
    return stripped


def check_unique(ids: pd.Index, path: Path | str, first_row: int, what: str = "gene ids") -> None:
    """Raise :class:`InputError` naming the first duplicated ids and their rows."""
    if not ids.has_duplicates:
        return
    dup = ids[ids.duplicated()].unique()
    positions = pd.Series(np.arange(len(ids)), index=ids)
    shown = [f"{i} (rows {', '.join(str(first_row + p) for p in positions.loc[[i]][:3])})" for i in dup[:SHOWN]]
    raise InputError(
        f"{len(dup)} duplicated {what}: " + ", ".join(shown) + (", ..." if len(dup) > SHOWN else "") + ".",
        path=path,
        fix="each id must appear once; sum or drop the duplicates upstream.",
    )


def to_numbers(
    frame: pd.DataFrame, path: Path, first_row: int, *, integer: bool
) -> tuple[pd.DataFrame, dict[str, InputError]]:
    """Convert string columns to counts, collecting an error per column that fails.

    Parameters
    ----------
    frame : pd.DataFrame
        Shape (n_rows, n_columns) of cell text.
    path : Path
        File, for error messages.
    first_row : int
        Line number of ``frame``'s first row.
    integer : bool
        Require whole numbers (read counts) or allow fractions (quantifier estimates).

    Returns
    -------
    values : pd.DataFrame
        The columns that converted: int64 when ``integer`` else float64.
    invalid : dict
        Column label -> :class:`InputError` naming the first bad cell (row and column).
    """
    values: dict[object, pd.Series] = {}
    invalid: dict[object, InputError] = {}
    for column in frame.columns:
        text = frame[column].fillna("").astype(str).str.strip()  # short rows read as NaN
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        missing = text.str.lower().isin(MISSING).to_numpy()
        finite = np.isfinite(numbers)
        fractional = finite & (np.where(finite, numbers, 0) % 1 != 0)
        share = fractional.sum() / max(int((finite & (numbers != 0)).sum()), 1)
        non_integer = (
            "non-integer count {}" if share <= FRACTIONAL_SHARE else
            f"{int(fractional.sum())} of the {len(numbers)} values are not whole numbers (e.g. {{}}): "
            "these look like TPM/normalised values, not read counts"
        )
        # The first check any cell fails names the column's problem.
        checks = [
            (missing, "the count is missing ({!r})", "write 0 for a gene without reads, or remove the gene's row."),
            (~finite, "{!r} is not a number", "the column must hold read counts only: correct the cell."),
            (numbers < 0, "negative count {}", "counts cannot be negative: give raw read counts."),
        ]
        if integer:
            checks.append((fractional, non_integer, NON_INTEGER_FIX))
        for bad, message, fix in checks:
            if bad.any():
                i = int(np.argmax(bad))
                message = message.format(text.iloc[i])
                invalid[column] = InputError(f"{message}.", path=path, row=first_row + i, column=str(column), fix=fix)
                break
        else:
            values[column] = pd.Series(numbers, index=frame.index).astype("int64" if integer else "float64")
    return pd.DataFrame(values, index=frame.index), invalid


def numbers_or_raise(frame: pd.DataFrame, path: Path, first_row: int, *, integer: bool) -> pd.DataFrame:
    """:func:`to_numbers` for columns that must all be valid: raise the first error."""
    values, invalid = to_numbers(frame, path, first_row, integer=integer)
    if invalid:
        raise next(iter(invalid.values()))
    return values


def gene_index(ids: pd.Series, path: Path, first_row: int, what: str = "gene ids") -> pd.Index:
    """Ids as read -> checked, version-stripped index named after ``what``."""
    index = pd.Index(ids.astype(str).str.strip(), name="gene_id" if what.startswith("gene") else "transcript_id")
    check_unique(index, path, first_row, what)
    return strip_versions(index, path, what)


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


def split_bar_names(ids: pd.Series) -> tuple[pd.Series, pd.Series | None, pd.Series | None]:
    """Cut ``|``-joined transcript names at the first bar, reading GENCODE's fields if present.

    GENCODE transcript FASTA names are ``ENST|ENSG|OTTHUMG|OTTHUMT|tx name|gene name|length|
    biotype|``; salmon and kallisto keep them whole unless run with ``--gencode``.

    Parameters
    ----------
    ids : pd.Series
        Target names as written by the quantifier, shape (n,).

    Returns
    -------
    transcript_ids : pd.Series
        Shape (n,), the part before the first bar.
    gene_ids, gene_names : pd.Series or None
        Shape (n,), GENCODE's gene id and gene name fields, when every name has them.
    """
    parts = ids.str.split("|")
    transcript_ids = parts.str[0]
    genes = parts.str[1]
    gencode = (parts.str.len() >= 6) & genes.fillna("").str.match(r"ENS[A-Z]*G\d{6,}")
    if len(ids) and gencode.all():
        return transcript_ids, genes, parts.str[5]
    return transcript_ids, None, None


def estimates(
    frame: pd.DataFrame,
    path: Path,
    first_row: int,
    *,
    format: str,
    level: Literal["gene", "transcript"],
    columns: dict[str, str],
    qc: dict[str, object],
    gene_column: str | None = None,
    min_length: float = 0.0,
) -> Quant:
    """Build the :class:`Quant` of a one-sample transcript quantifier table.

    Parameters
    ----------
    frame : pd.DataFrame
        The table as text, shape (n_targets, n_fields).
    path : Path
        The file, for messages; also the name of the single column.
    first_row : int
        Line number of the first data row.
    format : str
        Reader name.
    level : {"gene", "transcript"}
        What the rows are.
    columns : dict
        ``{"id", "counts", "abundance", "length"}`` -> the file's column names.
    qc : dict
        QC fields of this sample.
    gene_column : str, optional
        Column holding each transcript's gene id (RSEM isoforms).
    min_length : float
        Lower bound of the effective length (RSEM writes 0 for transcripts shorter than the
        mean fragment; tximport's importers clip it to 1).

    Returns
    -------
    Quant
        ``estimated=True``; abundance (TPM) and length filled.
    """
    ids, genes, names = split_bar_names(frame[columns["id"]].astype(str))
    what = "transcript ids" if level == "transcript" else "gene ids"
    index = gene_index(ids, path, first_row, what)
    name = str(path)
    values = {
        key: numbers_or_raise(frame[[columns[key]]], path, first_row, integer=False).iloc[:, 0].set_axis(index)
        for key in ("counts", "abundance", "length")
    }
    if gene_column is not None:
        genes = frame[gene_column]
    tx2gene = None
    if genes is not None and level == "transcript":
        tx2gene = pd.Series(genes.astype(str).str.replace(ENSEMBL_VERSION, r"\1\2", regex=True).to_numpy(), index=index)
    gene_names = None
    if names is not None and tx2gene is not None:
        gene_names = pd.Series(names.to_numpy(), index=tx2gene.to_numpy()).groupby(level=0).first()
    return Quant(
        path=path,
        format=format,
        counts=values["counts"].to_frame(name),
        qc={name: dict(qc)},
        first_row=first_row,
        level=level,
        estimated=True,
        abundance=values["abundance"].to_frame(name),
        length=values["length"].clip(lower=min_length).to_frame(name),
        tx2gene=tx2gene,
        gene_names=gene_names,
    )


def check_header(header: list[str], expected: list[str], path: Path, format: str, row: int = 1) -> None:
    """Raise if a sniffed-or-declared file lacks the columns its format requires.

    Parameters
    ----------
    header : list of str
        The file's header fields.
    expected : list of str
        The columns the format requires.
    path : Path
        The file, for the message.
    format : str
        Reader name, for the message.
    row : int
        Line number of the header (after featureCounts' comment line: 2).
    """
    missing = [column for column in expected if column not in header]
    if missing:
        raise InputError(
            f"is not a {format} file: column(s) {', '.join(missing)} missing from the header "
            f"({', '.join(header[:8])}).",
            path=path,
            row=row,
            fix=f"give the {format} output file unchanged, or set `format:` to the file's real format.",
        )
