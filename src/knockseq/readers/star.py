"""STAR ``--quantMode GeneCounts`` output (``ReadsPerGene.out.tab``) and ``Log.final.out``.

No header; 4 rows ``N_unmapped N_multimapping N_noFeature N_ambiguous`` then one row per gene:
gene id, then counts for an unstranded library (column 2), reads whose read 1 is on the gene's
strand (column 3, htseq ``-s yes``) and reads whose read 2 is (column 4, htseq ``-s reverse``,
dUTP/TruSeq libraries).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from knockseq.errors import InputError
from knockseq.readers.checks import gene_index, numbers_or_raise
from knockseq.readers.files import head, load_text, read_table, sibling
from knockseq.readers.quant import Quant

NAME = "star"
N_ROWS = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")
#: Strandedness -> column of the count in the file (counted from 1, as STAR's manual does).
COLUMN = {"unstranded": 2, "forward": 3, "reverse": 4}
#: ``auto`` calls a library stranded when one strand holds at least this share of the reads
#: counted on either strand (the 0.8 the RSeQC/nf-core strandedness checks use); otherwise it
#: is counted as unstranded.
STRANDED_SHARE = 0.8
#: Strands differing by more than this share (nf-core's "undetermined" zone: neither clearly
#: stranded nor balanced) leave the library type unknown: ``auto`` then refuses to guess.
BALANCED_MARGIN = 0.1

#: Log.final.out labels -> QC field.
LOG_FIELDS = {
    "Number of input reads": "input_reads",
    "Uniquely mapped reads number": "uniquely_mapped",
    "Uniquely mapped reads %": "percent_uniquely_mapped",
    "% of reads mapped to multiple loci": "percent_multimapped",
    "% of reads mapped to too many loci": "percent_too_many_loci",
    "% of reads unmapped: too many mismatches": "percent_unmapped_mismatches",
    "% of reads unmapped: too short": "percent_unmapped_too_short",
    "% of reads unmapped: other": "percent_unmapped_other",
    "% of chimeric reads": "percent_chimeric",
}

log = logging.getLogger(__name__)


def sniff(path: Path) -> bool:
    """The four ``N_`` rows first, each with three counts."""
    lines = head(path, 4)
    return [line.split("\t")[0] for line in lines] == list(N_ROWS) and all(line.count("\t") == 3 for line in lines)


def infer_strandedness(forward: float, reverse: float) -> tuple[str, float]:
    """Strandedness from the gene-row sums of columns 3 and 4.

    Parameters
    ----------
    forward, reverse : float
        Sums over genes of column 3 and column 4.

    Returns
    -------
    strandedness : str
        ``forward`` or ``reverse`` if that column holds at least :data:`STRANDED_SHARE` of
        ``forward + reverse``, else ``unstranded``.
    reverse_share : float
        ``reverse / (forward + reverse)`` (NaN if both are 0).
    """
    total = forward + reverse
    share = reverse / total if total else float("nan")
    if total and share >= STRANDED_SHARE:
        return "reverse", share
    if total and 1 - share >= STRANDED_SHARE:
        return "forward", share
    return "unstranded", share


def read(path: Path, strandedness: str = "auto") -> Quant:
    """Read one ``ReadsPerGene.out.tab``, keeping the column of the library's strandedness.

    Parameters
    ----------
    path : Path
        The file; ``<prefix>Log.final.out`` beside it adds mapping QC.
    strandedness : {"auto", "unstranded", "forward", "reverse"}
        Which count column to keep; ``auto`` infers it with :func:`infer_strandedness` and
        raises :class:`InputError` when the strands are neither stranded nor balanced.

    Returns
    -------
    Quant
        Counts of shape (n_genes, 1). QC: ``strandedness`` (chosen), ``strandedness_source``
        (``auto``/``config``), ``strand_reverse_share``, ``unassigned_unmapped`` ...
        ``unassigned_ambiguous`` (the N_ rows of the kept column) and, from the log,
        ``input_reads``, ``percent_uniquely_mapped``, ``percent_mapped`` and the other
        :data:`LOG_FIELDS`.
    """
    if strandedness != "auto" and strandedness not in COLUMN:
        raise InputError(
            f"unknown strandedness {strandedness!r}.",
            column="strandedness",
            fix=f"use one of auto, {', '.join(COLUMN)}.",
        )
    frame = read_table(path, header=False)
    if frame.shape[1] != 4 or list(frame[1][:4]) != list(N_ROWS):
        raise InputError(
            f"is not a STAR ReadsPerGene.out.tab: it has {frame.shape[1]} column(s); STAR writes 4 and the rows "
            f"{', '.join(N_ROWS)} first.",
            path=path,
            row=1,
            fix="give STAR's ReadsPerGene.out.tab unchanged.",
        )
    index = gene_index(frame[1][4:], path, 5)
    genes = numbers_or_raise(frame.loc[4:, [2, 3, 4]], path, 5, integer=True).set_axis(index)
    special = numbers_or_raise(frame.loc[:3, [2, 3, 4]], path, 1, integer=True)
    sums = genes.sum()
    inferred, share = infer_strandedness(float(sums.loc[3]), float(sums.loc[4]))
    if strandedness == "auto" and inferred == "unstranded" and abs(share - 0.5) > BALANCED_MARGIN:
        raise InputError(
            f"the library's strandedness cannot be inferred: column 4 (reverse) holds {share:.1%} of the reads "
            f"counted in columns 3 and 4 (a stranded library gives at least {STRANDED_SHARE:.0%} in one of them, "
            "an unstranded one about 50%).",
            path=path,
            fix="set `strandedness:` in the config to the library type: unstranded, forward or reverse "
            "(from the kit, or RSeQC's infer_experiment.py).",
        )
    chosen = inferred if strandedness == "auto" else strandedness
    if strandedness == "auto":
        log.info(
            "%s: STAR strandedness auto -> %s (column %d; gene sums unstranded %d, forward %d, reverse %d; "
            "reverse share %.3f)",
            path,
            chosen,
            COLUMN[chosen],
            sums.loc[2],
            sums.loc[3],
            sums.loc[4],
            share,
        )
    column = COLUMN[chosen]
    qc: dict[str, object] = {
        "strandedness": chosen,
        "strandedness_source": "auto" if strandedness == "auto" else "config",
        "strand_reverse_share": round(share, 4),
    }
    qc |= {f"unassigned_{name[2:].lower()}": int(special.at[i, column]) for i, name in enumerate(N_ROWS)}
    log_final = sibling(path, "ReadsPerGene.out.tab", "Log.final.out")
    if log_final is not None:
        qc |= read_log(log_final)
    counts = genes[[column]].set_axis([str(path)], axis=1)
    return Quant(path=path, format=NAME, counts=counts, qc={str(path): qc}, first_row=5)


def read_log(path: Path) -> dict[str, float]:
    """Mapping QC from STAR's ``Log.final.out``.

    Returns
    -------
    dict
        :data:`LOG_FIELDS` values found (percentages as numbers without ``%``), plus
        ``percent_mapped`` = uniquely mapped + mapped to multiple loci.
    """
    qc: dict[str, float] = {}
    for line in load_text(path).splitlines():
        label, _, value = line.partition("|")
        key = LOG_FIELDS.get(label.strip())
        if key is not None and re.fullmatch(r"[\d.]+%?", value.strip()):
            qc[key] = float(value.strip().rstrip("%"))
    for key in ("input_reads", "uniquely_mapped"):
        if key in qc:
            qc[key] = int(qc[key])
    if "percent_uniquely_mapped" in qc and "percent_multimapped" in qc:
        qc["percent_mapped"] = round(qc["percent_uniquely_mapped"] + qc["percent_multimapped"], 2)
    return qc
