"""Checks of a table's content as the readers parse it: header columns, ids and counts.

Each failure is an :class:`~knockseq.errors.InputError` naming the file, row and column: a
missing header column, duplicated ids, ids that collide once their Ensembl versions are stripped
(:func:`knockseq.geneids.strip_versions`), counts that are missing, not numbers, negative, not
whole or beyond any read count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from knockseq import geneids
from knockseq.errors import InputError

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


#: The largest count accepted. No run gives one gene 10^12 reads, and below it a sample's total
#: over any genome's genes stays far inside int64 (where sums would silently wrap).
MAX_COUNT = 10**12


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
            "non-integer count {}"
            if share <= FRACTIONAL_SHARE
            else f"{int(fractional.sum())} of the {len(numbers)} values are not whole numbers (e.g. {{}}): "
            "these look like TPM/normalised values, not read counts"
        )
        # The first check any cell fails names the column's problem.
        checks = [
            (missing, "the count is missing ({!r})", "write 0 for a gene without reads, or remove the gene's row."),
            (~finite, "{!r} is not a number", "the column must hold read counts only: correct the cell."),
            (numbers < 0, "negative count {}", "counts cannot be negative: give raw read counts."),
            (
                numbers > MAX_COUNT,
                f"count {{}} is above {MAX_COUNT:.0e}, more reads than any sequencing run gives one gene",
                "give raw read counts (an overflowed or mislabelled column?).",
            ),
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
    return unversioned(index, path, what)


def unversioned(ids: pd.Index, path: Path | str, what: str = "gene ids") -> pd.Index:
    """Ids without their Ensembl versions (:func:`knockseq.geneids.strip_versions`), checked to stay unique.

    Parameters
    ----------
    ids : pd.Index
        Ids as read, unique (n_ids).
    path : Path or str
        File the ids come from, for the error message.
    what : str
        What the ids are, for the error message.

    Returns
    -------
    pd.Index
        Same length, order and name, versions removed.

    Raises
    ------
    InputError
        If two ids differ only by their version, naming them.
    """
    stripped = pd.Index(geneids.strip_versions(ids), name=ids.name)
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
