"""A plain genes x samples count matrix: TSV or CSV (gzipped or not), first column the gene id.

Tried last, after every tool format: any table with a header of names and numbers below it
qualifies. R's ``write.table`` header (one field fewer than the rows) is accepted. A ``gene_name``
column is taken as gene names; other columns are kept as candidate sample columns, and a column
that does not hold counts only fails if the sample sheet uses it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from knockseq.errors import InputError
from knockseq.readers._common import Quant, gene_index, head, read_table, to_numbers

NAME = "matrix"
NAME_COLUMN = "gene_name"


def _split(line: str) -> tuple[str, list[str]]:
    """Separator (tab if the line has one, else comma) and the line's fields."""
    sep = "\t" if "\t" in line else ","
    return sep, next(csv.reader([line], delimiter=sep))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff(path: Path) -> bool:
    """A header of names (not numbers, else the file has no header) over rows with numbers."""
    lines = head(path, 2)
    if len(lines) < 2:
        return False
    sep, header = _split(lines[0])
    row = next(csv.reader([lines[1]], delimiter=sep))
    if len(header) < 2 and len(row) < 2:
        return False
    if len(row) == len(header) + 1:  # R write.table: no header field above the row names
        names = header
    elif len(row) == len(header):
        names = header[1:]
    else:
        return False
    return not any(_is_number(name) for name in names) and any(_is_number(value) for value in row[1:])


def read(path: Path) -> Quant:
    """Read a count matrix.

    Returns
    -------
    Quant
        Counts of shape (n_genes, n_columns) for the columns that hold integer counts; the others
        in ``invalid`` (raised only if used); ``gene_names`` from a ``gene_name`` column.
    """
    sep, _ = _split(head(path, 1)[0])
    frame = read_table(path, header=True, sep=sep)
    if not isinstance(frame.index, pd.RangeIndex):  # R write.table layout: ids became the index
        frame = frame.reset_index()
    if frame.shape[1] < 2:
        raise InputError(
            "has a single column; a count matrix needs a gene id column and one column per sample.",
            path=path,
            row=1,
            fix="check the separator (tab or comma).",
        )
    index = gene_index(frame.iloc[:, 0], path, 2)
    samples = frame.iloc[:, 1:].set_axis(index)
    gene_names = None
    if NAME_COLUMN in samples.columns:
        gene_names = samples.pop(NAME_COLUMN).replace({"": None, "NA": None})
    counts, invalid = to_numbers(samples, path, 2, integer=True)
    qc = {column: {} for column in samples.columns}
    return Quant(path=path, format=NAME, counts=counts, qc=qc, first_row=2, gene_names=gene_names, invalid=invalid)
