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

import numpy as np
from pydeseq2.utils import nbinomGLM
from scipy.special import expit

__all__ = ["shrink_map"]


def _objective(beta: np.ndarray, design: np.ndarray, counts: np.ndarray, size: np.ndarray,
               offset: np.ndarray, sigma: float, scale: np.ndarray | float, k: int) -> np.ndarray:
    """Negative log posterior of each gene (``pydeseq2.utils.nbinomFn``): n_genes values."""
    eta = design @ beta.T  # n_samples x n_genes
    nll = ((counts + size) * np.logaddexp(eta + offset[:, None], np.log(size)) - counts * eta).sum(axis=0)
    normal = np.delete(beta, k, axis=1) ** 2 / (2 * sigma**2)
    return nll + normal.sum(axis=1) + np.log1p((beta[:, k] / scale) ** 2)


def _derivatives(beta: np.ndarray, design: np.ndarray, counts: np.ndarray, size: np.ndarray,
                 offset: np.ndarray, sigma: float, scale: np.ndarray | float, k: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient and Hessian of ``_objective``, the Hessian as a positive definite part plus a rank one.

    Returns
    -------
    gradient : numpy.ndarray
        n_genes x p.
    majorised : numpy.ndarray
        n_genes x p x p Hessian with the Cauchy term's curvature replaced by its tangent
        majoriser's, 2 / (S^2 + b^2): positive definite.
    correction : numpy.ndarray
        n_genes values c <= 0, the exact Hessian being ``majorised + c e_k e_k'``.
    """
    n, p = design.shape
    # mean / (size + mean) as a logistic function: exp(eta) overflows for the huge coefficients
    # of a gene with a silent group long before the objective (logaddexp) does
    fraction = expit(design @ beta.T + offset[:, None] - np.log(size))
    gradient = (design.T @ ((counts + size) * fraction - counts)).T
    b2, s2 = beta[:, k] ** 2, np.broadcast_to(scale, beta[:, k].shape) ** 2
    # each prior's gradient is b times this curvature: 1 / sigma^2 (normal), 2 / (S^2 + b^2) (Cauchy)
    prior_curvature = np.full(beta.shape, 1 / sigma**2)
    prior_curvature[:, k] = 2 / (s2 + b2)
    gradient += beta * prior_curvature
    weights = (counts + size) * fraction * (1 - fraction)
    # X' diag(w_g) X for every gene as one matrix product (an einsum over three operands is ~20x slower)
    outer = (design[:, :, None] * design[:, None, :]).reshape(n, p * p)
    majorised = (weights.T @ outer).reshape(-1, p, p)
    majorised[:, np.arange(p), np.arange(p)] += prior_curvature
    return gradient, majorised, -4 * b2 / (s2 + b2) ** 2


def _exact_hessian(majorised: np.ndarray, correction: np.ndarray, k: int) -> np.ndarray:
    """``majorised + correction e_k e_k'``: n_genes x p x p."""
    hessian = majorised.copy()
    hessian[:, k, k] += correction
    return hessian


def _newton(beta: np.ndarray, args: tuple, tol: float, maxiter: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton from ``beta`` (n_genes x p) for every gene: the modes and whether each converged."""
    design, counts, size, offset, sigma, scale, k = args
    p = design.shape[1]
    beta = beta.copy()
    value = _objective(beta, *args)
    converged = np.zeros(len(beta), dtype=bool)
    unit = np.eye(p)[k]
    for _ in range(maxiter):
        idx = np.flatnonzero(~converged)
        if idx.size == 0:
            break
        sub = (design, counts[:, idx], size[idx], offset, sigma, scale, k)
        gradient, majorised, correction = _derivatives(beta[idx], *sub)
        # One solve with the positive definite part gives both the majorised step and, by
        # Sherman-Morrison, the exact Newton step; the exact Hessian is positive definite exactly
        # when 1 + c (A^-1)_kk > 0, and is used there (quadratic convergence near the mode).
        rhs = np.stack([gradient, np.broadcast_to(unit, gradient.shape)], axis=-1)
        solved = np.linalg.solve(majorised, rhs)
        a_gradient, a_unit = solved[..., 0], solved[..., 1]
        denominator = 1 + correction * a_unit[:, k]
        exact = denominator > 0
        step = -a_gradient
        step[exact] += ((correction * a_gradient[:, k])[exact] / denominator[exact])[:, None] * a_unit[exact]
        decrement = -(gradient * step).sum(axis=1)
        done = decrement <= tol * np.maximum(1, np.abs(value[idx]))
        converged[idx[done]] = True
        idx, step, decrement = idx[~done], step[~done], decrement[~done]
        # backtracking (Armijo) line search, all remaining genes at once
        t = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(60):
            rows = idx[pending]
            trial = beta[rows] + t[pending, None] * step[pending]
            trial_value = _objective(trial, design, counts[:, rows], size[rows], offset, sigma, scale, k)
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
    return beta, converged


def _single_mode(mode: np.ndarray, mle: np.ndarray, args: tuple) -> np.ndarray:
    """Genes whose posterior is proven to have no mode but ``mode``.

    Along the shrunk coefficient b the posterior is, with the other coefficients at their best
    for each b, a convex profile h(b) (the likelihood and the normal priors) plus the Cauchy
    term log(1 + b^2 / S^2), whose slope 2b / (S^2 + b^2) takes every value twice, at b and at
    S^2 / b. At a mode b0 > 0, h'(b0) is minus that slope, and h' only grows: so the posterior's
    slope is negative below b0 and positive from b0 up to S^2 / b0, and beyond the profile's own
    minimum b* both terms rise. If b0 * b* <= S^2 nothing is left for a second mode (and b0 < 0
    alike). b* is the mode without the Cauchy term, a convex problem: one Newton step from the
    fit's MLE reaches it up to far less than that step (measured: under 1% of it on a screen),
    and the whole step is added to |b*| as a margin.

    Parameters
    ----------
    mode : numpy.ndarray
        n_genes x p posterior modes.
    mle : numpy.ndarray
        n_genes x p maximum-likelihood coefficients of these counts; a row with a NaN (a gene
        whose counts the fit replaced) is not certified.
    args : tuple
        ``_objective``'s arguments after ``beta``.

    Returns
    -------
    numpy.ndarray
        n_genes booleans.
    """
    design, counts, size, offset, sigma, scale, k = args
    known = np.flatnonzero(np.isfinite(mle).all(axis=1))
    # an infinite Cauchy scale leaves the convex part: the likelihood and the normal priors
    gradient, hessian, _ = _derivatives(
        mle[known], design, counts[:, known], size[known], offset, sigma, np.inf, k
    )
    step = np.linalg.solve(hessian, -gradient[..., None])[:, k, 0]
    unshrunk = mle[known, k] + step  # b*, and |b*| <= |unshrunk| + |step|
    b0 = mode[known, k]
    certified = np.zeros(len(mode), dtype=bool)
    certified[known] = (b0 * unshrunk >= 0) & (
        np.abs(b0) * (np.abs(unshrunk) + np.abs(step)) <= np.square(scale)
    )
    return certified


def _starts(design: np.ndarray, counts: np.ndarray, offset: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The two Newton starts of every gene (n_genes x p each): near the MLE, and the same with b_k = 0.

    The first is the least-squares fit of the log counts.
    """
    q, r = np.linalg.qr(design)
    ls_start = np.linalg.solve(r, q.T @ (np.log(counts + 0.1) - offset[:, None])).T
    zero_start = ls_start.copy()
    zero_start[:, k] = 0
    return ls_start, zero_start


def shrink_map(design: np.ndarray, counts: np.ndarray, size: np.ndarray, offset: np.ndarray,
               prior_no_shrink_scale: float, prior_scale: float, shrink_index: int,
               mle: np.ndarray | None = None, tol: float = 1e-10, maxiter: int = 200
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every gene's apeGLM MAP coefficients and inverse Hessian, as ``nbinomGLM`` returns them.

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
        mode skip the second start. Does not change the results.
    tol : float
        A gene has converged when its Newton decrement (the predicted decrease of the objective)
        is below ``tol`` times max(1, |objective|).
    maxiter : int
        Newton iterations at most.

    Returns
    -------
    beta : numpy.ndarray
        n_genes x p MAP coefficients.
    inv_hessian : numpy.ndarray
        n_genes x p x p inverses of the exact Hessian at the MAP (as ``nbinomGLM``: its diagonal
        gives the posterior standard error).
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
    # 0.01), every other gene keeps its exact mode. A gene proven to have one mode (most genes
    # of a screen, whose prior is narrow) needs no second start: the second start costs twice
    # the first, its genes walking down the Cauchy prior's concave flank in small steps.
    ls_start, zero_start = _starts(design, counts, offset, shrink_index)
    beta, converged = _newton(zero_start, args, tol, maxiter)
    two_modes = ~converged
    certified = np.zeros(len(beta), dtype=bool) if mle is None else _single_mode(beta, mle, args)
    searched = np.flatnonzero(converged & ~certified)
    other, other_converged = _newton(
        ls_start[searched], (design, counts[:, searched], size[searched], *args[3:]), tol, maxiter
    )
    two_modes[searched] = (np.abs(beta[searched] - other).max(axis=1) > 0.01) | ~other_converged
    _, majorised, correction = _derivatives(beta, *args)
    inv_hessian = np.linalg.inv(_exact_hessian(majorised, correction, shrink_index))
    for g in np.flatnonzero(two_modes):
        beta[g], inv_hessian[g], converged[g] = nbinomGLM(
            design, counts[:, g], size[g], offset, prior_no_shrink_scale, prior_scale,
            shrink_index=shrink_index,
        )
    return beta, inv_hessian, converged
