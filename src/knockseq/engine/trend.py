"""The parametric dispersion trend: DESeq2's ``estimateDispersionsFit(fitType = "parametric")``.

Ports R/core.R's ``parametricDispersionFit`` and the ``glm(family = Gamma(link = "identity"))``
fit it calls. PyDESeq2 fits the same curve ``a0 + a1 / mean``, but with its own gene selection,
Gamma GLM and stopping rule (with its gene-wise estimates, its trend is 13-31 % from R's, median
over genes, on the reference runs of the README); here only genes above ``100 * minDisp`` enter,
re-selected each round as R does, and the GLM iterates as ``glm.fit``.

One place knowingly differs: when the parametric fit fails, R substitutes a ``locfit`` local
regression; knockseq substitutes PyDESeq2's mean trend (R's ``fitType = "mean"``), and warns
with R's text (:data:`PARAMETRIC_FIT_FAILED`).
"""

from __future__ import annotations

import numpy as np

from knockseq.errors import InputError

__all__ = ["PARAMETRIC_FIT_FAILED", "TrendFitFailed", "parametric_trend"]

# R's warning when the parametric trend fails; the last sentence names knockseq's substitute.
PARAMETRIC_FIT_FAILED = (
    "the parametric fit of dispersion estimates over the mean of counts failed, which occurs when "
    "the trend is not well captured by the function y = a/x + b. R DESeq2 substitutes a local "
    "regression fit; knockseq substitutes the mean of the gene-wise dispersion estimates "
    "(R's fitType='mean'), so the dispersions of this run will not match R's."
)


class TrendFitFailed(Exception):
    """The parametric trend cannot be fitted (R: an error caught by ``try``)."""


def parametric_trend(means: np.ndarray, disps: np.ndarray, min_disp: float) -> np.ndarray:
    """Coefficients of the trend ``a0 + a1 / mean``, fitted as ``estimateDispersionsFit``.

    Only genes with a gene-wise dispersion above ``100 * min_disp`` enter the fit.

    Parameters
    ----------
    means : numpy.ndarray
        n_genes means of normalised counts (genes with a count above zero).
    disps : numpy.ndarray
        n_genes gene-wise dispersions of the same genes.
    min_disp : float
        DESeq2's ``minDisp``.

    Returns
    -------
    numpy.ndarray
        2 coefficients: ``a0`` (asymptotic dispersion) and ``a1`` (extra-Poisson term).

    Raises
    ------
    InputError
        No gene has a gene-wise dispersion above ``100 * min_disp``.
    TrendFitFailed
        The fit fails as R's does; the caller substitutes another trend.
    """
    use = disps > 100 * min_disp
    if not use.any():
        raise InputError(
            "all gene-wise dispersion estimates are within 2 orders of magnitude of the "
            "minimum value, so no dispersion trend can be fitted",
            fix="check that the samples are biological replicates with real counts",
        )
    return parametric_dispersion_fit(means[use], disps[use])


def _gamma_identity_glm(
    x: np.ndarray, y: np.ndarray, start: np.ndarray, epsilon: float = 1e-8, maxit: int = 25
) -> tuple[np.ndarray, bool]:
    """``glm(y ~ x, family = Gamma(link = "identity"), start = start)`` as ``glm.fit`` runs it.

    IRLS with R's deviance convergence test and step halving towards the previous coefficients
    when the fitted means leave (0, inf).

    Parameters
    ----------
    x, y : numpy.ndarray
        n_points predictor and response.
    start : numpy.ndarray
        2 starting coefficients (intercept, slope).
    epsilon, maxit : float, int
        ``glm.control``'s.

    Returns
    -------
    tuple
        2 coefficients (intercept, slope) and ``fit$converged``.

    Raises
    ------
    TrendFitFailed
        Invalid starting values, or step halving cannot bring the means back into (0, inf).
    """
    design = np.column_stack([np.ones_like(x), x])

    def deviance(mu: np.ndarray) -> float:
        if not np.all(mu > 0):
            return np.inf
        return float(np.sum(-2.0 * (np.log(y / mu) - (y - mu) / mu)))

    coef_old = np.asarray(start, dtype=float)
    mu = design @ coef_old
    if not (np.all(np.isfinite(mu)) and np.all(mu > 0)):
        raise TrendFitFailed("cannot find valid starting values")
    dev_old = deviance(mu)
    coef = coef_old
    for _ in range(maxit):
        # identity link: working response is y itself, working weights 1 / mu^2
        w = 1.0 / mu
        coef = np.linalg.lstsq(design * w[:, None], y * w, rcond=None)[0]
        mu = design @ coef
        dev = deviance(mu)
        halvings = 1
        while not np.isfinite(dev):
            if halvings > maxit:
                raise TrendFitFailed("inner loop; cannot correct step size")
            halvings += 1
            coef = (coef + coef_old) / 2
            mu = design @ coef
            dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return coef, True
        dev_old = dev
        coef_old = coef
    return coef, False


def parametric_dispersion_fit(means: np.ndarray, disps: np.ndarray) -> np.ndarray:
    """R's ``parametricDispersionFit``: ``disps ~ a0 + a1 / means``, refitted on good residuals.

    Every round refits on the genes whose ``disps / fitted`` lies in (1e-4, 15) under the
    previous coefficients (starting from 0.1 + 1 / mean), until the squared log ratios of old to
    new coefficients sum below 1e-6 with a converged GLM; more than 11 rounds is a failure.

    Parameters
    ----------
    means, disps : numpy.ndarray
        n_genes means of normalised counts and gene-wise dispersions.

    Returns
    -------
    numpy.ndarray
        2 coefficients ``a0``, ``a1``.

    Raises
    ------
    TrendFitFailed
        A coefficient is not positive, the GLM fails, or the rounds do not converge.
    """
    coefs = np.array([0.1, 1.0])
    rounds = 0
    while True:
        residuals = disps / (coefs[0] + coefs[1] / means)
        good = (residuals > 1e-4) & (residuals < 15)
        old = coefs
        coefs, converged = _gamma_identity_glm(1.0 / means[good], disps[good], start=coefs)
        if not np.all(coefs > 0):
            raise TrendFitFailed("parametric dispersion fit failed")
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and converged:
            return coefs
        rounds += 1
        if rounds > 10:
            raise TrendFitFailed("dispersion fit did not converge")
