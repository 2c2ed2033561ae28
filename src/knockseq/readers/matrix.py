"""A plain genes x samples count matrix: TSV or CSV (gzipped or not), first column the gene id.

Tried last, after every tool format: any table with a header of names and numbers below it
qualifies. R's ``write.table`` header (one field fewer than the rows) and Excel's ``sep=,`` first
line are accepted. A column
named like a gene-name column (:data:`NAME_COLUMNS`) is taken as gene names; other columns are
kept as candidate sample columns, and a column that does not hold counts only fails if the sample
sheet uses it. Gene ids are kept as text exactly as written (Entrez ``1``, ``00123``, ``NM_000125``),
except for Ensembl version suffixes, which every reader strips.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from knockseq.errors import InputError
from knockseq.readers.checks import gene_index, to_numbers
from knockseq.readers.files import head, read_table
from knockseq.readers.quant import Quant

NAME = "matrix"
#: Headers of a gene-name column, compared by :func:`spelling` (case, spaces, ``_``, ``.`` and
#: ``-`` ignored, so ``Gene name``, ``GeneSymbol``, ``SYMBOL`` and R's ``Gene.name`` match):
#: knockseq's own ``gene_name``; ``symbol`` (AnnotationDbi/clusterProfiler ``SYMBOL``, NCBI's
#: ``Symbol``); ``gene_symbol``; biomaRt's ``external_gene_name``, ``hgnc_symbol``,
#: ``mgi_symbol`` and the web export's ``Gene name`` / older ``Associated Gene Name``; ``gene``.
#: Only columns after the first (the gene id) are looked at.
NAME_COLUMNS = (
    "gene_name",
    "symbol",
    "gene_symbol",
    "external_gene_name",
    "hgnc_symbol",
    "mgi_symbol",
    "associated_gene_name",
    "gene",
)
#: The first line Excel writes to name a CSV file's separator (``sep=,``, ``sep=;``).
EXCEL_SEP_LINE = re.compile(r"^sep=(.)$")


def _layout(path: Path) -> tuple[int, str, list[str]]:
    """Lines before the header (Excel's ``sep=`` line), the separator and the first two lines from the header.

    The separator is the ``sep=`` line's, else tab if the header has one, else comma.
    """
    lines = head(path, 3)
    excel = EXCEL_SEP_LINE.match(lines[0].strip())
    if excel:
        return 1, excel.group(1), lines[1:]
    return 0, "\t" if "\t" in lines[0] else ",", lines[:2]


def spelling(header: str) -> str:
    """A column header reduced to lower-case letters and digits, for :data:`NAME_COLUMNS`."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


def name_column(columns: list[str]) -> str | None:
    """The first of ``columns`` (file order) spelled like a gene-name column, if any."""
    wanted = {spelling(name) for name in NAME_COLUMNS}
    return next((column for column in columns if spelling(column) in wanted), None)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff(path: Path) -> bool:
    """A header of names (not numbers, else the file has no header) over rows with numbers."""
    _, sep, lines = _layout(path)
    if len(lines) < 2:
        return False
    header, row = csv.reader(lines, delimiter=sep)
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
        in ``invalid`` (raised only if used); ``gene_names`` and ``name_column`` from the first
        gene-name column (see :data:`NAME_COLUMNS`); a second one is an ordinary extra column.
    """
    skip, sep, _ = _layout(path)
    frame = read_table(path, header=True, sep=sep, skip=skip)
    first_row = 2 + skip
    if not isinstance(frame.index, pd.RangeIndex):  # R write.table layout: ids became the index
        frame = frame.reset_index()
    if frame.shape[1] < 2:
        raise InputError(
            "has a single column; a count matrix needs a gene id column and one column per sample.",
            path=path,
            row=1,
            fix="check the separator (tab or comma).",
        )
    index = gene_index(frame.iloc[:, 0], path, first_row)
    samples = frame.iloc[:, 1:].set_axis(index)
    names = name_column(list(samples.columns))
    gene_names = None if names is None else samples.pop(names).replace({"": None, "NA": None})
    counts, invalid = to_numbers(samples, path, first_row, integer=True)
    qc = {column: {} for column in samples.columns}
    return Quant(
        path=path,
        format=NAME,
        counts=counts,
        qc=qc,
        first_row=first_row,
        gene_names=gene_names,
        name_column=names,
        invalid=invalid,
    )
