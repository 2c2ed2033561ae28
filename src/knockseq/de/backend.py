"""Which PyDESeq2 classes a fit and its tests run on: the ``compat`` rules x the GLM ``engine``.

:func:`select_backend` is the only place the two choices differ:

- ``compat="r"`` (``de.compat``, default): :mod:`knockseq.engine.rdeseq`, PyDESeq2's objects
  with R DESeq2 1.38's dispersion fits, prior variance, Cook's rule and independent filtering;
  ``compat="pydeseq2"``: stock PyDESeq2 0.5.4 (``DeseqDataSet`` / ``DeseqStats``), whose
  dispersion trend and filter threshold differ from R's (``shared/notes/pydeseq2-vs-r.md``);
- ``engine="batched"`` (``de.engine``, default): :mod:`knockseq.engine` fits every gene's GLM
  at once; ``engine="pydeseq2"``: PyDESeq2's per-gene loops, the reference it is tested against.

Every fit runs with BLAS limited to one thread (:data:`ONE_BLAS_THREAD`): PyDESeq2 solves tiny
per-gene systems, where BLAS threads only contend with each other and with the other jobs of a
busy machine. Parallelism is ``n_cpus`` processes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats

from knockseq.engine import (
    ENGINES,
    BatchedInference,
    BatchedRInference,
    RDeseqDataSet,
    RDeseqStats,
    RInference,
)
from knockseq.errors import InputError

COMPAT_MODES = ("r", "pydeseq2")

#: Keyword arguments of :func:`threadpoolctl.threadpool_limits` for every fit.
ONE_BLAS_THREAD = {"limits": 1, "user_api": "blas"}

_INFERENCE = {
    ("pydeseq2", "pydeseq2"): DefaultInference,
    ("pydeseq2", "batched"): BatchedInference,
    ("r", "pydeseq2"): RInference,
    ("r", "batched"): BatchedRInference,
}


@dataclass(frozen=True)
class Backend:
    """What ``compat`` and ``engine`` select: the PyDESeq2 classes and how to read the threshold.

    Attributes
    ----------
    compat : {"r", "pydeseq2"}
    dataset : type
        ``DeseqDataSet`` or its R-rules subclass.
    inference : type
        PyDESeq2 ``Inference`` class of the engine.
    stats : type
        ``DeseqStats`` or its R-rules subclass.
    filter_threshold : callable
        Fitted stats -> baseMean cut-off of independent filtering (a float).
    """

    compat: str
    dataset: type[DeseqDataSet]
    inference: type[DefaultInference]
    stats: type[DeseqStats]
    filter_threshold: Callable[[DeseqStats], float]

    def new_dataset(self, *, n_cpus: int, **kwargs: Any) -> DeseqDataSet:
        """A dataset of this backend (PyDESeq2's ``DeseqDataSet`` arguments)."""
        return self.dataset(inference=self.inference(n_cpus=n_cpus), n_cpus=n_cpus, **kwargs)

    def new_stats(self, dds: DeseqDataSet, *, n_cpus: int, **kwargs: Any) -> DeseqStats:
        """The statistics of one contrast on ``dds`` (PyDESeq2's ``DeseqStats`` arguments)."""
        inference = self.inference(n_cpus=n_cpus)
        if hasattr(inference, "use_fit"):  # the batched shrinkage starts from the fit's MLE
            inference.use_fit(dds)
        return self.stats(dds, inference=inference, n_cpus=n_cpus, **kwargs)


def select_backend(compat: str, engine: str) -> Backend:
    """The PyDESeq2 classes for a compat mode and a GLM engine.

    Parameters
    ----------
    compat : {"r", "pydeseq2"}
    engine : {"batched", "pydeseq2"}

    Returns
    -------
    Backend

    Raises
    ------
    InputError
        Unknown mode or engine.
    """
    if compat not in COMPAT_MODES:
        raise InputError(
            f"unknown compat mode '{compat}'.", column="de.compat", fix=f"use one of {', '.join(COMPAT_MODES)}."
        )
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'.", column="de.engine", fix=f"use one of {', '.join(ENGINES)}.")
    inference = _INFERENCE[compat, engine]
    if compat == "pydeseq2":
        return Backend(compat, DeseqDataSet, inference, DeseqStats, _smallest_kept_base_mean)
    return Backend(compat, RDeseqDataSet, inference, RDeseqStats, lambda stats: stats.filter_threshold)


def _smallest_kept_base_mean(stats: DeseqStats) -> float:
    """Smallest baseMean among genes with a padj: PyDESeq2 does not keep its filter cutoff."""
    kept = stats.base_mean[stats.padj.notna()]
    return float(kept.min()) if len(kept) else float("nan")
