"""featureCounts count tables (one or many BAM columns) and their ``.summary`` QC.

Line 1 is ``# Program:featureCounts ...``; the header is ``Geneid Chr Start End Strand Length``
then one column per BAM, named by the BAM path exactly as given on the command line. A
``<table>.summary`` beside the table gives, per BAM, ``Assigned`` and the ``Unassigned_*`` reads.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from knockseq.errors import InputError
from knockseq.readers.checks import check_header, gene_index, to_numbers
from knockseq.readers.files import head, read_table
from knockseq.readers.quant import Quant

NAME = "featurecounts"
ANNOTATION_COLUMNS = ["Geneid", "Chr", "Start", "End", "Strand", "Length"]


def sniff(path: Path) -> bool:
    """A featureCounts table or summary: the program comment line or the fixed header."""
    lines = head(path, 2)
    if lines[0].startswith("# Program:featureCounts"):
        return True
    first = lines[0].split("\t")
    summary = first[0] == "Status" and len(lines) > 1 and lines[1].startswith("Assigned\t")
    return first[:6] == ANNOTATION_COLUMNS or summary


def read(path: Path) -> Quant:
    """Read a featureCounts table; QC from ``<path>.summary`` when it exists.

    Parameters
    ----------
    path : Path
        The table ``-o`` named (not the ``.summary``).

    Returns
    -------
    Quant
        Counts of shape (n_genes, n_bams), columns named as in the header (BAM paths); QC per
        column: ``unassigned_<category>`` from the summary. Count columns with bad values are
        in ``invalid`` and only fail if used.
    """
    lines = head(path, 3)
    comments = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = lines[comments].split("\t")
    if header[0] == "Status":
        raise InputError(
            "is a featureCounts .summary file (read assignment QC), not a count table.",
            path=path,
            fix="give the count table beside it (the same name without .summary); its summary is read automatically.",
        )
    check_header(header, ANNOTATION_COLUMNS, path, NAME, row=comments + 1)
    frame = read_table(path, header=True, skip=comments)
    first_row = comments + 2
    index = gene_index(frame["Geneid"], path, first_row)
    samples = frame.drop(columns=ANNOTATION_COLUMNS).set_axis(index)
    if samples.columns.empty:
        raise InputError(
            "has no count column after Geneid..Length.",
            path=path,
            row=comments + 1,
            fix="give the featureCounts output file unchanged (one count column per BAM after Length).",
        )
    counts, invalid = to_numbers(samples, path, first_row, integer=True)
    qc = _summary(path, list(samples.columns))
    return Quant(path=path, format=NAME, counts=counts, qc=qc, first_row=first_row, invalid=invalid)


def _summary(path: Path, columns: list[str]) -> dict[str, dict[str, object]]:
    """``Unassigned_*`` per BAM column from the ``.summary`` beside the table (empty if absent)."""
    summary = path.with_name(path.name + ".summary")
    if not summary.is_file():
        return {column: {} for column in columns}
    table = read_table(summary, header=True).set_index("Status")
    table = table[[c for c in columns if c in table.columns]]
    rows = [status for status in table.index if status.startswith("Unassigned_")]
    values = table.loc[rows].apply(pd.to_numeric)
    return {
        column: {status.lower(): int(values.at[status, column]) for status in rows} if column in values else {}
        for column in columns
    }
