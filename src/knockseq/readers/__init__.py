"""Readers of quantifier outputs, as a registry: one module per format.

Each module has ``NAME``, ``sniff(path) -> bool`` (decided from the content: headers, column
names, trailer rows; never the file name) and ``read(path) -> Quant``. :func:`detect_format` asks
them in :data:`READERS` order, most specific first and the plain matrix last; :func:`read`
resolves quantifier folders, detects the format unless one is given, and reads.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from knockseq.errors import InputError
from knockseq.readers import dexseq, featurecounts, htseq, kallisto, matrix, rsem, salmon, star
from knockseq.readers._common import Quant, check_file

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
    """Name of the first reader whose ``sniff`` recognises the file.

    Raises
    ------
    InputError
        If none does, listing the formats recognised.
    """
    path = resolve(path)
    check_file(path)
    for name, module in READERS.items():
        if module.sniff(path):
            return name
    raise InputError(
        "unknown format: not recognised as any of " + ", ".join(FORMATS) + ".",
        path=path,
        fix="give a quantifier's output file unchanged, or a count matrix with a header row and the gene id "
        "in the first column.",
    )


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
    if format == "star":
        return star.read(path, strandedness=strandedness)
    return READERS[format].read(path)
