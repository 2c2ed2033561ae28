"""Readers of quantifier outputs, as a registry: one module per format.

Each module has ``NAME``, ``sniff(path) -> bool`` (decided from the content: headers, column
names, trailer rows; never the file name) and ``read(path) -> Quant``. :func:`detect_format` asks
them in :data:`READERS` order, most specific first and the plain matrix last; :func:`read`
resolves quantifier folders, detects the format unless one is given, and reads.

What the readers share: :mod:`knockseq.readers.files` (opening and reading the text),
:mod:`knockseq.readers.checks` (header, ids and counts) and :mod:`knockseq.readers.quant` (the
:class:`Quant` record they return).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from knockseq.errors import InputError
from knockseq.readers import dexseq, featurecounts, htseq, kallisto, matrix, rsem, salmon, star
from knockseq.readers.files import check_complete, check_file, head
from knockseq.readers.quant import Quant

__all__ = ["FORMATS", "READERS", "Quant", "detect_format", "read", "resolve"]

#: Sniffing order. ``dexseq`` is recognised only to be refused with a clear message.
READERS: dict[str, ModuleType] = {
    module.NAME: module for module in (featurecounts, star, htseq, dexseq, salmon, kallisto, rsem, matrix)
}
#: Formats knockseq reads (the values ``format:`` accepts besides ``auto``).
FORMATS: tuple[str, ...] = ("featurecounts", "htseq", "star", "salmon", "kallisto", "rsem", "matrix")
#: Output files looked for inside a quantifier folder, per format, in order of preference.
FOLDER_FILES: dict[str, tuple[str, ...]] = {
    "salmon": salmon.FOLDER_FILES,
    "kallisto": kallisto.FOLDER_FILES,
    "star": ("*ReadsPerGene.out.tab",),
    "rsem": rsem.FOLDER_FILES,
}
#: The fixed headers of the tool formats that have one. A file whose header holds most of one
#: of them but not all is that tool's output with a column renamed or lost, not a count matrix:
#: its reader then names the missing columns.
HEADERS: dict[str, tuple[list[str], ...]] = {
    "featurecounts": (featurecounts.ANNOTATION_COLUMNS,),
    "salmon": (salmon.HEADER,),
    "kallisto": (kallisto.HEADER,),
    "rsem": (rsem.GENES, rsem.ISOFORMS),
}


def resolve(path: str | Path) -> Path:
    """The quantifier output file of ``path``: itself, or the known file inside a folder.

    Parameters
    ----------
    path : str or Path
        A file, or a salmon / kallisto / STAR / RSEM output folder.

    Raises
    ------
    InputError
        If the path does not exist, or a folder holds none or several known output files.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file or folder not found.", path=path, fix="check the path and that the quantifier finished.")
    if not path.is_dir():
        return path
    patterns = [pattern for files in FOLDER_FILES.values() for pattern in files]
    for pattern in patterns:
        found = sorted(path.glob(pattern))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError(
                f"folder holds {len(found)} files matching {pattern}: {', '.join(f.name for f in found)}.",
                path=path,
                fix="give the file itself as `quant`.",
            )
    raise InputError(
        "folder holds no quantifier output (looked for " + ", ".join(patterns) + ").",
        path=path,
        fix="give the output file itself as `quant`.",
    )


def detect_format(path: str | Path) -> str:
    """Name of the first reader whose ``sniff`` recognises the file, or of the tool it resembles.

    A tool's output with a damaged header (see :data:`HEADERS`; for STAR, the ``N_unmapped``
    row with the wrong number of columns) is given to that tool's reader, which says what is
    missing, rather than read as a count matrix.

    Raises
    ------
    InputError
        If no reader recognises the file: that it was cut short if it ends mid-row, else the
        formats recognised.
    """
    path = resolve(path)
    check_file(path)
    for name, module in READERS.items():
        if name == matrix.NAME and (damaged := _resembles(path)):
            return damaged
        if module.sniff(path):
            return name
    check_complete(path, None)
    raise InputError(
        "unknown format: not recognised as any of " + ", ".join(FORMATS) + ".",
        path=path,
        fix="give a quantifier's output file unchanged, or a count matrix with a header row and the gene id "
        "in the first column.",
    )


def _resembles(path: Path) -> str | None:
    """The tool format whose header (or STAR ``N_`` row) the file's first row nearly matches."""
    first = next((line for line in head(path, 3) if not line.startswith("#")), "")
    fields = [field.strip() for field in first.split("\t")]
    if fields[0] == star.N_ROWS[0]:
        return star.NAME
    for name, headers in HEADERS.items():
        if any(sum(column in fields for column in header) > len(header) / 2 for header in headers):
            return name
    return None


def read(path: str | Path, format: str = "auto", strandedness: str = "auto") -> Quant:
    """Read one quantifier output.

    Parameters
    ----------
    path : str or Path
        File, or quantifier output folder (see :func:`resolve`).
    format : str
        ``auto`` to sniff, or one of :data:`FORMATS` to skip sniffing.
    strandedness : str
        STAR column choice (``auto``, ``unstranded``, ``forward``, ``reverse``); ignored by the
        other formats.

    Returns
    -------
    Quant
        The parsed file.
    """
    path = resolve(path)
    check_file(path)
    if format == "auto":
        format = detect_format(path)
    elif format not in FORMATS:
        raise InputError(
            f"unknown format {format!r}.", column="format", fix=f"use auto or one of {', '.join(FORMATS)}."
        )
    if not (format == kallisto.NAME and kallisto.is_hdf5(path)):
        check_complete(path, format)
    if format == "star":
        return star.read(path, strandedness=strandedness)
    return READERS[format].read(path)
