"""One DESeq2 fit per design: pre-filter, size factors, dispersions, GLM and Cook's, once.

:func:`fit_design` fits DESeq2's negative binomial GLM to the samples of a
:class:`~knockseq.fits.FitSpec` (the contrasts that share it are grouped by
:func:`knockseq.fits.fit_groups`), as R's ``DESeq(dds)``; :mod:`knockseq.de.results` then tests
each contrast on that fit. Choices that affect the numbers:

- **Model.** See :mod:`knockseq.design`: the fit's ``reference`` is the tested variable's
  baseline level, so the fitted coefficient of each ``test`` level is exactly
  log(test / reference).
- **Pre-filter** (``min_count``, default 10): genes are fitted only if they have at least
  ``min_count`` reads in at least as many samples as the smallest group of the tested variable,
  the DESeq2 vignette's recommendation. It is computed once per fit, over all the fit's samples
  and all levels of the tested variable, so every contrast sharing a fit tests the same genes.
  R's ``DESeq()`` itself filters nothing, so results match R run on the pre-filtered matrix,
  not R run on everything: size factors, the dispersion trend, and the independent-filtering
  quantiles are all computed on the kept genes. ``min_count=0`` fits every gene, as the R
  reference runs in ``shared/reference`` do. Genes removed by the pre-filter stay in the
  outputs with their ``baseMean`` and NA statistics, like all-zero genes.
- **Dispersion trend.** Parametric; when that fit fails both engines warn and use the mean of
  the gene-wise dispersions, and ``dispersion_trend`` in the metadata says which was used.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from threadpoolctl import threadpool_limits

from knockseq.de.backend import ONE_BLAS_THREAD, select_backend
from knockseq.design import Design, build_design, subset_samples
from knockseq.errors import InputError
from knockseq.fits import FitSpec

logger = logging.getLogger(__name__)

#: ``dispersion_trend`` in the metadata, by PyDESeq2's ``uns["disp_function_type"]``. knockseq
#: always asks for the parametric trend, so a mean trend means that fit failed.
DISPERSION_TRENDS = {"parametric": "parametric", "mean": "mean (parametric fit failed)"}

#: Packages whose versions the metadata records.
_VERSIONED = ("knockseq", "pydeseq2", "anndata", "numpy", "pandas", "scipy")


@dataclass
class FitResult:
    """One DESeq2 fit, ready for the Wald tests of the contrasts that share it.

    Pickled (:func:`knockseq.de.files.write_fit`) under its public name ``knockseq.de.FitResult``,
    the name ``docs/contracts.md`` gives the fit files.

    Attributes
    ----------
    spec : FitSpec
        What was fitted; ``spec.fit_id`` names the fit.
    dds : pydeseq2.dds.DeseqDataSet
        The fitted dataset of the backend (``RDeseqDataSet`` for ``compat="r"``): n_samples x
        n_kept genes, after ``deseq2()``.
    design : Design
        The checked design fitted; its ``test`` and ``coefficient`` are those of the first
        non-reference level and stand for no contrast in particular.
    sheet : pandas.DataFrame
        The whole sample sheet, indexed by sample (each contrast's design is rebuilt from it).
    counts : pandas.DataFrame
        n_genes x n_samples int64 counts of every input gene, indexed by gene_id.
    gene_names : pandas.Series
        gene_name per gene_id (n_genes).
    kept : numpy.ndarray
        n_genes booleans: genes that passed the pre-filter and were fitted.
    metadata : dict
        Fit settings and counts shared by its contrasts (JSON-ready).
    sheet_path : str or None
        Sample sheet path, named in error messages.
    """

    __module__ = "knockseq.de"

    spec: FitSpec
    dds: DeseqDataSet
    design: Design
    sheet: pd.DataFrame
    counts: pd.DataFrame
    gene_names: pd.Series
    kept: np.ndarray
    metadata: dict[str, Any]
    sheet_path: str | None = None

    @property
    def fit_id(self) -> str:
        """The fit's id, :attr:`knockseq.fits.FitSpec.fit_id`."""
        return self.spec.fit_id


def fit_design(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    spec: FitSpec,
    *,
    contrasts: Sequence[str] = (),
    n_cpus: int = 1,
    sheet_path: str | PathLike | None = None,
) -> FitResult:
    """Pre-filter the genes and fit DESeq2 (size factors, dispersions, GLM, Cook's) once.

    Logs one line: the formula, samples x genes fitted and the contrasts it is for.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table (gene_id, gene_name, samples), n_genes rows; columns of samples
        not in ``spec.samples`` are ignored.
    samples : pandas.DataFrame
        The sample sheet (``sample`` column plus attributes).
    spec : FitSpec
        The fit, e.g. from :func:`knockseq.fits.fit_spec`.
    contrasts : sequence of str
        Names of the contrasts the fit is for, for the log line.
    n_cpus : int
        Processes for PyDESeq2's per-gene fits. Does not change the results.
    sheet_path : str or PathLike, optional
        Sample sheet path, named in error messages.

    Returns
    -------
    FitResult

    Raises
    ------
    InputError
        A design problem (see :mod:`knockseq.design`), a sample missing from the counts, no gene
        left after the pre-filter, or an unknown compat mode.
    """
    backend = select_backend(spec.compat, spec.engine)
    sheet = subset_samples(samples, {}, sheet_path=sheet_path)
    rows = sheet.loc[list(spec.samples)]
    others = sorted(set(rows[spec.variable]) - {spec.reference}) if spec.variable in rows else []
    # Any other level makes the design: its matrix does not depend on the level tested.
    placeholder = {
        "name": spec.fit_id,
        "variable": spec.variable,
        "reference": spec.reference,
        "test": others[0] if others else spec.reference,
    }
    with warnings.catch_warnings():
        # A dropped covariate is reported by each contrast's own design, under its name.
        warnings.simplefilter("ignore", UserWarning)
        checked = build_design(rows, placeholder, spec.covariates, sheet_path=sheet_path)
    genes, raw = count_matrix(counts, checked.samples)

    smallest_group = int(checked.group_sizes().min())
    if spec.min_count > 0:
        kept = ((raw >= spec.min_count).sum(axis=1) >= smallest_group).to_numpy()
    else:
        kept = np.ones(len(raw), dtype=bool)
    if not kept.any():
        raise InputError(
            f"contrast{'s' if len(contrasts) > 1 else ''} {', '.join(contrasts) or spec.fit_id}: "
            f"no gene has {spec.min_count} or more reads in {smallest_group} samples.",
            column="de.min_count",
            fix="check that the counts are raw read counts, or lower de.min_count.",
        )
    logger.info(
        "fitting %s on %d samples x %s genes for contrasts: %s",
        checked.formula,
        len(checked.samples),
        f"{int(kept.sum()):,}",
        ", ".join(contrasts),
    )
    dds = backend.new_dataset(
        counts=raw.loc[kept].T,
        metadata=checked.metadata,
        design=checked.formula,
        refit_cooks=spec.cooks,
        n_cpus=n_cpus,
        quiet=True,
    )
    fitted_matrix = dds.obsm["design_matrix"]
    if list(fitted_matrix.columns) != list(checked.matrix.columns) or not np.array_equal(
        fitted_matrix.to_numpy(dtype=float), checked.matrix.to_numpy()
    ):
        raise RuntimeError(f"PyDESeq2 built another design matrix from {checked.formula} than the one checked")
    with threadpool_limits(**ONE_BLAS_THREAD):
        dds.deseq2()

    metadata = {
        "compat": spec.compat,
        "engine": spec.engine,
        "variable": checked.variable,
        "reference": checked.reference,
        "design": checked.covariates,
        "design_dropped": checked.dropped,
        "formula": checked.formula,
        "samples": checked.samples,
        "group_sizes": {str(k): int(v) for k, v in checked.group_sizes().items()},
        "min_count": spec.min_count,
        "min_samples": smallest_group if spec.min_count > 0 else 0,
        "cooks": spec.cooks,
        "dispersion_trend": DISPERSION_TRENDS[dds.uns["disp_function_type"]],
        "n_genes_input": int(len(raw)),
        "n_genes_fitted": int(kept.sum()),
        "n_genes_all_zero": int((raw.loc[kept].sum(axis=1) == 0).sum()),
        "versions": {pkg: version(pkg) for pkg in _VERSIONED},
    }
    return FitResult(
        spec=spec,
        dds=dds,
        design=checked,
        sheet=sheet,
        counts=raw,
        gene_names=genes,
        kept=kept,
        metadata=metadata,
        sheet_path=None if sheet_path is None else str(sheet_path),
    )


def count_matrix(counts: pd.DataFrame, samples: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Gene names and the integer count matrix of ``samples`` from a ``counts.tsv`` table.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table (gene_id, gene_name, samples), n_genes rows.
    samples : sequence of str
        The samples wanted, in order (n_samples).

    Returns
    -------
    gene_name : pandas.Series
        Indexed by gene_id (n_genes).
    counts : pandas.DataFrame
        n_genes x n_samples int64, indexed by gene_id.

    Raises
    ------
    InputError
        A sample without a column in the table.
    ValueError
        Counts that are not non-negative integers.
    """
    missing = [s for s in samples if s not in counts.columns]
    if missing:
        raise InputError(
            f"sample(s) {', '.join(missing)} of the sample sheet have no column in the count table.",
            column=missing[0],
            fix="make the sheet's sample names match the count table's columns.",
        )
    table = counts.set_index("gene_id")
    raw = table[list(samples)]
    values = raw.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("count table must hold non-negative integers (see docs/contracts.md)")
    return table["gene_name"], raw.astype(np.int64)
