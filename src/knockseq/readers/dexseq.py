"""DEXSeq's ``dexseq_count.py`` exon-bin counts: recognised so they are refused, not misread.

They look like htseq-count output but count exon bins (``FBgn0000003:001``), and their trailer
lines have a single underscore (``_ambiguous _empty _lowaqual _notaligned``). Summing bins does
not give gene counts (reads spanning bins are counted in each), so knockseq does not read them.
"""

from __future__ import annotations

import re
from pathlib import Path

from knockseq.errors import InputError
from knockseq.readers.files import head, tail
from knockseq.readers.quant import Quant

NAME = "dexseq"
TRAILERS = ("_ambiguous", "_empty", "_lowaqual", "_notaligned")
EXON_BIN = re.compile(r"^\S+:\d{3}\t")


def sniff(path: Path) -> bool:
    """Single-underscore trailers, or ``gene:NNN`` exon-bin ids."""
    if any(line.split("\t")[0] in TRAILERS for line in tail(path, len(TRAILERS))):
        return True
    return bool(EXON_BIN.match(head(path, 1)[0]))


def read(path: Path) -> Quant:
    """Refuse the file with a message naming its format."""
    raise InputError(
        "is DEXSeq exon-bin counts (dexseq_count.py: ids like GENE:001, '_ambiguous' trailers), "
        "not gene counts; exon bins cannot be summed into gene counts.",
        path=path,
        fix="count reads per gene with htseq-count, featureCounts or STAR --quantMode GeneCounts.",
    )
