"""R DESeq2 1.38 statistics on top of PyDESeq2 0.5.4.

PyDESeq2 follows DESeq2's model but not all of its numerical rules, so its dispersions, p-values
and independent-filtering threshold drift from R's (measured in ``shared/notes/pydeseq2-vs-r.md``).
This module keeps PyDESeq2's data structures and its GLM / Wald / apeGLM code, and replaces the
steps whose rules differ with ports of DESeq2's own code (R/core.R, R/results.R, src/DESeq2.cpp):

- gene-wise and MAP dispersions: ``fitDisp`` (Armijo line search on log alpha), the grid search
  ``fitDispGrid`` for rows it does not converge on, and ``estimateDispersionsGeneEst``'s rule that
  keeps the starting value when the line search gained less than a millionth of the log posterior
  (:class:`RInference`);
- the dispersion trend: ``estimateDispersionsFit`` / ``parametricDispersionFit``;
- the log-dispersion prior variance: ``estimateDispersionsPriorVar``, including its simulation for
  1-3 residual degrees of freedom;
- Cook's outlier filtering: ``results()``'s rule;
- independent filtering: ``pvalueAdjustment`` with R's ``lowess``;
- the Wald test's expected counts, floored at 0.5 as in ``fitBeta``.

The prior-variance simulation draws R's own random numbers (``set.seed(2)``, Mersenne-Twister,
``rchisq``/``rnorm``) and smooths with R's ``loess`` surface, so it returns R's value. One place
knowingly differs: when the parametric trend fails, R substitutes a ``locfit`` local regression
and knockseq substitutes PyDESeq2's mean trend (R's ``fitType = "mean"``), with R's warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats
from pydeseq2.utils import n_or_more_replicates
from scipy.special import gammaln, ndtri, polygamma, psi
from scipy.stats import f as f_distribution
from scipy.stats import norm

from knockseq.errors import InputError

__all__ = [
    "PARAMETRIC_FIT_FAILED",
    "RDeseqDataSet",
    "RDeseqStats",
    "RInference",
    "lowess",
    "r_independent_filtering",
]

# R's warning when the parametric trend fails; the last sentence names knockseq's substitute.
PARAMETRIC_FIT_FAILED = (
    "the parametric fit of dispersion estimates over the mean of counts failed, which occurs when "
    "the trend is not well captured by the function y = a/x + b. R DESeq2 substitutes a local "
    "regression fit; knockseq substitutes the mean of the gene-wise dispersion estimates "
    "(R's fitType='mean'), so the dispersions of this run will not match R's."
)

_MAXIT = 100  # maxit of estimateDispersionsGeneEst / estimateDispersionsMAP
_MAD = 1.4826  # the constant of R's mad()


# --------------------------------------------------------------------------------------------
# Dispersion likelihood and its line search (src/DESeq2.cpp: log_posterior, dlog_posterior,
# fitDisp, fitDispGrid). Rows are genes, columns samples; every function works on all rows at once.
# --------------------------------------------------------------------------------------------


def _cox_reid_matrix(weights: np.ndarray, design: np.ndarray) -> np.ndarray:
    """``t(X) %*% diag(w) %*% X`` for every row of ``weights`` (genes x samples)."""
    return np.einsum("mi,gm,mj->gij", design, weights, design)


def _log_posterior(
    log_alpha: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float,
) -> np.ndarray:
    """DESeq2's ``log_posterior``: NB log likelihood less constants, Cox-Reid term, prior."""
    alpha = np.exp(log_alpha)[:, None]
    cr_term = -0.5 * np.log(np.linalg.det(_cox_reid_matrix(1.0 / (1.0 / mu + alpha), design)))
    inv_alpha = 1.0 / alpha
    ll_part = np.sum(
        gammaln(y + inv_alpha)
        - gammaln(inv_alpha)
        - y * np.log(mu + inv_alpha)
        - inv_alpha * np.log(1.0 + mu * alpha),
        axis=1,
    )
    prior_part = 0.0 if prior_mean is None else -0.5 * (log_alpha - prior_mean) ** 2 / prior_var
    return ll_part + prior_part + cr_term


def _dlog_posterior(
    log_alpha: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float,
) -> np.ndarray:
    """DESeq2's ``dlog_posterior``: derivative of :func:`_log_posterior` in log alpha."""
    alpha = np.exp(log_alpha)[:, None]
    b = _cox_reid_matrix(1.0 / (1.0 / mu + alpha), design)
    db = _cox_reid_matrix(-1.0 / (1.0 / mu + alpha) ** 2, design)
    cr_term = -0.5 * np.einsum("gii->g", np.linalg.solve(b, db))
    inv_alpha = 1.0 / alpha
    ll_part = (1.0 / alpha[:, 0] ** 2) * np.sum(
        psi(inv_alpha)
        + np.log(1.0 + mu * alpha)
        - mu * alpha / (1.0 + mu * alpha)
        - psi(y + inv_alpha)
        + y / (mu + inv_alpha),
        axis=1,
    )
    prior_part = 0.0 if prior_mean is None else -(log_alpha - prior_mean) / prior_var
    return (ll_part + cr_term) * alpha[:, 0] + prior_part


def _fit_disp(
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    log_alpha: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float,
    min_log_alpha: float,
    chunk: int = 8192,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """DESeq2's ``fitDisp``: Armijo line search on log alpha, one independent search per row.

    Rows are searched ``chunk`` at a time, which bounds memory with many samples.

    Returns
    -------
    tuple of ndarray
        Final log alpha, iterations used, log posterior at the start and at the end (the end
        value is the last accepted one, as in the C++ code, including its early exit when log
        alpha falls below ``min_log_alpha`` before the log posterior is updated).
    """
    parts = [
        _fit_disp_rows(
            y[rows], mu[rows], design, log_alpha[rows],
            None if prior_mean is None else prior_mean[rows], prior_var, min_log_alpha,
        )
        for rows in (slice(i, i + chunk) for i in range(0, len(y), chunk))
    ]
    return tuple(np.concatenate(part) for part in zip(*parts, strict=True))


def _fit_disp_rows(
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    log_alpha: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float,
    min_log_alpha: float,
    kappa_0: float = 1.0,
    tol: float = 1e-6,
    maxit: int = _MAXIT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The line search of :func:`_fit_disp` on all given rows at once."""
    a = np.asarray(log_alpha, dtype=float).copy()

    def args(rows: np.ndarray) -> tuple:
        mean = None if prior_mean is None else prior_mean[rows]
        return y[rows], mu[rows], design, mean, prior_var

    everyone = np.arange(len(a))
    lp = _log_posterior(a, *args(everyone))
    dlp = _dlog_posterior(a, *args(everyone))
    initial_lp = lp.copy()
    kappa = np.full(len(a), kappa_0)
    iters = np.zeros(len(a), dtype=int)
    accepts = np.zeros(len(a), dtype=int)
    active = np.ones(len(a), dtype=bool)
    for _ in range(maxit):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        iters[rows] += 1
        a_r, dlp_r, k = a[rows], dlp[rows], kappa[rows]
        proposal = a_r + k * dlp_r
        # log alpha is kept within [-30, 10]: lgamma is unstable for 1/alpha around 1e17
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(proposal < -30.0, (-30.0 - a_r) / dlp_r, k)
            k = np.where(proposal > 10.0, (10.0 - a_r) / dlp_r, k)
        lp_new = _log_posterior(a_r + k * dlp_r, *args(rows))
        accepted = -lp_new <= -lp[rows] - k * 1e-4 * dlp_r**2
        kappa[rows[~accepted]] = k[~accepted] / 2.0

        acc_rows = rows[accepted]
        accepts[acc_rows] += 1
        a[acc_rows] = a_r[accepted] + k[accepted] * dlp_r[accepted]
        lp_acc = lp_new[accepted]
        converged = lp_acc - lp[acc_rows] < tol
        to_minus_infinity = ~converged & (a[acc_rows] < min_log_alpha)
        lp[acc_rows[converged]] = lp_acc[converged]
        active[acc_rows[converged | to_minus_infinity]] = False

        go_on = ~converged & ~to_minus_infinity
        next_rows = acc_rows[go_on]
        lp[next_rows] = lp_acc[go_on]
        dlp[next_rows] = _dlog_posterior(a[next_rows], *args(next_rows))
        next_kappa = np.minimum(k[accepted][go_on] * 1.1, kappa_0)
        # every 5 accepted steps the step is halved, against overshooting
        kappa[next_rows] = np.where(accepts[next_rows] % 5 == 0, next_kappa / 2.0, next_kappa)
    return a, iters, initial_lp, lp


def _fit_disp_grid(
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    max_disp: float,
    prior_mean: np.ndarray | None,
    prior_var: float,
) -> np.ndarray:
    """DESeq2's ``fitDispGridWrapper``: best of 20 log-alpha values, then of 20 around it."""
    grid = np.linspace(np.log(1e-8), np.log(max_disp), 20)
    delta = grid[1] - grid[0]

    def best(values: np.ndarray) -> np.ndarray:
        lps = np.column_stack(
            [_log_posterior(values[:, t], y, mu, design, prior_mean, prior_var) for t in range(20)]
        )
        return values[np.arange(len(values)), np.argmax(lps, axis=1)]

    a_hat = best(np.broadcast_to(grid, (len(y), 20)))
    return np.exp(best(np.linspace(a_hat - delta, a_hat + delta, 20, axis=1)))


class RInference(DefaultInference):
    """PyDESeq2 inference whose dispersion fits are DESeq2's.

    :meth:`alpha_mle` is DESeq2's dispersion search, vectorised over genes; :meth:`wald_test`
    floors the means first. The rest is PyDESeq2's :class:`DefaultInference` (IRLS, apeGLM) with
    its ``n_cpus`` parallelism.

    Attributes
    ----------
    min_mu : float
        Floor of the expected counts in the dispersion likelihood (``minmu`` of
        ``estimateDispersionsGeneEst``, 0.5). PyDESeq2 hands over its GLM means unfloored.
    """

    min_mu: float = 0.5

    def alpha_mle(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None = None,
        cr_reg: bool = True,
        prior_reg: bool = False,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
        init: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gene-wise (``prior_reg=False``) or MAP (``prior_reg=True``) dispersions, as DESeq2.

        Parameters
        ----------
        counts, mu : ndarray
            Samples x genes, as PyDESeq2 passes them.
        design_matrix : ndarray
            Samples x coefficients.
        alpha_hat : ndarray
            Gene-wise: the starting (rough method-of-moments) dispersions. MAP: the fitted trend,
            which is the prior mean.
        min_disp, max_disp : float
            Bounds of the returned dispersions.
        prior_disp_var : float, optional
            Variance of the normal prior on log dispersions (MAP only).
        cr_reg : bool
            Must be True: DESeq2 always uses the Cox-Reid adjustment.
        prior_reg : bool
            Whether to fit MAP dispersions.
        optimizer : str
            Ignored; kept for PyDESeq2's call signature.
        init : ndarray, optional
            MAP starting values (``estimateDispersionsMAP``'s ``dispInit``); ``alpha_hat`` if None.

        Returns
        -------
        tuple of ndarray
            Dispersions and whether the line search converged, per gene.
        """
        if not cr_reg:
            raise NotImplementedError("DESeq2 always applies the Cox-Reid adjustment")
        y = np.asarray(counts, dtype=float).T
        mu_t = np.maximum(np.asarray(mu, dtype=float).T, self.min_mu)
        design = np.asarray(design_matrix, dtype=float)
        min_log_alpha = np.log(min_disp / 10)
        if prior_reg:
            # estimateDispersionsMAP: prior centred on the trend; grid search where fitDisp ran
            # out of iterations
            prior_mean = np.log(alpha_hat)
            start = alpha_hat if init is None else init
            log_alpha, iters, _, _ = _fit_disp(
                y, mu_t, design, np.log(start), prior_mean, prior_disp_var, min_log_alpha
            )
            disp = np.exp(log_alpha)
            converged = iters < _MAXIT
            redo = ~converged
            if redo.any():
                disp[redo] = _fit_disp_grid(
                    y[redo], mu_t[redo], design, max_disp, prior_mean[redo], prior_disp_var
                )
            return np.clip(disp, min_disp, max_disp), converged
        # estimateDispersionsGeneEst (niter = 1)
        log_alpha, iters, initial_lp, last_lp = _fit_disp(
            y, mu_t, design, np.log(alpha_hat), None, 1.0, min_log_alpha
        )
        disp = np.minimum(np.exp(log_alpha), max_disp)
        # moves that raised the log posterior by less than a millionth are not accepted
        no_increase = last_lp < initial_lp + np.abs(initial_lp) / 1e6
        disp[no_increase] = alpha_hat[no_increase]
        converged = (iters < _MAXIT) & (iters != 1)
        redo = ~converged & (disp > min_disp * 10)
        if redo.any():
            disp[redo] = _fit_disp_grid(y[redo], mu_t[redo], design, max_disp, None, 1.0)
        return np.clip(disp, min_disp, max_disp), converged

    def wald_test(
        self,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        lfc: np.ndarray,
        mu: np.ndarray,
        ridge_factor: np.ndarray,
        contrast: np.ndarray,
        lfc_null: np.ndarray,
        alt_hypothesis: Literal["greaterAbs", "lessAbs", "greater", "less"] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """PyDESeq2's Wald test with the means floored at ``min_mu``, as DESeq2's ``fitBeta``.

        R computes the coefficient covariance from the same floored means as the GLM fit;
        PyDESeq2 passes unfloored ones, which inflates the standard errors of genes with
        expected counts below 0.5. The two-sided test (``alt_hypothesis=None``, the only one
        knockseq runs) is PyDESeq2's ``utils.wald_test`` on all genes at once, with the same
        operations per gene in the same order, so the same numbers to the last bit; PyDESeq2
        calls ``norm.sf`` once per gene. The one-sided tests are PyDESeq2's per-gene code.

        Parameters
        ----------
        design_matrix : ndarray, shape (n, p)
        disp : ndarray, shape (G,)
        lfc : ndarray, shape (G, p)
            Coefficients, natural log scale.
        mu : ndarray, shape (n, G)
            Expected counts.
        ridge_factor : ndarray, shape (p, p)
        contrast : ndarray or pandas.Series, shape (p,)
        lfc_null : float
            Natural log scale.
        alt_hypothesis : str, optional

        Returns
        -------
        tuple of ndarray, each shape (G,)
            p-values, Wald statistics and standard errors (natural log scale).
        """
        mu = np.maximum(mu, self.min_mu)
        if alt_hypothesis is not None:
            return super().wald_test(
                design_matrix=design_matrix,
                disp=disp,
                lfc=lfc,
                mu=mu,
                ridge_factor=ridge_factor,
                contrast=contrast,
                lfc_null=lfc_null,
                alt_hypothesis=alt_hypothesis,
            )
        contrast = np.asarray(contrast, dtype=float)  # PyDESeq2 passes a Series for a level contrast
        weights = mu.T / (1 + mu.T * disp[:, None])
        info = (design_matrix.T[None, :, :] * weights[:, None, :]) @ design_matrix
        cov_c = np.linalg.inv(info + ridge_factor) @ contrast
        # (1, p) @ (p, 1) products: numpy's matmul runs them as the dot of utils.wald_test's 1-d @
        se = np.sqrt((cov_c[:, None, :] @ info) @ cov_c[:, :, None])[:, 0, 0]
        stat = ((lfc - lfc_null)[:, None, :] @ contrast[:, None])[:, 0, 0] / se
        return 2 * norm.sf(np.abs(stat)), stat, se


# --------------------------------------------------------------------------------------------
# Dispersion trend (R/core.R: parametricDispersionFit, with stats::glm's Gamma fit)
# --------------------------------------------------------------------------------------------


class _TrendFitFailed(Exception):
    """The parametric trend cannot be fitted (R: an error caught by ``try``)."""


def _gamma_identity_glm(
    x: np.ndarray, y: np.ndarray, start: np.ndarray, epsilon: float = 1e-8, maxit: int = 25
) -> tuple[np.ndarray, bool]:
    """``glm(y ~ x, family = Gamma(link = "identity"), start = start)`` as ``glm.fit`` runs it.

    IRLS with R's deviance convergence test and step halving towards the previous coefficients
    when the fitted means leave (0, inf).

    Returns
    -------
    tuple
        Coefficients (intercept, slope) and ``fit$converged``.
    """
    design = np.column_stack([np.ones_like(x), x])

    def deviance(mu: np.ndarray) -> float:
        if not np.all(mu > 0):
            return np.inf
        return float(np.sum(-2.0 * (np.log(y / mu) - (y - mu) / mu)))

    coef_old = np.asarray(start, dtype=float)
    mu = design @ coef_old
    if not (np.all(np.isfinite(mu)) and np.all(mu > 0)):
        raise _TrendFitFailed("cannot find valid starting values")
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
                raise _TrendFitFailed("inner loop; cannot correct step size")
            halvings += 1
            coef = (coef + coef_old) / 2
            mu = design @ coef
            dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return coef, True
        dev_old = dev
        coef_old = coef
    return coef, False


def _parametric_dispersion_fit(means: np.ndarray, disps: np.ndarray) -> np.ndarray:
    """R's ``parametricDispersionFit``: ``disps ~ a0 + a1 / means``, refitted on good residuals.

    Every round refits on the genes whose ``disps / fitted`` lies in (1e-4, 15) under the
    previous coefficients (starting from 0.1 + 1 / mean), until the squared log ratios of old to
    new coefficients sum below 1e-6 with a converged GLM; more than 11 rounds is a failure.
    """
    coefs = np.array([0.1, 1.0])
    rounds = 0
    while True:
        residuals = disps / (coefs[0] + coefs[1] / means)
        good = (residuals > 1e-4) & (residuals < 15)
        old = coefs
        coefs, converged = _gamma_identity_glm(1.0 / means[good], disps[good], start=coefs)
        if not np.all(coefs > 0):
            raise _TrendFitFailed("parametric dispersion fit failed")
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and converged:
            return coefs
        rounds += 1
        if rounds > 10:
            raise _TrendFitFailed("dispersion fit did not converge")


# --------------------------------------------------------------------------------------------
# Prior variance for few residual degrees of freedom (estimateDispersionsPriorVar)
# --------------------------------------------------------------------------------------------


def _hist_density(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """``hist(values, breaks, plot = FALSE)$density``: right-closed bins (a, b]."""
    bins = np.searchsorted(breaks, values, side="left") - 1
    counts = np.bincount(np.maximum(bins, 0), minlength=len(breaks) - 1)
    return counts / (len(values) * np.diff(breaks))


def _loess(x: np.ndarray, y: np.ndarray, x_new: np.ndarray, span: float) -> np.ndarray:
    """``predict(loess(y ~ x, span = span), x_new)`` for sorted, distinct ``x`` (R's defaults).

    Degree 2 with tricube weights over the ``floor(n * span)`` nearest points, evaluated as R's
    ``surface = "interpolate"``: exact local fits (value and slope) at the vertices of a k-d tree
    whose cells hold at most ``floor(n * span * 0.2)`` points, inside a bounding box widened by
    0.5 %, and cubic Hermite interpolation between them.
    """
    n = len(x)
    q = int(np.floor(n * span))
    cell_size = int(np.floor(n * span * 0.2))
    margin = 0.005 * (x[-1] - x[0])
    vertices = [x[0] - margin, x[-1] + margin]
    cells = [(0, n - 1)]
    while cells:
        low, high = cells.pop()
        if high - low + 1 > cell_size:
            median = (low + high) // 2  # cells split at their median point (ehg124)
            vertices.append(x[median])
            cells += [(low, median), (median + 1, high)]
    vertex = np.sort(vertices)
    value = np.empty(len(vertex))
    slope = np.empty(len(vertex))
    for i, x0 in enumerate(vertex):
        dist = np.abs(x - x0)
        sw = np.sqrt(np.clip(1 - (dist / np.sort(dist)[q - 1]) ** 3, 0, None) ** 3)
        basis = np.vander(x - x0, 3, increasing=True)
        value[i], slope[i] = np.linalg.lstsq(basis * sw[:, None], y * sw, rcond=None)[0][:2]
    i = np.clip(np.searchsorted(vertex, x_new, side="right") - 1, 0, len(vertex) - 2)
    h = vertex[i + 1] - vertex[i]
    u = (x_new - vertex[i]) / h
    return (
        (1 - u) ** 2 * (1 + 2 * u) * value[i]
        + u**2 * (3 - 2 * u) * value[i + 1]
        + (u * (1 - u) ** 2 * slope[i] - u**2 * (1 - u) * slope[i + 1]) * h
    )


class _RRandom:
    """R's default random numbers after ``set.seed(seed)``: Mersenne-Twister, inversion normals.

    Reproduces the streams of ``rnorm`` and ``rchisq`` (R's ``rgamma``: Ahrens & Dieter's GD for
    shape >= 1, GS below, with ``exp_rand``), so the prior-variance simulation draws R's very
    numbers. The rejection samplers use a variable number of uniforms per draw, so their
    outcome is computed for every possible start position of a block of uniforms at once, and
    the draws then hop through the block.
    """

    _BIG = 134217728.0  # 2^27, R's norm_rand INVERSION
    # exp_rand's q[k - 1] = sum(log(2)^i / i!, i = 1..k)
    _EXP_Q = np.cumsum([math.log(2) ** k / math.factorial(k) for k in range(1, 17)])
    _LOOKAHEAD = 20  # most uniforms one rejection step can need, with margin

    def __init__(self, seed: int) -> None:
        state = seed & 0xFFFFFFFF
        for _ in range(50):  # R's initial scrambling (RNG_Init)
            state = (69069 * state + 1) & 0xFFFFFFFF
        key = []
        for _ in range(625):
            state = (69069 * state + 1) & 0xFFFFFFFF
            key.append(state)
        self._mt = np.random.MT19937()
        # the first of R's 625 seeds is the position, which FixupSeeds sets to 624
        self._mt.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(key[1:], dtype=np.uint32), "pos": 624},
        }
        self._buffer = np.empty(0)
        self._pos = 0

    def _peek(self, n: int) -> np.ndarray:
        """The next ``n`` values of ``unif_rand()``, without drawing them."""
        if self._pos + n > len(self._buffer):
            fresh = self._mt.random_raw(max(n, 1 << 16)) * 2.3283064365386963e-10
            # fixup(): keep values strictly inside (0, 1)
            fresh[fresh <= 0.0] = 0.5 * 2.328306437080797e-10
            self._buffer = np.concatenate([self._buffer[self._pos :], fresh])
            self._pos = 0
        return self._buffer[self._pos : self._pos + n]

    def _take(self, n: int) -> np.ndarray:
        """Draw the next ``n`` values of ``unif_rand()``."""
        out = self._peek(n)
        self._pos += n
        return out

    def rnorm(self, n: int, sd: float) -> np.ndarray:
        """``rnorm(n, 0, sd)``; R draws nothing when ``sd`` is 0."""
        if sd == 0.0:
            return np.zeros(n)
        u = self._take(2 * n).reshape(n, 2)
        return sd * ndtri((np.floor(self._BIG * u[:, 0]) + u[:, 1]) / self._BIG)

    def rchisq(self, n: int, df: float) -> np.ndarray:
        """``rchisq(n, df)``, i.e. ``rgamma(n, df / 2, scale = 2)``."""
        a = df / 2.0
        return 2.0 * (self._gamma_gs(n, a) if a < 1.0 else self._gamma_gd(n, a))

    def _exp_table(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``exp_rand()`` started at each position of ``u``: value and uniforms used.

        The count depends on the first uniform only; valid where 17 more values follow.
        """
        frac, exponent = np.frexp(u[: -self._LOOKAHEAD])
        # doublings until u > 1: u * 2^m, exact in binary
        m = np.where(frac > 0.5, 1 - exponent, 2 - exponent)
        rest = np.ldexp(frac, exponent + m) - 1.0
        base = (m - 1) * self._EXP_Q[0]
        extra = np.searchsorted(self._EXP_Q, rest, side="left")  # do-while rounds, >= 1
        running_min = u[1 : len(rest) + 1].copy()
        window_min = np.where(extra == 0, running_min, np.nan)
        for i in range(1, len(self._EXP_Q)):
            running_min = np.minimum(running_min, u[1 + i : len(rest) + 1 + i])
            window_min = np.where(extra == i, running_min, window_min)
        simple = rest <= self._EXP_Q[0]
        value = np.where(simple, base + rest, base + window_min * self._EXP_Q[0])
        return value, np.where(simple, 1, 2 + extra)

    def _hop(
        self, n: int, first: Callable[[np.ndarray], tuple], retry: Callable[[np.ndarray], tuple]
    ) -> np.ndarray:
        """Run ``n`` rejection draws through the uniform stream.

        ``first`` and ``retry`` map a block of uniforms to, per start position, the uniforms a
        step uses, whether it accepts and the value; a draw starts with ``first`` and repeats
        ``retry`` until accepted.
        """
        out = np.empty(n)
        k = 0
        retrying = False
        while k < n:
            block = self._peek(4 * (n - k) + 64 + self._LOOKAHEAD)
            steps = [[t.tolist() for t in table(block)] for table in (first, retry)]
            valid = min(len(step[0]) for step in steps)  # starts with all their uniforms in block
            at = 0
            while k < n and at < valid:
                used, accepted, value = steps[retrying]
                if accepted[at]:
                    out[k] = value[at]
                    k += 1
                    retrying = False
                else:
                    retrying = True
                at += used[at]
            self._take(at)
        return out

    def _gamma_gs(self, n: int, a: float) -> np.ndarray:
        """R's rgamma for shape < 1 (Ahrens & Dieter 1974, GS): unit-scale draws."""
        e_a = 1.0 + 0.36787944117144233 * a

        def attempt(u: np.ndarray) -> tuple:
            e, e_used = self._exp_table(u[1:])
            p = e_a * u[: len(e)]
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(p >= 1.0, -np.log((e_a - p) / a), np.exp(np.log(p) / a))
                accept = np.where(p >= 1.0, e >= (1.0 - a) * np.log(x), e >= x)
            return 1 + e_used, accept, x

        return self._hop(n, attempt, attempt)

    def _gamma_gd(self, n: int, a: float) -> np.ndarray:
        """R's rgamma for shape >= 1 (Ahrens & Dieter 1982, GD): unit-scale draws."""
        s2 = a - 0.5
        s = math.sqrt(s2)
        d = 5.656854 - 12.0 * s
        r = 1.0 / a
        q0 = (
            (((((2.424e-4 * r + 2.4511e-4) * r - 7.388e-5) * r + 0.00144121) * r + 0.00801191) * r
             + 0.02083148) * r + 0.04166669
        ) * r
        if a <= 3.686:
            b, si, c = 0.463 + s + 0.178 * s2, 1.235, 0.195 / s - 0.079 + 0.16 * s
        elif a <= 13.022:
            b, si, c = 1.654 + 0.0076 * s2, 1.68 / s + 0.275, 0.062 / s + 0.024
        else:
            b, si, c = 1.77, 0.75, 0.1515 / s

        def quotient(t: np.ndarray) -> np.ndarray:
            v = t / (s + s)
            poly = ((((((0.1233795 * v - 0.1367177) * v + 0.1423657) * v - 0.1662921) * v
                      + 0.2000062) * v - 0.250003) * v + 0.3333333) * v
            with np.errstate(invalid="ignore"):
                far = q0 - s * t + 0.25 * t * t + (s2 + s2) * np.log(1.0 + v)
            return np.where(np.abs(v) <= 0.25, q0 + 0.5 * t * t * poly, far)

        def first(u: np.ndarray) -> tuple:
            # steps 2-7: normal deviate t, then squeeze and quotient tests with one uniform;
            # a rejected start goes on to step 8 after its 3 uniforms
            t = ndtri((np.floor(self._BIG * u[:-2]) + u[1:-1]) / self._BIG)
            x = s + 0.5 * t
            with np.errstate(invalid="ignore", divide="ignore"):
                late = (d * u[2:] <= t * t * t) | ((x > 0.0) & (np.log(1.0 - u[2:]) <= quotient(t)))
            return np.where(t >= 0.0, 2, 3), (t >= 0.0) | late, x * x

        def step8(u: np.ndarray) -> tuple:
            # steps 8-11: double exponential proposal, hat acceptance
            e, e_used = self._exp_table(u)
            w = 2.0 * u[e_used + np.arange(len(e))] - 1.0
            t = np.where(w < 0.0, b - si * e, b + si * e)
            q = quotient(t)
            with np.errstate(invalid="ignore", over="ignore"):
                accept = (t >= -0.71874483771719) & (q > 0.0) & (
                    c * np.abs(w) <= np.expm1(q) * np.exp(e - 0.5 * t * t)
                )
            return e_used + 1, accept, (s + 0.5 * t) ** 2

        return self._hop(n, first, step8)


def _simulated_prior_var(residuals: np.ndarray, df: int) -> float:
    """Prior variance matching log chi-square noise plus a normal prior to the residuals.

    DESeq2's Monte-Carlo estimator for 1-3 residual degrees of freedom, with R's random numbers
    after ``set.seed(2)``: for 200 prior variances in [0, 8], simulate 1e4 log dispersion
    residuals, take the KL divergence of the residual histogram from the simulated one, smooth
    the 200 divergences (loess, span 0.2) and take the minimiser on a 1000-point grid, floored
    at 0.25.
    """
    breaks = np.arange(-20, 21) / 2
    observed = residuals[(residuals > breaks[0]) & (residuals < breaks[-1])]
    observed_density = _hist_density(observed, breaks)
    var_grid = np.linspace(0, 8, 200)
    rng = _RRandom(2)
    kl = np.empty(len(var_grid))
    for i, var in enumerate(var_grid):
        chisq = rng.rchisq(10_000, df)
        simulated = np.log(chisq) + rng.rnorm(10_000, np.sqrt(var)) - np.log(df)
        simulated = simulated[(simulated > breaks[0]) & (simulated < breaks[-1])]
        simulated_density = _hist_density(simulated, breaks)
        both = np.concatenate([observed_density, simulated_density])
        small = both[both > 0].min()
        kl[i] = np.sum(
            observed_density
            * (np.log(observed_density + small) - np.log(simulated_density + small))
        )
    fine_grid = np.linspace(0, 8, 1000)
    smoothed = _loess(var_grid, kl, fine_grid, span=0.2)
    return max(float(fine_grid[np.argmin(smoothed)]), 0.25)


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------


class RDeseqDataSet(DeseqDataSet):
    """A PyDESeq2 :class:`~pydeseq2.dds.DeseqDataSet` whose dispersions and Cook's rule are R's.

    Same constructor as PyDESeq2's; ``inference`` must be an :class:`RInference` (the default,
    built with ``n_cpus``). ``deseq2()`` then runs DESeq2's gene-wise fit, trend, prior variance,
    MAP fit and Cook's outlier rule; the GLM, Cook's distances and outlier replacement/refit
    (``minReplicatesForReplace`` = 7, trimmed-mean replacement) are PyDESeq2's, which already
    follow R's ``refitWithoutOutliers``.
    """

    def __init__(
        self, *, inference: RInference | None = None, n_cpus: int | None = None, **kwargs
    ) -> None:
        if inference is None:
            inference = RInference(n_cpus=n_cpus)
        elif not isinstance(inference, RInference):
            raise TypeError("RDeseqDataSet needs an RInference (or None for the default)")
        super().__init__(inference=inference, n_cpus=n_cpus, **kwargs)
        inference.min_mu = self.min_mu

    def fit_genewise_dispersions(self, vst: bool = False) -> None:
        """Gene-wise dispersions (``estimateDispersionsGeneEst``), after checking replicates.

        Parameters
        ----------
        vst : bool
            Whether the estimates are for the variance-stabilising transformation.
        """
        samples, coefficients = self.obsm["design_matrix"].shape
        if samples <= coefficients:
            raise InputError(
                f"the design has {coefficients} coefficients for {samples} samples, which leaves "
                "no replicates to estimate the dispersion",
                column="design",
                fix="remove covariates from the design or add samples",
            )
        super().fit_genewise_dispersions(vst)

    def _fit_parametric_dispersion_trend(self, vst: bool = False) -> None:
        """Fit the trend as ``estimateDispersionsFit(fitType = "parametric")``.

        Only genes with a gene-wise dispersion above ``100 * min_disp`` enter the fit; if it
        fails, warn with :data:`PARAMETRIC_FIT_FAILED` and use PyDESeq2's mean trend.

        Parameters
        ----------
        vst : bool
            Whether the trend is for the variance-stabilising transformation.
        """
        name = "vst_genewise_dispersions" if vst else "genewise_dispersions"
        if name not in self.var:
            self.fit_genewise_dispersions(vst)
        non_zero = self.var["non_zero"].to_numpy()
        means = self.var["_normed_means"].to_numpy()
        disps = self.var[name].to_numpy()
        use = non_zero & (disps > 100 * self.min_disp)
        if not use.any():
            raise InputError(
                "all gene-wise dispersion estimates are within 2 orders of magnitude of the "
                "minimum value, so no dispersion trend can be fitted",
                fix="check that the samples are biological replicates with real counts",
            )
        try:
            coeffs = _parametric_dispersion_fit(means[use], disps[use])
        except _TrendFitFailed:
            warnings.warn(PARAMETRIC_FIT_FAILED, UserWarning, stacklevel=2)
            self._fit_mean_dispersion_trend(vst)
            return
        self.uns["vst_trend_coeffs" if vst else "trend_coeffs"] = pd.Series(
            coeffs, index=["a0", "a1"]
        )
        if not vst:
            self.uns["disp_function_type"] = "parametric"
            fitted = np.full(self.n_vars, np.nan)
            fitted[non_zero] = self.disp_function(means[non_zero])
            self.var["fitted_dispersions"] = fitted

    def fit_dispersion_prior(self) -> None:
        """Variance of the log-dispersion prior, as ``estimateDispersionsPriorVar``.

        ``uns["_squared_logres"]`` is R's ``varLogDispEsts`` (squared MAD of the log residuals of
        genes with gene-wise dispersion >= ``100 * min_disp``); ``uns["prior_disp_var"]`` is
        ``max(varLogDispEsts - trigamma((m - p) / 2), 0.25)``, or the simulation estimate when the
        design leaves 1 to 3 residual degrees of freedom.
        """
        if "fitted_dispersions" not in self.var:
            self.fit_dispersion_trend()
        samples, coefficients = self.obsm["design_matrix"].shape
        non_zero = self.var["non_zero"].to_numpy()
        genewise = self.var["genewise_dispersions"].to_numpy()[non_zero]
        residuals = np.log(genewise) - np.log(self.var["fitted_dispersions"].to_numpy()[non_zero])
        above_min = residuals[genewise >= 100 * self.min_disp]
        var_log_disp = (_MAD * np.median(np.abs(above_min - np.median(above_min)))) ** 2
        self.uns["_squared_logres"] = var_log_disp
        df = samples - coefficients
        if df <= 3:
            prior_var = _simulated_prior_var(above_min, df)
        else:
            prior_var = max(var_log_disp - float(polygamma(1, df / 2)), 0.25)
        self.uns["prior_disp_var"] = np.float64(prior_var)

    def fit_MAP_dispersions(self) -> None:  # noqa: N802 (PyDESeq2's name)
        """Final dispersions as ``estimateDispersionsMAP``.

        The MAP search starts at the gene-wise estimate, or at the trend where the estimate is
        below a tenth of it; genes whose gene-wise estimate lies more than 2 prior standard
        deviations above the trend keep their gene-wise estimate.
        """
        if "prior_disp_var" not in self.uns:
            self.fit_dispersion_prior()
        non_zero = self.var["non_zero"].to_numpy()
        genewise = self.var["genewise_dispersions"].to_numpy()
        fitted = self.var["fitted_dispersions"].to_numpy()
        start = np.where(genewise > 0.1 * fitted, genewise, fitted)[non_zero]
        disp_map, converged = self.inference.alpha_mle(
            counts=self.X[:, self.non_zero_idx],
            design_matrix=self.obsm["design_matrix"].to_numpy(),
            mu=self.layers["_mu_hat"][:, self.non_zero_idx],
            alpha_hat=fitted[non_zero],
            min_disp=self.min_disp,
            max_disp=self.max_disp,
            prior_disp_var=float(self.uns["prior_disp_var"]),
            prior_reg=True,
            init=start,
        )
        map_all = np.full(self.n_vars, np.nan)
        map_all[non_zero] = disp_map
        self.var["MAP_dispersions"] = map_all
        self.var["_MAP_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_MAP_converged"] = converged
        with np.errstate(invalid="ignore"):
            outlier = np.log(genewise) > np.log(fitted) + 2 * np.sqrt(self.uns["_squared_logres"])
        self.var["_outlier_genes"] = outlier
        self.var["dispersions"] = np.where(outlier, genewise, map_all)
        if self.low_memory:
            del self.layers["_mu_hat"]

    def cooks_outlier(self) -> pd.Series:
        """Genes whose p-value ``results()`` sets to NA for a large Cook's distance.

        R takes the maximum Cook's distance over samples with 3 or more replicates in their
        cell (after a refit, with replaceable samples at 0) against ``qf(.99, p, m - p)``, and
        spares genes where 3 or more counts exceed the outlier count only when the design is a
        single two-level factor; PyDESeq2 spares them for every design.

        Returns
        -------
        pandas.Series
            Boolean, one entry per gene.
        """
        if "_pvalue_cooks_outlier" in self.var:
            return self.var["_pvalue_cooks_outlier"]
        design = self.obsm["design_matrix"]
        samples, coefficients = design.shape
        cooks = self.layers["cooks"].copy()
        if self.refit_cooks and "refitted" in self.var and self.var["refitted"].any():
            cooks[self.obs["replaceable"].to_numpy(), :] = 0.0
        for_max = n_or_more_replicates(design, 3).to_numpy()
        outlier = np.zeros(self.n_vars, dtype=bool)
        if samples > coefficients and for_max.any():
            cutoff = f_distribution.ppf(0.99, coefficients, samples - coefficients)
            # all-zero genes have no Cook's distances (NaN) and are never outliers
            outlier = cooks[for_max].max(axis=0) > cutoff
        if outlier.any() and self._single_two_level_factor():
            genes = np.flatnonzero(outlier)
            worst = np.argmax(self.layers["cooks"][:, genes], axis=0)
            counts = np.asarray(self.X[:, genes])
            outlier[genes] = (counts > counts[worst, np.arange(len(genes))]).sum(axis=0) < 3
        self.var["_pvalue_cooks_outlier"] = outlier
        return self.var["_pvalue_cooks_outlier"]

    def _single_two_level_factor(self) -> bool:
        """Whether the design formula has one variable, a factor with two levels (as R sees it)."""
        if not isinstance(self.design, str):
            return False
        variables = list(self.variables)
        if len(variables) != 1:
            return False
        column = self.obs[variables[0]]
        if isinstance(column.dtype, pd.CategoricalDtype):
            return len(column.cat.categories) == 2
        # R turns character columns into factors and leaves numbers and logicals alone
        return not pd.api.types.is_numeric_dtype(column) and column.nunique() == 2


# --------------------------------------------------------------------------------------------
# Independent filtering (R/results.R: pvalueAdjustment, filtered_p; stats::lowess, p.adjust)
# --------------------------------------------------------------------------------------------


def _lowest(
    x: np.ndarray,
    y: np.ndarray,
    xs: float,
    nleft: int,
    nright: int,
    robustness: np.ndarray | None,
) -> float | None:
    """One local linear fit of R's ``lowest`` (stats/src/lowess.c); None if no weight."""
    n = len(x)
    h = max(xs - x[nleft], x[nright] - xs)
    weights = np.zeros(n)
    total = 0.0
    j = nleft
    while j < n:
        r = abs(x[j] - xs)
        if r <= 0.999 * h:
            weights[j] = 1.0 if r <= 0.001 * h else (1.0 - (r / h) ** 3) ** 3
            if robustness is not None:
                weights[j] *= robustness[j]
            total += weights[j]
        elif x[j] > xs:
            break
        j += 1
    window = slice(nleft, j)  # j - 1 is the rightmost point, beyond nright when x has ties
    if total <= 0.0:
        return None
    w = weights[window] / total
    xw = x[window]
    if h > 0.0:
        centre = np.sum(w * xw)
        spread = np.sum(w * (xw - centre) ** 2)
        if np.sqrt(spread) > 0.001 * (x[-1] - x[0]):
            w = w * ((xs - centre) / spread * (xw - centre) + 1.0)
    return float(np.sum(w * y[window]))


def lowess(
    x: np.ndarray, y: np.ndarray, f: float = 2 / 3, iter: int = 3, delta: float | None = None
) -> np.ndarray:
    """R's ``stats::lowess`` (Cleveland's ``clowess``): robust locally weighted linear fit.

    Parameters
    ----------
    x, y : ndarray
        The points; sorted by ``x`` before fitting.
    f : float
        Fraction of points in each local fit.
    iter : int
        Robustness iterations.
    delta : float, optional
        Points within ``delta`` of the last fitted one are interpolated; R's default
        ``0.01 * diff(range(x))`` if None.

    Returns
    -------
    ndarray
        Fitted values at the sorted ``x`` (R's ``lowess(x, y)$y``).
    """
    order = np.argsort(x, kind="stable")
    x = np.asarray(x, dtype=float)[order]
    y = np.asarray(y, dtype=float)[order]
    n = len(x)
    if n < 2:
        return y.copy()
    if delta is None:
        delta = 0.01 * (x[-1] - x[0])
    ns = max(2, min(n, int(f * n + 1e-7)))
    fitted = np.zeros(n)
    robustness: np.ndarray | None = None
    for step in range(iter + 1):
        nleft, nright, last, i = 0, ns - 1, -1, 0
        while True:
            if nright < n - 1 and x[i] - x[nleft] > x[nright + 1] - x[i]:
                nleft += 1
                nright += 1
                continue
            value = _lowest(x, y, x[i], nleft, nright, robustness)
            fitted[i] = y[i] if value is None else value
            if last < i - 1:
                frac = (x[last + 1 : i] - x[last]) / (x[i] - x[last])
                fitted[last + 1 : i] = frac * fitted[i] + (1.0 - frac) * fitted[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n and x[i] <= cut:
                if x[i] == x[last]:
                    fitted[i] = fitted[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residuals = y - fitted
        if step == iter:
            break
        abs_res = np.abs(residuals)
        ordered = np.sort(abs_res)
        m1 = n // 2
        cmad = 3.0 * (ordered[m1] + ordered[n - m1 - 1]) if n % 2 == 0 else 6.0 * ordered[m1]
        if cmad < 1e-7 * np.mean(abs_res):
            break
        robustness = np.where(
            abs_res <= 0.001 * cmad,
            1.0,
            np.where(abs_res <= 0.999 * cmad, (1.0 - (abs_res / cmad) ** 2) ** 2, 0.0),
        )
    return fitted


def _p_adjust_bh(pvalue: np.ndarray) -> np.ndarray:
    """``p.adjust(p, "BH")``: NA stays NA and does not count towards n."""
    adjusted = np.full(len(pvalue), np.nan)
    tested = np.flatnonzero(~np.isnan(pvalue))
    n = len(tested)
    if n:
        decreasing = np.argsort(-pvalue[tested], kind="stable")
        ranks = np.arange(n, 0, -1)
        values = np.minimum(1.0, np.minimum.accumulate(n / ranks * pvalue[tested][decreasing]))
        adjusted[tested[decreasing]] = values
    return adjusted


def r_independent_filtering(
    base_mean: np.ndarray, pvalue: np.ndarray, alpha: float = 0.1
) -> tuple[np.ndarray, float]:
    """Adjusted p-values with DESeq2's independent filtering on the mean of normalised counts.

    ``pvalueAdjustment`` of R/results.R: BH within each of 50 baseMean quantile filters from the
    share of zero means to 0.95, rejections at ``alpha`` per filter, a lowess (f = 1/5) through
    them, and the first filter whose rejections exceed the curve's maximum minus the RMS of its
    residuals (no filtering when no filter rejects more than 10 genes).

    Parameters
    ----------
    base_mean : ndarray
        Mean of normalised counts per gene.
    pvalue : ndarray
        Wald p-values, NaN where not tested (all-zero genes, Cook's outliers).
    alpha : float
        Target FDR, R's ``results(alpha=)`` (default 0.1 as in R).

    Returns
    -------
    tuple
        Adjusted p-values (NaN for filtered genes) and the baseMean threshold (R's
        ``metadata(res)$filterThreshold``).
    """
    base_mean = np.asarray(base_mean, dtype=float)
    pvalue = np.asarray(pvalue, dtype=float)
    lower = float(np.mean(base_mean == 0))
    theta = np.linspace(lower, 0.95 if lower < 0.95 else 1.0, 50)
    cutoffs = np.quantile(base_mean, theta)  # R's quantile() type 7

    def filtered_padj(cutoff: float) -> np.ndarray:
        padj = np.full(len(pvalue), np.nan)
        keep = base_mean >= cutoff
        padj[keep] = _p_adjust_bh(pvalue[keep])
        return padj

    with np.errstate(invalid="ignore"):
        rejections = np.array([np.sum(filtered_padj(c) < alpha) for c in cutoffs])
    j = 0
    if rejections.max() > 10:
        curve = lowess(theta, rejections, f=1 / 5)
        positive = rejections > 0
        threshold = curve.max() - np.sqrt(np.mean((rejections[positive] - curve[positive]) ** 2))
        above = np.flatnonzero(rejections > threshold)
        j = int(above[0]) if above.size else 0
    return filtered_padj(cutoffs[j]), float(cutoffs[j])


class RDeseqStats(DeseqStats):
    """PyDESeq2's :class:`~pydeseq2.ds.DeseqStats` with R's ``results()`` defaults.

    ``alpha`` defaults to 0.1, the Wald test floors the means as R (:meth:`RInference.wald_test`)
    and independent filtering is :func:`r_independent_filtering`; the baseMean threshold it chose
    is ``filter_threshold`` after ``summary()`` (NaN without independent filtering).
    """

    filter_threshold: float = float("nan")

    def __init__(
        self,
        dds: DeseqDataSet,
        contrast: list[str] | np.ndarray,
        alpha: float = 0.1,
        inference: RInference | None = None,
        n_cpus: int | None = None,
        **kwargs,
    ) -> None:
        if inference is None:
            inference = RInference(n_cpus=n_cpus)
            inference.min_mu = dds.min_mu
        super().__init__(dds, contrast, alpha=alpha, inference=inference, n_cpus=n_cpus, **kwargs)

    def _independent_filtering(self) -> None:
        """Set ``padj`` and ``filter_threshold`` as R's ``pvalueAdjustment``."""
        if not hasattr(self, "p_values"):
            self.run_wald_test()
        padj, self.filter_threshold = r_independent_filtering(
            self.base_mean.to_numpy(), self.p_values.to_numpy(), self.alpha
        )
        self.padj = pd.Series(padj, index=self.dds.var_names)
