"""Gene-wise and MAP dispersions: DESeq2's ``estimateDispersionsGeneEst`` and ``...MAP``.

Ports the dispersion likelihood and its search from src/DESeq2.cpp (``log_posterior``,
``dlog_posterior``, ``fitDisp``: an Armijo line search on log alpha; ``fitDispGrid`` for genes
it does not converge on) and the rules of R/core.R around them:

- gene-wise: expected counts floored at 0.5 (``minmu``); the starting value is kept when the
  line search raised the log posterior by less than a millionth; the grid search replaces
  estimates whose search did not converge, unless they sit near the floor;
- MAP: the search starts at the gene-wise estimate, or at the trend where that is below a tenth
  of the trend; the grid search (with the prior) replaces searches that ran out of iterations;
  genes more than 2 prior standard deviations above the trend keep their gene-wise estimate.

PyDESeq2 runs scipy's L-BFGS-B on each gene instead, from the trend for MAP, with unfloored
means, other stopping rules and a grid fallback without the prior, so its estimates drift from
R's (``shared/notes/pydeseq2-vs-r.md``). The line search here runs on all genes at once, with a
convergence mask per gene, which also makes it faster than PyDESeq2's per-gene optimiser.

Internally genes are rows and samples columns (``n_genes x n_samples``), as in the C++ code;
the public functions take PyDESeq2's ``n_samples x n_genes``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, psi

__all__ = ["dispersion_outliers", "genewise_dispersions", "map_dispersions", "map_start"]

_MAXIT = 100  # maxit of estimateDispersionsGeneEst / estimateDispersionsMAP


def genewise_dispersions(
    counts: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    start: np.ndarray,
    min_disp: float,
    max_disp: float,
    min_mu: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gene-wise dispersions as ``estimateDispersionsGeneEst`` (``niter = 1``).

    Parameters
    ----------
    counts, mu : numpy.ndarray
        n_samples x n_genes counts and GLM means.
    design : numpy.ndarray
        n_samples x p design matrix.
    start : numpy.ndarray
        n_genes starting dispersions (the rough method-of-moments estimates).
    min_disp, max_disp : float
        Bounds of the returned dispersions.
    min_mu : float
        Floor of the means (``minmu``).

    Returns
    -------
    tuple of numpy.ndarray
        n_genes dispersions and n_genes booleans: whether the line search converged.
    """
    y, mu_t, design = _genes_by_samples(counts, mu, design, min_mu)
    log_alpha, iters, initial_lp, last_lp = _fit_disp(y, mu_t, design, np.log(start), None, 1.0, np.log(min_disp / 10))
    disp = np.minimum(np.exp(log_alpha), max_disp)
    # moves that raised the log posterior by less than a millionth are not accepted
    no_increase = last_lp < initial_lp + np.abs(initial_lp) / 1e6
    disp[no_increase] = start[no_increase]
    converged = (iters < _MAXIT) & (iters != 1)
    redo = ~converged & (disp > min_disp * 10)
    if redo.any():
        disp[redo] = _fit_disp_grid(y[redo], mu_t[redo], design, max_disp, None, 1.0)
    return np.clip(disp, min_disp, max_disp), converged


def map_dispersions(
    counts: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    trend: np.ndarray,
    prior_var: float,
    start: np.ndarray,
    min_disp: float,
    max_disp: float,
    min_mu: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum a posteriori dispersions as ``estimateDispersionsMAP``, before its outlier rule.

    Parameters
    ----------
    counts, mu, design, min_disp, max_disp, min_mu
        As in :func:`genewise_dispersions` (``counts`` and ``mu`` n_samples x n_genes).
    trend : numpy.ndarray
        n_genes fitted trend: the median of the log-normal prior.
    prior_var : float
        Variance of the normal prior on log dispersions.
    start : numpy.ndarray
        n_genes starting dispersions (``dispInit``, :func:`map_start`).

    Returns
    -------
    tuple of numpy.ndarray
        As :func:`genewise_dispersions`: n_genes dispersions and convergence flags.
    """
    y, mu_t, design = _genes_by_samples(counts, mu, design, min_mu)
    prior_mean = np.log(trend)
    log_alpha, iters, _, _ = _fit_disp(y, mu_t, design, np.log(start), prior_mean, prior_var, np.log(min_disp / 10))
    disp = np.exp(log_alpha)
    converged = iters < _MAXIT
    redo = ~converged
    if redo.any():
        disp[redo] = _fit_disp_grid(y[redo], mu_t[redo], design, max_disp, prior_mean[redo], prior_var)
    return np.clip(disp, min_disp, max_disp), converged


def map_start(genewise: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """``dispInit`` of ``estimateDispersionsMAP``: the gene-wise estimate, or the trend where the
    estimate is below a tenth of it.

    Parameters
    ----------
    genewise, trend : numpy.ndarray
        n_genes gene-wise dispersions and fitted trend.

    Returns
    -------
    numpy.ndarray
        n_genes starting dispersions.
    """
    return np.where(genewise > 0.1 * trend, genewise, trend)


def dispersion_outliers(genewise: np.ndarray, trend: np.ndarray, var_log_disp: float) -> np.ndarray:
    """Genes that keep their gene-wise estimate instead of the MAP one (``outlierSD = 2``).

    Parameters
    ----------
    genewise, trend : numpy.ndarray
        n_genes gene-wise dispersions and fitted trend (NaN for all-zero genes).
    var_log_disp : float
        ``varLogDispEsts``: squared MAD of the log residuals from the trend.

    Returns
    -------
    numpy.ndarray
        n_genes booleans: the log gene-wise estimate lies more than 2 standard deviations
        (``sqrt(var_log_disp)``) above the log trend.
    """
    with np.errstate(invalid="ignore"):
        return np.log(genewise) > np.log(trend) + 2 * np.sqrt(var_log_disp)


def _genes_by_samples(
    counts: np.ndarray, mu: np.ndarray, design: np.ndarray, min_mu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_genes x n_samples counts and means floored at ``min_mu``, and the design as floats."""
    y = np.asarray(counts, dtype=float).T
    mu_t = np.maximum(np.asarray(mu, dtype=float).T, min_mu)
    return y, mu_t, np.asarray(design, dtype=float)


def _cox_reid_matrix(weights: np.ndarray, design: np.ndarray) -> np.ndarray:
    """``t(X) %*% diag(w) %*% X`` for every row of ``weights``: n_genes x p x p.

    ``weights`` is n_genes x n_samples, ``design`` n_samples x p.
    """
    return np.einsum("mi,gm,mj->gij", design, weights, design)


def _log_posterior(
    log_alpha: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float,
) -> np.ndarray:
    """DESeq2's ``log_posterior``: NB log likelihood less constants, Cox-Reid term, prior.

    ``log_alpha`` and ``prior_mean`` (None: no prior) are n_genes, ``y`` and ``mu``
    n_genes x n_samples, ``design`` n_samples x p; returns n_genes values.
    """
    alpha = np.exp(log_alpha)[:, None]
    cr_term = -0.5 * np.log(np.linalg.det(_cox_reid_matrix(1.0 / (1.0 / mu + alpha), design)))
    inv_alpha = 1.0 / alpha
    ll_part = np.sum(
        gammaln(y + inv_alpha) - gammaln(inv_alpha) - y * np.log(mu + inv_alpha) - inv_alpha * np.log(1.0 + mu * alpha),
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
    """DESeq2's ``dlog_posterior``: derivative of :func:`_log_posterior` in log alpha.

    Same arguments as :func:`_log_posterior`; returns n_genes values.
    """
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

    Rows are searched ``chunk`` at a time, which bounds memory with many samples. Arguments
    as :func:`_log_posterior`, with ``log_alpha`` the n_genes starting values; the search stops
    for a gene whose log alpha falls below ``min_log_alpha``.

    Returns
    -------
    tuple of ndarray
        n_genes each: final log alpha, iterations used, log posterior at the start and at the
        end (the end value is the last accepted one, as in the C++ code, including its early
        exit when log alpha falls below ``min_log_alpha`` before the log posterior is updated).
    """
    parts = [
        _fit_disp_rows(
            y[rows],
            mu[rows],
            design,
            log_alpha[rows],
            None if prior_mean is None else prior_mean[rows],
            prior_var,
            min_log_alpha,
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
    """DESeq2's ``fitDispGridWrapper``: best of 20 log-alpha values, then of 20 around it.

    Arguments as :func:`_log_posterior`; returns n_genes dispersions.
    """
    grid = np.linspace(np.log(1e-8), np.log(max_disp), 20)
    delta = grid[1] - grid[0]

    def best(values: np.ndarray) -> np.ndarray:
        lps = np.column_stack([_log_posterior(values[:, t], y, mu, design, prior_mean, prior_var) for t in range(20)])
        return values[np.arange(len(values)), np.argmax(lps, axis=1)]

    a_hat = best(np.broadcast_to(grid, (len(y), 20)))
    return np.exp(best(np.linspace(a_hat - delta, a_hat + delta, 20, axis=1)))
