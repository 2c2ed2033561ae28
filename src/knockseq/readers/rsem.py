"""RSEM ``*.genes.results`` (gene level) and ``*.isoforms.results`` (transcript level).

Headers: ``gene_id transcript_id(s) length effective_length expected_count TPM FPKM`` and
``transcript_id gene_id length effective_length expected_count TPM FPKM IsoPct`` (RSEM may add
columns after these). ``expected_count`` is a fractional estimate. QC comes from
``<prefix>.stat/<prefix>.cnt``.
"""

from __future__ import annotations

from pathlib import Path

from knockseq.readers.checks import check_header
from knockseq.readers.files import head, load_text, read_table
from knockseq.readers.quant import Quant, estimates

NAME = "rsem"
GENES = ["gene_id", "transcript_id(s)", "length", "effective_length", "expected_count", "TPM", "FPKM"]
ISOFORMS = ["transcript_id", "gene_id", "length", "effective_length", "expected_count", "TPM", "FPKM", "IsoPct"]
#: Files looked for, in this order, when a folder is given: isoforms first, so that the
#: configured countsFromAbundance (a length correction) applies as for salmon and kallisto.
FOLDER_FILES = ("*.isoforms.results", "*.genes.results")


def sniff(path: Path) -> bool:
    """One of RSEM's two headers (extra trailing columns allowed)."""
    header = head(path, 1)[0].split("\t")
    return header[: len(GENES)] == GENES or header[: len(ISOFORMS)] == ISOFORMS


def read(path: Path) -> Quant:
    """Read an RSEM results file; the header tells gene from transcript level.

    Returns
    -------
    Quant
        Estimated counts (expected_count), TPM and effective length (at least 1, as tximport
        reads it), shape (n_targets, 1); for isoforms, ``tx2gene`` from the gene_id column.
        QC ``input_reads``, ``percent_mapped`` (alignable reads) from the ``.cnt`` file.
    """
    header = head(path, 1)[0].split("\t")
    transcripts = header[0] == "transcript_id"
    check_header(header, ISOFORMS if transcripts else GENES, path, NAME)
    columns = {
        "id": "transcript_id" if transcripts else "gene_id",
        "counts": "expected_count",
        "abundance": "TPM",
        "length": "effective_length",
    }
    suffix = ".isoforms.results" if transcripts else ".genes.results"
    return estimates(
        read_table(path, header=True),
        path,
        2,
        format=NAME,
        level="transcript" if transcripts else "gene",
        columns=columns,
        qc=_qc(path, suffix),
        gene_column="gene_id" if transcripts else None,
        min_length=1.0,
    )


def _qc(path: Path, suffix: str) -> dict[str, object]:
    """Reads and alignable share from ``<prefix>.stat/<prefix>.cnt``.

    Its first line is ``N0 N1 N2 N_tot``: unalignable, alignable, filtered and total reads.
    """
    prefix = path.name.removesuffix(".gz").removesuffix(suffix)
    cnt = path.with_name(f"{prefix}.stat") / f"{prefix}.cnt"
    if not cnt.is_file():
        return {}
    _, alignable, _, total = (int(n) for n in load_text(cnt).split("\n", 1)[0].split())
    return {"input_reads": total, "percent_mapped": round(100 * alignable / total, 2) if total else None}
