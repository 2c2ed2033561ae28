"""Which input file and column holds each sample of the sheet, and the values of those columns.

Each input file is read once (:mod:`knockseq.readers`); a sample's column is its sheet field
``column`` if set, else the column named like the sample, else the one whose BAM path reduces to
the sample name (``bam/s1.bam``, ``s1/Aligned.sortedByCoord.out.bam`` -> ``s1``). A sample
without a column, two samples on one column, or a transposed table is an
:class:`~knockseq.errors.InputError` naming the sheet row and the file.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from knockseq import readers
from knockseq.errors import InputError, closest
from knockseq.readers import Quant

#: BAM names STAR and TopHat give every sample; the sample is then the folder's name.
ALIGNER_DEFAULT_NAME = re.compile(r"^(?P<prefix>.*?)[._]?(Aligned\.sortedByCoord\.out|Aligned\.out|accepted_hits)$")

#: sample -> (parsed file, the file's column holding the sample), in sheet order.
Picked = dict[str, tuple[Quant, str]]


def sheet_fields(samples: pd.DataFrame) -> pd.DataFrame:
    """The sheet's sample, quant and column fields as text, with each sample's line number.

    Returns
    -------
    pd.DataFrame
        Shape (n_samples, 4): ``sample``, ``quant``, ``column`` ("" when unset) and ``row``
        (line number in the sheet file, the header being line 1).
    """
    sheet = pd.DataFrame({"row": np.arange(len(samples)) + 2})
    for column in ("sample", "quant", "column"):
        values = samples[column] if column in samples.columns else pd.Series([""] * len(samples))
        sheet[column] = values.fillna("").astype(str).str.strip().to_numpy()
    return sheet


def pick_columns(
    sheet: pd.DataFrame,
    base_dir: Path,
    counts: str | PathLike | None,
    format: str,
    strandedness: str,
    where: Path | str,
    notes: list[str],
) -> Picked:
    """Read each input file once and find every sample's column in it.

    Parameters
    ----------
    sheet : pd.DataFrame
        :func:`sheet_fields` of the sample sheet (n_samples rows).
    base_dir : Path
        Folder the ``quant`` paths are relative to.
    counts : str or PathLike, optional
        One table holding every sample, instead of the sheet's ``quant`` files.
    format, strandedness : str
        As :func:`knockseq.readers.read` takes them.
    where : Path or str
        The sheet, named in messages.
    notes : list of str
        Appended to: the extra columns nobody uses.

    Returns
    -------
    Picked
        sample -> (parsed file, its column holding the sample), in sheet order.

    Raises
    ------
    InputError
        A file that cannot be read, a sample without a column or whose column is invalid, or
        two samples on one column.
    """
    if counts is not None:
        paths = {sample: Path(counts) for sample in sheet["sample"]}
    else:
        paths = {}
        for sample, quant, row in zip(sheet["sample"], sheet["quant"], sheet["row"]):
            try:
                paths[sample] = readers.resolve(base_dir / quant)
            except InputError as error:
                error.message = error.message.rstrip(".") + f" (quant of sample {sample!r}, row {row} of {where})."
                raise
    parsed = {
        path: readers.read(path, format=format, strandedness=strandedness) for path in dict.fromkeys(paths.values())
    }
    picked: Picked = {}
    rows = dict(zip(sheet["sample"], sheet["row"]))
    for sample, wanted in zip(sheet["sample"], sheet["column"]):
        quant = parsed[paths[sample]]
        column = _match_column(sample, wanted, quant, f"row {rows[sample]} of {where}")
        if column in quant.invalid:
            raise quant.invalid[column]
        picked[sample] = (quant, column)
    for quant in parsed.values():
        owners: dict[str, list[str]] = {}
        for sample, (q, column) in picked.items():
            if q is quant:
                owners.setdefault(column, []).append(sample)
        for column, sharing in owners.items():
            if len(sharing) > 1 and len(quant.columns) == 1:
                raise InputError(
                    f"samples {', '.join(sharing)} (rows {', '.join(str(rows[s]) for s in sharing)} of {where}) "
                    "all point at this one-sample file.",
                    path=quant.path,
                    fix="give each sample its own quant file.",
                )
            if len(sharing) > 1:
                raise InputError(
                    f"samples {', '.join(sharing)} all use column {column!r}.",
                    path=quant.path,
                    column=str(column),
                    fix="give each sample its own column (sheet field `column`) or its own file.",
                )
        extra = [str(column) for column in quant.columns if column not in owners]
        if extra:
            notes.append(f"ignored extra columns {', '.join(extra)} of {quant.path}.")
    return picked


def stack(picked: Picked, field: str) -> pd.DataFrame:
    """One field of every sample's column, side by side.

    Parameters
    ----------
    picked : Picked
        From :func:`pick_columns`.
    field : {"counts", "abundance", "length"}
        The :class:`~knockseq.readers.Quant` table read.

    Returns
    -------
    pd.DataFrame
        Shape (n_features, n_samples), indexed by the first sample's features, one column per
        sample in sheet order.
    """
    (reference, _), *_ = picked.values()
    index = reference.counts.index
    return pd.DataFrame(
        {sample: getattr(quant, field)[column].reindex(index) for sample, (quant, column) in picked.items()}
    )


def _aliases(column: str) -> set[str]:
    """Names a sample may have in a column named by a BAM path.

    ``bam/s1.bam`` -> ``s1.bam``, ``s1``; ``s1.markdup.sorted.bam`` -> ``s1``;
    ``star/s1/Aligned.sortedByCoord.out.bam`` -> ``s1``; ``star/s1_Aligned.out.bam`` -> ``s1``.
    """
    parts = column.replace("\\", "/").split("/")
    name = parts[-1]
    stem = re.sub(r"\.(bam|sam|cram)$", "", name)
    aliases = {column, name, stem, stem.split(".")[0]}
    default = ALIGNER_DEFAULT_NAME.match(stem)
    if default:
        aliases.add(default.group("prefix") or (parts[-2] if len(parts) > 1 else ""))
    return aliases - {""}


def _match_column(sample: str, wanted: str, quant: Quant, origin: str) -> str:
    """The column of ``quant`` that holds ``sample`` (see :func:`knockseq.counts.build_counts`).

    ``origin`` says where the sample is in the sheet (``row 3 of samples.tsv``), for messages.
    A table whose row ids include the sample is transposed (samples as rows), and said so.
    """
    columns = quant.columns
    shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10 else "")
    if wanted:
        if wanted in columns:
            return wanted
        close = closest(wanted, columns, typos=False)
        raise InputError(
            f"has no column {wanted!r} (the `column` of sample {sample!r}, {origin}); its columns are: {shown}.",
            path=quant.path,
            column=wanted,
            fix=f"set the sheet's `column` field to {close!r}." if close else "correct the sheet's `column` field.",
        )
    if len(columns) == 1:
        return columns[0]
    if sample in columns:
        return sample
    hits = [column for column in columns if sample in _aliases(str(column))]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise InputError(
            f"several columns match sample {sample!r} ({origin}): {', '.join(map(str, hits))}.",
            path=quant.path,
            fix="name the sample's column in the sheet's `column` field.",
        )
    if sample in quant.counts.index:
        raise InputError(
            f"the table is transposed: sample {sample!r} ({origin}) is a row, and its columns are genes ({shown}).",
            path=quant.path,
            row=quant.first_row + quant.counts.index.get_loc(sample),
            fix="write the table with one row per gene and one column per sample (transpose it: t() in R, .T in "
            "pandas).",
        )
    close = closest(sample, columns, typos=False)
    raise InputError(
        f"no column for sample {sample!r} ({origin}); its columns are: {shown}.",
        path=quant.path,
        fix=(
            f"the closest column is {close!r}: rename the sample to it, or name it in the sheet's `column` field."
            if close
            else "add the sample's column to the table, remove the sample from the sheet, or name its column in the "
            "sheet's `column` field."
        ),
    )
