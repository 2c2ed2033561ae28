"""Cluster resources (memory, runtime, cores) of the jobs whose cost grows with the count table.

The ``fit`` and ``vst`` rules ask SLURM for memory and time computed from the size of
``results/counts/counts.tsv`` (samples x genes), from measurements on synthetic tables
(``bench/resources.py``, numbers and fit in ``docs/resources.md``). A ``resources:`` entry of
the config (``resources: {fit: {mem_mb: 64000, runtime: 600}}``) replaces a computed or fixed
value, key by key (:func:`job_resources`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Columns of ``counts.tsv`` before the sample columns.
_ID_COLUMNS = 2
#: RSS of the Snakemake process that runs the step inside the SLURM job (measured: 134 MiB).
JOBSTEP_MIB = 150


@dataclass(frozen=True)
class CostModel:
    """Peak memory and wall time of one step, linear in genes and in cells of the count table.

    ``peak_mib = base_mib + mib_per_kgene * genes / 1e3 + mib_per_mcell * cells / 1e6``, likewise
    ``seconds`` with ``base_s``, ``s_per_kgene``, ``s_per_mcell``; ``cells = samples * genes``.
    Coefficients are non-negative least-squares fits to ``bench/resources.py``'s points
    (``docs/resources.md``). Requests add the job's own Snakemake process and a margin.

    Attributes
    ----------
    base_mib, mib_per_kgene, mib_per_mcell : float
        Memory intercept (MiB, the Python process with its imports), MiB per 1000 genes, MiB
        per million cells.
    base_s, s_per_kgene, s_per_mcell : float
        Time intercept (seconds), seconds per 1000 genes and per million cells, on one CPU.
    """

    base_mib: float
    mib_per_kgene: float
    mib_per_mcell: float
    base_s: float
    s_per_kgene: float
    s_per_mcell: float

    #: Requested memory = this factor x the predicted peak: the fit's residuals stay within 2 %,
    #: but real tables are read from text (pandas' parser needs more than the synthetic arrays),
    #: and a table may be larger than the 23 million cells measured.
    MEM_FACTOR = 1.5
    #: Requested time = this factor x the prediction: measured times on the shared bench
    #: machine scatter by up to 50 % around the fit, and a job killed at its limit costs more
    #: than a generous limit.
    TIME_FACTOR = 3.0

    def mem_mb(self, n_samples: int, n_genes: int) -> int:
        """Memory to request (MB, rounded up to 100) for a samples x genes table."""
        peak = self.base_mib + self.mib_per_kgene * n_genes / 1e3 + self.mib_per_mcell * n_samples * n_genes / 1e6
        return int(math.ceil((JOBSTEP_MIB + self.MEM_FACTOR * peak) / 100) * 100)

    def runtime(self, n_samples: int, n_genes: int) -> int:
        """Minutes to request (at least 10) for a samples x genes table."""
        seconds = self.base_s + self.s_per_kgene * n_genes / 1e3 + self.s_per_mcell * n_samples * n_genes / 1e6
        return max(10, int(math.ceil(self.TIME_FACTOR * seconds / 60)))


#: DESeq2 fit (``knockseq.de.fit_design``): size factors, dispersions, GLM, Cook's.
FIT = CostModel(base_mib=221, mib_per_kgene=0.55, mib_per_mcell=134.5, base_s=0, s_per_kgene=0.006, s_per_mcell=1.516)
#: Variance-stabilising transformation (``knockseq.de.vst``).
VST = CostModel(base_mib=222, mib_per_kgene=0.14, mib_per_mcell=53.4, base_s=0, s_per_kgene=0.067, s_per_mcell=0.165)


def de_threads(compat: str, engine: str) -> int:
    """Cores the ``fit`` and ``de`` jobs can use, for a ``de.compat`` and ``de.engine`` pair.

    With ``compat: r`` and the batched engine every step is vectorised in one process (a second
    core changed nothing: screen 33 x 20k, fit 7.05 s on 1 core, 7.04 s on 2), so the job takes
    one core and leaves the other to parallel jobs. Otherwise PyDESeq2 runs per-gene steps on
    ``n_cpus`` workers (``compat: pydeseq2``: fit 26.1 s on 1 core, 17.4 s on 2); those jobs ask
    for 2 (``--set-threads fit=N`` asks for more).
    """
    return 1 if (compat, engine) == ("r", "batched") else 2


def counts_shape(path: str | os.PathLike) -> tuple[int, int]:
    """Samples and genes of a ``counts.tsv`` table, from its header and line count.

    Parameters
    ----------
    path : str or PathLike
        ``results/counts/counts.tsv`` (gene_id, gene_name, one column per sample).

    Returns
    -------
    n_samples, n_genes : int
        ``(0, 0)`` while the table does not exist yet (a dry run before the counts step ran):
        Snakemake computes the resources again when the job is submitted, after the table exists.
    """
    if not os.path.exists(path):
        return 0, 0
    with open(path, "rb") as handle:
        n_samples = handle.readline().count(b"\t") + 1 - _ID_COLUMNS
        n_genes = sum(1 for _ in handle)
    return n_samples, n_genes


def job_resources(overrides: Mapping[str, Mapping[str, int]], rule: str, **values: Any) -> dict[str, Any]:
    """A rule's ``resources:``, with the config's ``resources.<rule>`` entries in place of its own.

    Parameters
    ----------
    overrides : mapping
        The config's ``resources`` section: rule -> {``mem_mb``, ``runtime`` (minutes)}.
    rule : str
        Rule name.
    **values
        The rule's own values: numbers, or callables Snakemake evaluates per job.

    Returns
    -------
    dict
        ``values`` updated with ``overrides[rule]``, for ``resources: **job_resources(...)``.
    """
    return {**values, **overrides.get(rule, {})}
