"""Atomic, byte-stable writing of every output knockseq produces.

Outputs are written to a temporary file in the destination folder and renamed into place, so a
crash or an error never leaves a partial file behind and an existing file is only replaced by a
complete one. A writer killed outright (SIGKILL, a node lost) cannot remove its temporary file:
the next write of the same destination does.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from knockseq.errors import InputError

#: Float format of every table knockseq writes: enough digits for R-agreement checks, and fixed
#: so that reruns on the same inputs give byte-identical files.
FLOAT_FORMAT = "%.10g"

_TMP_SUFFIX = ".tmp"
#: errno of a full or read-only destination: the user's to fix, not a bug.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    Parameters
    ----------
    path : str or PathLike
        Final destination. Its parent folder is created if needed.

    Yields
    ------
    Path
        Temporary file to write to. It is removed if the block raises.

    Raises
    ------
    InputError
        When the folder is full or not writable (naming the file and what to do); nothing is
        left behind and an existing ``path`` is unchanged.
    """
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Only a dead writer leaves these: Snakemake's directory lock keeps two jobs off one
        # output, and the gene-set cache writes under its own lock.
        for stale in _stale_temporaries(dest):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=_TMP_SUFFIX, dir=dest.parent)
    except OSError as error:
        _raise_user_error(dest, error)
        raise
    os.close(fd)
    # mkstemp makes the file private (0600); outputs get the permissions any new file gets.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as error:
        _raise_user_error(dest, error)
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _stale_temporaries(dest: Path) -> list[Path]:
    """Temporary files :func:`atomic_path` made for ``dest`` (``.NAME.<8 random chars>.tmp``).

    The exact pattern keeps another destination's temporaries out (``a.tsv`` must not match
    ``a.tsv.gz``'s).
    """
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.[a-z0-9_]{{8}}{re.escape(_TMP_SUFFIX)}")
    return [p for p in dest.parent.iterdir() if pattern.fullmatch(p.name)]


def _raise_user_error(dest: Path, error: OSError) -> None:
    """Raise an InputError for a full or read-only destination; return for any other OSError."""
    if error.errno in _NO_SPACE:
        raise InputError(
            f"the disk is full ({error.strerror}); nothing was written.",
            path=dest,
            fix=f"free space on the disk holding {dest.parent} (see `df -h {dest.parent}`) or run in a "
            "folder with more room (snakemake --directory DIR), then rerun: finished steps are kept.",
        ) from None
    if error.errno in _NOT_WRITABLE:
        raise InputError(
            f"cannot write into {dest.parent} ({error.strerror}); nothing was written.",
            path=dest,
            fix=f"make {dest.parent} writable (chmod u+w, or mount it read-write), or run in a writable "
            "folder (snakemake --directory DIR), then rerun.",
        ) from None


#: Columns that hold identifiers or names: always read back as text, so Entrez numbers, ids
#: with leading zeros and RefSeq or versioned Ensembl ids survive byte for byte.
TEXT_COLUMNS = ("gene_id", "gene_name", "gene_set", "collection", "leading_edge", "genes", "sample", "direction")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table knockseq wrote (tab-separated, ``NA`` for missing).

    Identifier and name columns (:data:`TEXT_COLUMNS`) are read as strings; only the literal
    ``NA`` that :func:`write_tsv` writes (and an empty cell) counts as missing, so gene names
    such as ``NAN`` or ``NULL`` stay names.

    Parameters
    ----------
    path : str or PathLike
        A table written by :func:`write_tsv`.

    Returns
    -------
    pandas.DataFrame
        n_rows x n_columns, text columns as ``object`` strings, numbers as floats/ints.
    """
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    text = {c: str for c in header if c in TEXT_COLUMNS}
    return pd.read_csv(path, sep="\t", dtype=text, keep_default_na=False, na_values=["NA", ""])


def write_tsv(df: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> None:
    """Write ``df`` as a tab-separated table atomically, with :data:`FLOAT_FORMAT` and ``NA``."""
    with atomic_path(path) as tmp:
        _floats_as_text(df).to_csv(tmp, sep="\t", index=index, na_rep="NA", lineterminator="\n")


def _floats_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each float column as its :data:`FLOAT_FORMAT` text (``NA`` for NaN).

    What ``to_csv(float_format=FLOAT_FORMAT)`` writes, byte for byte, at a fifth of its time:
    pandas formats each value through several Python calls, which made writing a DE table and
    its normalized counts the slowest part of a contrast's DE job.
    """
    out = df.copy(deep=False)
    for i in range(df.shape[1]):
        values = df.iloc[:, i].to_numpy()
        if values.dtype.kind == "f":
            text = np.array([FLOAT_FORMAT % value for value in values.tolist()], dtype=object)
            text[np.isnan(values)] = "NA"
            out.isetitem(i, text)
    return out


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file the workflow wrote (:func:`write_json`), as Python objects."""
    with open(path) as handle:
        return json.load(handle)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented, key-sorted JSON atomically (NaN becomes ``null``)."""
    text = json.dumps(_clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _clean(obj: Any) -> Any:
    """Make numpy scalars and NaN JSON-safe, recursively."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj
