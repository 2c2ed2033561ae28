"""The Wald test and Cook's outlier rule of DESeq2's ``results()`` (R/results.R, R/core.R).

Two rules differ from PyDESeq2's:

- **Wald standard errors.** R computes the coefficient covariance from the expected counts
  floored at 0.5 (``minmu``), the same means its GLM fit (``fitBeta``) uses; PyDESeq2 passes
  unfloored ones, which inflates the standard errors of genes with expected counts below 0.5.
  :func:`wald_test` is PyDESeq2's ``utils.wald_test`` run on all genes at once, solving for
  the contrast's column of the covariance instead of inverting each information matrix (the
  same numbers to rounding: relative differences below 1e-14 measured); the caller floors the
  means.
- **Which Cook's outliers lose their p-value** (:func:`cooks_outliers`). Both take the maximum
  Cook's distance over samples with 3 or more replicates in their cell against
  ``qf(.99, p, m - p)``, but R spares a gene where 3 or more counts exceed the outlier's only
  when the design is a single two-level factor, and PyDESeq2 spares such genes for every design.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.stats import f as f_distribution
from scipy.stats import norm

from knockseq.engine.cholesky import gram, spd_solve

__all__ = ["cooks_outliers", "is_single_two_level_factor", "wald_test"]


def wald_test(
    design: np.ndarray,
    disp: np.ndarray,
    lfc: np.ndarray,
    mu: np.ndarray,
    ridge_factor: np.ndarray,
    contrast: np.ndarray,
    lfc_null: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided Wald test of ``contrast' beta = lfc_null`` for every gene.

    PyDESeq2 calls ``utils.wald_test`` (and ``norm.sf``) once per gene; this is the same test
    vectorised over genes.

    Parameters
    ----------
    design : numpy.ndarray
        n_samples x p design matrix.
    disp : numpy.ndarray
        n_genes dispersions.
    lfc : numpy.ndarray
        n_genes x p coefficients, natural log scale.
    mu : numpy.ndarray
        n_samples x n_genes expected counts (floored by the caller).
    ridge_factor : numpy.ndarray
        p x p ridge added to the information matrix.
    contrast : numpy.ndarray or pandas.Series
        p contrast weights.
    lfc_null : float
        Natural log scale.

    Returns
    -------
    tuple of numpy.ndarray
        n_genes p-values, Wald statistics and standard errors (natural log scale).
    """
    contrast = np.asarray(contrast, dtype=float)  # PyDESeq2 passes a Series for a level contrast
    info = gram(design, mu / (1 + mu * disp))
    n_genes, p = lfc.shape
    rhs = np.broadcast_to(contrast[:, None, None], (p, 1, n_genes))
    cov_c = spd_solve(info + ridge_factor[:, :, None], rhs)[:, 0]  # (info + ridge)^-1 c
    se = np.sqrt(np.einsum("ig,ijg,jg->g", cov_c, info, cov_c))
    stat = (lfc - lfc_null) @ contrast / se
    return 2 * norm.sf(np.abs(stat)), stat, se


def cooks_outliers(
    cooks: np.ndarray,
    counts: np.ndarray,
    for_max: np.ndarray,
    zeroed: np.ndarray | None,
    n_coefficients: int,
    spare_three_larger: bool,
) -> np.ndarray:
    """Genes whose p-value ``results()`` sets to NA for a large Cook's distance.

    Parameters
    ----------
    cooks : numpy.ndarray
        n_samples x n_genes Cook's distances (NaN for all-zero genes).
    counts : numpy.ndarray
        n_samples x n_genes counts.
    for_max : numpy.ndarray
        n_samples booleans: samples with 3 or more replicates in their cell, the only ones whose
        distance counts.
    zeroed : numpy.ndarray, optional
        n_samples booleans: samples whose distances count as 0 (after a refit, R records no
        Cook's distance for replaceable samples); None for none.
    n_coefficients : int
        Columns of the design matrix (p).
    spare_three_larger : bool
        Whether a gene where 3 or more counts exceed the count of its largest Cook's distance is
        spared (R: only for a design with a single two-level factor,
        :func:`is_single_two_level_factor`).

    Returns
    -------
    numpy.ndarray
        n_genes booleans.
    """
    samples, n_genes = cooks.shape
    for_maximum = cooks.copy()
    if zeroed is not None:
        for_maximum[zeroed, :] = 0.0
    outlier = np.zeros(n_genes, dtype=bool)
    if samples > n_coefficients and for_max.any():
        cutoff = f_distribution.ppf(0.99, n_coefficients, samples - n_coefficients)
        # all-zero genes have no Cook's distances (NaN) and are never outliers
        outlier = for_maximum[for_max].max(axis=0) > cutoff
    if outlier.any() and spare_three_larger:
        genes = np.flatnonzero(outlier)
        # R reads the outlier's count at the largest distance of its cooks assay (every sample,
        # none zeroed), not at the one behind maxCooks
        worst = np.argmax(cooks[:, genes], axis=0)
        gene_counts = np.asarray(counts[:, genes])
        larger = (gene_counts > gene_counts[worst, np.arange(len(genes))]).sum(axis=0)
        outlier[genes] = larger < 3
    return outlier


def is_single_two_level_factor(design: object, variables: Iterable[str], obs: pd.DataFrame) -> bool:
    """Whether a design formula has one variable, a factor with two levels (as R sees it).

    Parameters
    ----------
    design : object
        PyDESeq2's ``design`` (a formula string, or a design matrix, which R's rule never spares).
    variables : iterable of str
        The formula's variables.
    obs : pandas.DataFrame
        n_samples rows of sample metadata.

    Returns
    -------
    bool
    """
    if not isinstance(design, str):
        return False
    variables = list(variables)
    if len(variables) != 1:
        return False
    column = obs[variables[0]]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return len(column.cat.categories) == 2
    # R turns character columns into factors and leaves numbers and logicals alone
    return not pd.api.types.is_numeric_dtype(column) and column.nunique() == 2
