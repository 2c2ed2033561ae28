"""htseq-count output: ``gene<TAB>count`` lines, then ``__``-prefixed trailer lines.

htseq-count ends every file with ``__no_feature``, ``__ambiguous``, ``__too_low_aQual``,
``__not_aligned`` and ``__alignment_not_unique``. They are reads not assigned to a gene: kept in
QC (``unassigned_no_feature`` ...), dropped from the counts.
"""

from __future__ import annotations

from pathlib import Path

from knockseq.errors import InputError
from knockseq.readers.checks import gene_index, numbers_or_raise
from knockseq.readers.files import read_table, tail
from knockseq.readers.quant import Quant

NAME = "htseq"
TRAILERS = ("__no_feature", "__ambiguous", "__too_low_aQual", "__not_aligned", "__alignment_not_unique")


def sniff(path: Path) -> bool:
    """htseq-count's trailer lines at the end (double underscore; DEXSeq's have one)."""
    return any(line.split("\t")[0] in TRAILERS for line in tail(path, len(TRAILERS)))


def read(path: Path) -> Quant:
    """Read one htseq-count file.

    Parameters
    ----------
    path : Path
        htseq-count's standard output for one BAM.

    Returns
    -------
    Quant
        Counts of shape (n_genes, 1); QC ``unassigned_<trailer>`` for each ``__`` line.
    """
    frame = read_table(path, header=False)
    if frame.shape[1] != 2:
        extra = " (run without --additional-attr)" if frame.shape[1] > 2 else ""
        raise InputError(
            f"has {frame.shape[1]} column(s); htseq-count writes 2 (gene id, count).",
            path=path,
            row=1,
            fix=f"give htseq-count's output unchanged{extra}: one file per sample, gene id and count on each line.",
        )
    # htseq-count reserves the "__" prefix for its special counters.
    special = frame[1].str.startswith("__")
    genes = frame[~special]
    index = gene_index(genes[1], path, 1)
    counts = numbers_or_raise(genes[[2]], path, 1, integer=True).set_axis(index).set_axis([str(path)], axis=1)
    trailer = numbers_or_raise(frame.loc[special, [2]], path, 1 + int(special.idxmax()), integer=True)[2]
    qc = {f"unassigned_{name.lstrip('_').lower()}": int(n) for name, n in zip(frame.loc[special, 1], trailer)}
    return Quant(path=path, format=NAME, counts=counts, qc={str(path): qc}, first_row=1)
