"""kallisto ``abundance.tsv`` and ``abundance.h5``, with ``run_info.json`` for QC.

``abundance.tsv`` has the header ``target_id length eff_length est_counts tpm``. ``abundance.h5``
holds the same numbers at full precision (``est_counts``, ``aux/ids``, ``aux/eff_lengths``) but
no TPM, which is computed from them as kallisto and tximport do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from knockseq.errors import InputError
from knockseq.readers.checks import check_header
from knockseq.readers.files import check_file, head, read_table
from knockseq.readers.quant import Quant, estimates

NAME = "kallisto"
HEADER = ["target_id", "length", "eff_length", "est_counts", "tpm"]
COLUMNS = {"id": "target_id", "counts": "est_counts", "abundance": "tpm", "length": "eff_length"}
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
H5_DATASETS = {
    "target_id": "aux/ids",
    "length": "aux/lengths",
    "eff_length": "aux/eff_lengths",
    "est_counts": "est_counts",
}
#: Files looked for, in this order, when a kallisto output folder is given: the text file
#: first, so that results do not depend on whether h5py is installed.
FOLDER_FILES = ("abundance.tsv", "abundance.h5")


def is_hdf5(path: Path) -> bool:
    """Whether the file is HDF5 (``abundance.h5``) rather than text."""
    check_file(path)
    with open(path, "rb") as handle:
        return handle.read(len(HDF5_MAGIC)) == HDF5_MAGIC


def sniff(path: Path) -> bool:
    """kallisto's header, or an HDF5 file with kallisto's ``est_counts`` and ``aux/ids``."""
    if is_hdf5(path):
        try:
            import h5py
        except ImportError:
            return True  # read() explains what to do instead
        with h5py.File(path, "r") as h5:
            return "est_counts" in h5 and "aux/ids" in h5
    return head(path, 1)[0].split("\t")[:5] == HEADER


def read(path: Path) -> Quant:
    """Read ``abundance.tsv`` or ``abundance.h5``.

    Returns
    -------
    Quant
        Estimated counts, TPM and effective length, shape (n_targets, 1); QC ``input_reads``
        and ``percent_mapped`` from ``run_info.json`` beside the file.
    """
    frame = _read_h5(path) if is_hdf5(path) else read_table(path, header=True)
    check_header(list(frame.columns), HEADER, path, NAME)
    return estimates(frame, path, 2, format=NAME, level="transcript", columns=COLUMNS, qc=_qc(path.parent))


def _read_h5(path: Path) -> pd.DataFrame:
    """The ``abundance.tsv`` table rebuilt from ``abundance.h5``, shape (n_targets, 5)."""
    try:
        import h5py
    except ImportError:
        raise InputError(
            "is kallisto's abundance.h5, and reading it needs the h5py package, which is not installed.",
            path=path,
            fix="give abundance.tsv from the same folder instead (same numbers), or install h5py.",
        ) from None
    with h5py.File(path, "r") as h5:
        table = {column: h5[dataset][()] for column, dataset in H5_DATASETS.items()}
    table["target_id"] = table["target_id"].astype(str)
    counts, length = table["est_counts"], table["eff_length"]
    rate = np.divide(counts, length, out=np.zeros(len(counts)), where=length > 0)
    table["tpm"] = rate / rate.sum() * 1e6 if rate.sum() > 0 else rate
    return pd.DataFrame(table)


def _qc(folder: Path) -> dict[str, object]:
    """Reads processed and the pseudoalignment rate from ``run_info.json``, when present."""
    run_info = folder / "run_info.json"
    if not run_info.is_file():
        return {}
    info = json.loads(run_info.read_text())
    qc: dict[str, object] = {"input_reads": info.get("n_processed")}
    if info.get("n_processed"):
        qc["percent_mapped"] = round(100 * info["n_pseudoaligned"] / info["n_processed"], 2)
    return {key: value for key, value in qc.items() if value is not None}
