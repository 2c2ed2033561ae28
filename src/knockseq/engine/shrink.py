"""apeGLM shrinkage of one coefficient for every gene at once: the MAP of ``pydeseq2.utils.nbinomGLM``.

The posterior is the one of apeglm (Zhu, Ibrahim & Love 2018) as DESeq2's ``lfcShrink`` and
PyDESeq2's ``nbinomGLM`` set it up: the negative-binomial likelihood with the fitted dispersion,
a normal prior of scale ``prior_no_shrink_scale`` on every other coefficient and a Cauchy prior
of scale ``prior_scale`` on the shrunk one. Each gene's MAP is found by damped Newton steps, all
genes per iteration in one batched p x p solve, with a backtracking line search on the posterior
and a per-gene convergence mask; where the Cauchy term makes the Hessian indefinite, its
curvature is replaced by that of its tangent majoriser (2 / (S^2 + b^2)), which keeps every step
a descent direction. Genes whose posterior has two modes go to PyDESeq2's own per-gene optimiser
(see :func:`shrink_map`); given the fit's MLE, most genes are proven to have one mode instead of
searched for a second (:func:`_single_mode`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pydeseq2.utils import nbinomGLM
from scipy.special import expit

from knockseq.engine.cholesky import gram, spd_solve

__all__ = ["shrink_map"]


def _objective(
    beta: np.ndarray,
    design: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    sigma: float,
    scale: np.ndarray | float,
    k: int,
) -> np.ndarray:
    """Negative log posterior of each gene (``pydeseq2.utils.nbinomFn``): n_genes values."""
    eta = design @ beta.T  # n_samples x n_genes
    # log(size + mean), as numpy's vectorised exp and log (logaddexp is 4x slower); a mean that
    # overflows makes the value infinite, which a line search only rejects
    with np.errstate(over="ignore"):
        log_total = np.log(size + np.exp(eta + offset[:, None]))
    nll = ((counts + size) * log_total - counts * eta).sum(axis=0)
    others = np.ones(beta.shape[1])
    others[k] = 0
    return nll + beta**2 @ others / (2 * sigma**2) + np.log1p((beta[:, k] / scale) ** 2)


def _derivatives(
    beta: np.ndarray,
    design: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    sigma: float,
    scale: np.ndarray | float,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient and Hessian of ``_objective``, the Hessian as a positive definite part plus a rank one.

    Returns
    -------
    gradient : numpy.ndarray
        p x n_genes.
    majorised : numpy.ndarray
        p x p x n_genes Hessian with the Cauchy term's curvature replaced by its tangent
        majoriser's, 2 / (S^2 + b^2): positive definite.
    correction : numpy.ndarray
        n_genes values c <= 0, the exact Hessian being ``majorised + c e_k e_k'``.
    """
    p = design.shape[1]
    # mean / (size + mean) as a logistic function: exp(eta) overflows for the huge coefficients
    # of a gene with a silent group long before the objective (logaddexp) does
    fraction = expit(design @ beta.T + offset[:, None] - np.log(size))
    gradient = design.T @ ((counts + size) * fraction - counts)
    b2, s2 = beta[:, k] ** 2, np.broadcast_to(scale, beta[:, k].shape) ** 2
    # each prior's gradient is b times this curvature: 1 / sigma^2 (normal), 2 / (S^2 + b^2) (Cauchy)
    prior_curvature = np.full((p, len(beta)), 1 / sigma**2)
    prior_curvature[k] = 2 / (s2 + b2)
    gradient += beta.T * prior_curvature
    majorised = gram(design, (counts + size) * fraction * (1 - fraction))
    majorised[np.arange(p), np.arange(p)] += prior_curvature
    return gradient, majorised, -4 * b2 / (s2 + b2) ** 2


def _newton(
    beta: np.ndarray, args: tuple, tol: float, maxiter: int, stop: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton from ``beta`` (n_genes x p) for every gene.

    ``stop`` (n_genes values, optional): a gene whose objective falls below its value stops
    there, reported converged.

    Returns
    -------
    beta : numpy.ndarray
        n_genes x p modes.
    variance : numpy.ndarray
        n_genes entries (k, k) of the inverse exact Hessian at the mode (meaningless where not
        converged).
    converged : numpy.ndarray
        n_genes booleans.
    """
    p, k = args[0].shape[1], args[6]
    beta = beta.copy()
    value = _objective(beta, *args)
    converged = np.zeros(len(beta), dtype=bool)
    failed = np.zeros(len(beta), dtype=bool)
    variance = np.full(len(beta), np.nan)
    for _ in range(maxiter):
        idx = np.flatnonzero(~converged & ~failed)
        if stop is not None:
            below = value[idx] < stop[idx]
            converged[idx[below]] = True
            idx = idx[~below]
        if idx.size == 0:
            break
        gradient, majorised, correction = _derivatives(beta[idx], *_genes(args, idx))
        # One solve with the positive definite part gives both the majorised step and, by
        # Sherman-Morrison, the exact Newton step; the exact Hessian is positive definite exactly
        # when 1 + c (A^-1)_kk > 0, and is used there (quadratic convergence near the mode).
        # The same two numbers give the exact inverse's (k, k) entry, the posterior variance.
        rhs = np.zeros((p, 2, idx.size))
        rhs[:, 0] = gradient
        rhs[k, 1] = 1
        solved = spd_solve(majorised, rhs)
        a_gradient, a_unit = solved[:, 0], solved[:, 1]
        denominator = 1 + correction * a_unit[k]
        variance[idx] = a_unit[k] / denominator
        exact = denominator > 0
        step = -a_gradient
        step[:, exact] += (correction * a_gradient[k] / denominator)[exact] * a_unit[:, exact]
        decrement = -(gradient * step).sum(axis=0)
        # a Hessian not positive definite to rounding gives no step: PyDESeq2's optimiser decides
        bad = ~np.isfinite(decrement)
        failed[idx[bad]] = True
        done = ~bad & (decrement <= tol * np.maximum(1, np.abs(value[idx])))
        converged[idx[done]] = True
        moving = ~bad & ~done
        idx, step, decrement = idx[moving], step[:, moving].T, decrement[moving]
        # backtracking (Armijo) line search, all remaining genes at once
        t = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(60):
            rows = idx[pending]
            trial = beta[rows] + t[pending, None] * step[pending]
            trial_value = _objective(trial, *_genes(args, rows))
            accept = trial_value <= value[rows] - 1e-4 * t[pending] * decrement[pending]
            beta[rows[accept]] = trial[accept]
            value[rows[accept]] = trial_value[accept]
            still = np.flatnonzero(pending)[~accept]
            pending[:] = False
            pending[still] = True
            t[still] /= 2
            if not pending.any():
                break
        # no decrease found along a descent direction: the objective is flat to rounding here
        converged[idx[pending]] = True
    return beta, variance, converged


def _genes(args: tuple, idx: np.ndarray) -> tuple:
    """``_objective``'s arguments after ``beta`` for the genes ``idx`` (sorted, distinct) only."""
    design, counts, size, *rest = args
    if len(idx) == len(size):  # all of them: no copy of the counts
        return args
    return (design, counts[:, idx], size[idx], *rest)


class _Unshrunk(NamedTuple):
    """The posterior without its Cauchy term, a convex problem, around the fit's MLE.

    Rows of genes whose MLE has a NaN (counts the fit replaced) are NaN.

    Attributes
    ----------
    step : numpy.ndarray
        n_genes x p Newton step from the MLE towards that problem's minimum.
    column : numpy.ndarray
        n_genes x p column k of its inverse Hessian at the MLE: how the other coefficients
        follow the shrunk one.
    floor : numpy.ndarray
        n_genes lower bounds of its minimum value: the value at the MLE less twice the decrease
        the Newton step predicts, where that step is small (measured: the true decrease within
        4% of the prediction); NaN elsewhere.
    """

    step: np.ndarray
    column: np.ndarray
    floor: np.ndarray


def _convex(args: tuple) -> tuple:
    """``_objective``'s arguments for the posterior without its Cauchy term (an infinite scale)."""
    return (*args[:5], np.inf, args[6])


def _unshrunk(mle: np.ndarray, args: tuple) -> _Unshrunk:
    """The convex problem around ``mle`` (n_genes x p), for ``_objective``'s ``args`` after ``beta``."""
    p, k = mle.shape[1], args[6]
    known = np.isfinite(mle).all(axis=1)
    at = np.where(known[:, None], mle, 0.0)
    convex = _convex(args)
    gradient, hessian, _ = _derivatives(at, *convex)
    rhs = np.zeros((p, 2, len(mle)))
    rhs[:, 0] = -gradient
    rhs[k, 1] = 1
    solved = spd_solve(hessian, rhs)
    solved[:, :, ~known] = np.nan
    step = solved[:, 0].T
    # The step predicts a decrease of lambda^2 / 2 (lambda^2 = -g.step, the Newton decrement),
    # and lambda^2 is taken off. Were the likelihood self-concordant, lambda^2 <= 0.1 would bound
    # the true decrease by 1.3 times the prediction; genes with larger steps (a silent group, a
    # huge outlier: measured up to 2 times) get no floor.
    decrement = -(gradient.T * step).sum(axis=1)
    floor = np.where(decrement <= 0.1, _objective(at, *convex) - decrement, np.nan)
    return _Unshrunk(step, solved[:, 1].T, floor)


def _near_zero_start(mle: np.ndarray, unshrunk: _Unshrunk, scale: float, k: int) -> np.ndarray:
    """A start near the posterior's mode nearest 0, from the quadratic model at the MLE (n_genes x p).

    Along b = b_k, the model is the convex part's quadratic (b - m)^2 / (2 v) around its
    minimum m (v its inverse Hessian's (k, k) entry), the other coefficients following b along
    ``column``, plus the Cauchy term; from b = 0 the fixed-point iteration of its stationarity
    condition, b = m / (1 + 2 v / (S^2 + b^2)), rises monotonically to its mode nearest 0.
    """
    minimum = mle + unshrunk.step
    column = unshrunk.column
    m, v = minimum[:, k], column[:, k]
    b = np.zeros_like(m)
    for _ in range(30):
        b = m / (1 + 2 * v / (scale**2 + b**2))
    return minimum + column / v[:, None] * (b - m)[:, None]


def _single_mode(mode: np.ndarray, floor: np.ndarray, args: tuple) -> np.ndarray:
    """Genes whose posterior is proven to have no mode but ``mode``.

    Along the shrunk coefficient b the posterior is, with the other coefficients at their best
    for each b, a convex profile h(b) (the likelihood and the normal priors) plus the Cauchy
    term log(1 + b^2 / S^2), of slope c(b) = 2b / (S^2 + b^2). At a mode 0 < b0 < S (b0 < 0
    alike), h'(b0) = -c(b0) and h' only grows, so the posterior falls below b0 (where
    c(b) < c(b0)) and rises from b0 up to S^2 / b0 (where c(b) > c(b0)). Beyond, convexity
    gives h'(b) >= (h(b) - h(b0)) / (b - b0) >= -D / (b - b0) with D = h(b0) - min h: the
    posterior rises wherever c(b) (b - b0) > D, a product that grows with b and is
    2 (S^2 - b0^2) / (S^2 + b0^2) at S^2 / b0. So D below that proves a single mode. h(b0) is
    the convex part at the mode (whose other coefficients are at their best), and D is
    overestimated with the floor of :func:`_unshrunk` for min h.

    Parameters
    ----------
    mode : numpy.ndarray
        n_genes x p posterior modes.
    floor : numpy.ndarray
        n_genes floors of :func:`_unshrunk` (of the fit's MLE); a gene without one (NaN) is not
        certified.
    args : tuple
        ``_objective``'s arguments after ``beta``.

    Returns
    -------
    numpy.ndarray
        n_genes booleans.
    """
    scale, k = args[5], args[6]
    b0 = mode[:, k]
    excess = _objective(mode, *_convex(args)) - floor  # >= D; NaN compares False
    return (np.abs(b0) < scale) & (excess < 2 * (scale**2 - b0**2) / (scale**2 + b0**2))


def _only_mode_below(mode: np.ndarray, floor: np.ndarray, args: tuple) -> np.ndarray:
    """Posterior values below which ``mode`` is the only mode (n_genes; -inf where none is proven).

    For a mode 0 < |b0| < S, as in :func:`_single_mode`, there is no other with |b| < u = S^2 / |b0|,
    and every point with |b| >= u has a posterior value of at least min h + log(1 + u^2 / S^2).
    A descent that gets below that value can only end at ``mode``.
    """
    scale, k = args[5], args[6]
    b0 = mode[:, k]
    with np.errstate(divide="ignore"):
        bound = floor + np.log1p(scale**2 / b0**2)
    return np.where(np.abs(b0) < scale, bound, -np.inf)


def _starts(design: np.ndarray, counts: np.ndarray, offset: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The two Newton starts of every gene (n_genes x p each): near the MLE, and the same with b_k = 0.

    The first is the least-squares fit of the log counts.
    """
    q, r = np.linalg.qr(design)
    ls_start = np.linalg.solve(r, q.T @ (np.log(counts + 0.1) - offset[:, None])).T
    zero_start = ls_start.copy()
    zero_start[:, k] = 0
    return ls_start, zero_start


def shrink_map(
    design: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    prior_no_shrink_scale: float,
    prior_scale: float,
    shrink_index: int,
    mle: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int = 200,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every gene's apeGLM MAP coefficients and posterior variance of the shrunk one.

    ``nbinomGLM`` returns the whole inverse Hessian; PyDESeq2 reads its (k, k) entry only.

    Parameters
    ----------
    design : numpy.ndarray
        n_samples x p design matrix (natural-log coefficients).
    counts : numpy.ndarray
        n_samples x n_genes raw counts.
    size : numpy.ndarray
        n_genes negative-binomial sizes (1 / dispersion).
    offset : numpy.ndarray
        n_samples log size factors.
    prior_no_shrink_scale, prior_scale : float
        Standard deviation of the normal prior on the other coefficients; scale of the Cauchy
        prior on the shrunk one.
    shrink_index : int
        Column of ``design`` whose coefficient is shrunk.
    mle : numpy.ndarray, optional
        n_genes x p maximum-likelihood coefficients (the fit's): genes it proves to have one
        mode start near it and skip the search for a second. Changes the results only within
        the convergence tolerance.
    tol : float
        A gene has converged when its Newton decrement (the predicted decrease of the objective)
        is below ``tol`` times max(1, |objective|).
    maxiter : int
        Newton iterations at most.

    Returns
    -------
    beta : numpy.ndarray
        n_genes x p MAP coefficients.
    variance : numpy.ndarray
        n_genes entries (k, k) of the inverse exact Hessian at the MAP (k = ``shrink_index``):
        the squared posterior standard error of the shrunk coefficient.
    converged : numpy.ndarray
        n_genes booleans.
    """
    counts = np.asarray(counts, dtype=float)
    size = np.asarray(size, dtype=float)
    args = (design, counts, size, offset, prior_no_shrink_scale, prior_scale, shrink_index)
    # The Cauchy prior can give a gene two modes, one near 0 and one near its MLE. Which one
    # PyDESeq2's L-BFGS-B (and R's apeglm) reaches depends on its path from apeglm's start
    # (0.1, -0.1, ...), not on which mode is higher, so no Newton start reproduces it. Newton from
    # a least-squares fit of the log counts (near the MLE), and from the same with the shrunk
    # coefficient at 0, finds both modes where there are two; those genes go to PyDESeq2's own
    # per-gene optimiser (apeglm itself refits a gene whose two starts disagree by more than
    # 0.01), every other gene keeps the mode of the start at 0. Given the fit's MLE, most genes
    # (95% of a screen's, whose prior is narrow) are settled first: from the quadratic model's
    # mode nearest 0 in about two Newton iterations, then proven to have no other mode. For the
    # rest, the search from the least-squares start stops as soon as it can provably end only at
    # the mode already found, rather than walk down the Cauchy prior's concave flank to it.
    n_genes, p = counts.shape[1], design.shape[1]
    beta, variance = np.full((n_genes, p), np.nan), np.full(n_genes, np.nan)
    converged, settled = np.zeros(n_genes, dtype=bool), np.zeros(n_genes, dtype=bool)
    if mle is not None:
        unshrunk = _unshrunk(mle, args)
        start = _near_zero_start(mle, unshrunk, prior_scale, shrink_index)
        known = np.flatnonzero(np.isfinite(start).all(axis=1))
        beta[known], variance[known], converged[known] = _newton(start[known], _genes(args, known), tol, maxiter)
        settled = converged & _single_mode(beta, unshrunk.floor, args)
    ls_start, zero_start = _starts(design, counts, offset, shrink_index)
    rest = np.flatnonzero(~settled)
    beta[rest], variance[rest], converged[rest] = _newton(zero_start[rest], _genes(args, rest), tol, maxiter)
    two_modes = ~converged
    searched = rest[converged[rest]]
    if mle is None:
        stop = np.full(len(searched), -np.inf)
    else:
        stop = _only_mode_below(beta[searched], unshrunk.floor[searched], args)
    other, _, other_converged = _newton(ls_start[searched], _genes(args, searched), tol, maxiter, stop)
    same = _objective(other, *_genes(args, searched)) < stop
    two_modes[searched] = ~same & ((np.abs(beta[searched] - other).max(axis=1) > 0.01) | ~other_converged)
    for g in np.flatnonzero(two_modes):
        beta[g], inv_hessian, converged[g] = nbinomGLM(
            design,
            counts[:, g],
            size[g],
            offset,
            prior_no_shrink_scale,
            prior_scale,
            shrink_index=shrink_index,
        )
        variance[g] = inv_hessian[shrink_index, shrink_index]
    return beta, variance, converged
