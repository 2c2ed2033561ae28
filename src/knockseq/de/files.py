"""The files DE writes: a fit, carried between workflow jobs, and the four files of a contrast.

:func:`write_fit` / :func:`read_fit` pass a :class:`~knockseq.de.fit.FitResult` from the fit job
to the jobs of its contrasts; :func:`write_de` writes a contrast's results as
``docs/contracts.md`` describes them.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from os import PathLike

from knockseq.de.fit import FitResult
from knockseq.de.results import DEResult
from knockseq.io import atomic_path, write_json, write_tsv


def write_fit(fit: FitResult, path: str | PathLike) -> None:
    """Pickle a fit atomically, for :func:`read_fit` in the jobs of its contrasts."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        pickle.dump(fit, handle, protocol=pickle.HIGHEST_PROTOCOL)


def read_fit(path: str | PathLike) -> FitResult:
    """A fit written by :func:`write_fit` (a trusted file of this workflow: it is a pickle)."""
    with open(path, "rb") as handle:
        fit = pickle.load(handle)
    if not isinstance(fit, FitResult):
        raise TypeError(f"{path} holds a {type(fit).__name__}, not a knockseq FitResult")
    return fit


def write_de(result: DEResult, paths: Mapping[str, str | PathLike]) -> None:
    """Write a contrast's results table, normalised counts, size factors and settings, atomically.

    Parameters
    ----------
    result : DEResult
    paths : mapping
        ``table``, ``normalized_counts``, ``size_factors``, ``metadata`` -> path (a Snakemake
        rule's outputs).

    Notes
    -----
    The normalised counts written are those of the contrast's own samples
    (:meth:`~knockseq.design.Design.compared`): the knockdown check and the figures read no
    others, and a screen's contrasts, which share a fit of every sample, would otherwise each write
    the whole matrix (33 samples x 20,000 genes, 8 MB).
    """
    write_tsv(result.table, paths["table"])
    write_tsv(result.normalized_counts[["gene_id", "gene_name", *result.design.compared()]], paths["normalized_counts"])
    write_tsv(result.size_factors.rename_axis("sample").reset_index(), paths["size_factors"])
    write_json(result.metadata, paths["metadata"])
