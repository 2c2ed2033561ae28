"""salmon ``quant.sf`` (transcripts) and ``quant.genes.sf`` (genes, written with ``--geneMap``).

Both have the header ``Name Length EffectiveLength TPM NumReads``; NumReads are fractional
estimates. QC comes from the output folder: ``aux_info/meta_info.json`` (``percent_mapped``,
``num_processed``) and ``lib_format_counts.json`` (the library type salmon detected).
"""

from __future__ import annotations

import json
from pathlib import Path

from knockseq.readers.checks import check_header
from knockseq.readers.files import head, read_table
from knockseq.readers.quant import Quant, estimates

NAME = "salmon"
HEADER = ["Name", "Length", "EffectiveLength", "TPM", "NumReads"]
COLUMNS = {"id": "Name", "counts": "NumReads", "abundance": "TPM", "length": "EffectiveLength"}
#: Files looked for, in this order, when a salmon output folder is given.
FOLDER_FILES = ("quant.sf",)


def sniff(path: Path) -> bool:
    """salmon's five-column header."""
    return head(path, 1)[0].split("\t")[:5] == HEADER


def read(path: Path) -> Quant:
    """Read a ``quant.sf`` or ``quant.genes.sf``.

    The two share one header, so the level is taken from salmon's file name: ``*.genes.sf`` is
    gene level, anything else transcript level.

    Parameters
    ----------
    path : Path
        The quant file.

    Returns
    -------
    Quant
        Estimated counts (NumReads), TPM and effective length, shape (n_targets, 1); QC
        ``input_reads``, ``percent_mapped``, ``library_type`` when the folder has them.
    """
    check_header(head(path, 1)[0].split("\t"), HEADER, path, NAME)
    level = "gene" if path.name.removesuffix(".gz").endswith(".genes.sf") else "transcript"
    return estimates(
        read_table(path, header=True), path, 2, format=NAME, level=level, columns=COLUMNS, qc=_qc(path.parent)
    )


def _qc(folder: Path) -> dict[str, object]:
    """Mapping rate and library type from salmon's JSON side files, when present."""
    qc: dict[str, object] = {}
    meta = folder / "aux_info" / "meta_info.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
        qc["input_reads"] = info.get("num_processed")
        qc["percent_mapped"] = round(info["percent_mapped"], 2) if "percent_mapped" in info else None
    library = folder / "lib_format_counts.json"
    if library.is_file():
        qc["library_type"] = json.loads(library.read_text()).get("expected_format")
    return {key: value for key, value in qc.items() if value is not None}
