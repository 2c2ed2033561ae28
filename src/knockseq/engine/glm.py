"""The negative-binomial GLM fit of every gene at once: PyDESeq2's ``irls_solver``, batched.

Same model, starting point, ridge, bounds and stopping rule as ``pydeseq2.utils.irls_solver``
(DESeq2's ``fitBeta``): beta from a least-squares fit of log(counts / size factors + 0.1), then
iteratively reweighted least squares until the relative change of the deviance is below
``beta_tol``. Each iteration solves every still-active gene's p x p system in one batched LAPACK
call. A gene whose step leaves [-max_beta, max_beta] or that reaches ``maxiter`` is refitted by
PyDESeq2's own ``irls_solver`` with ``maxiter=1``: its fallback optimiser always starts from the
least-squares start, not from where IRLS stopped, so this gives the answer of a full
``irls_solver`` call without repeating up to ``maxiter`` IRLS iterations per gene.

:func:`linear_mu` is the other start of DESeq2's dispersion fit (``linearModelMu``, for designs
with one distinct row per coefficient), which PyDESeq2 runs as one scikit-learn regression per
gene: here one least-squares projection for all genes.
"""

from __future__ import annotations

import numpy as np
from pydeseq2.utils import irls_solver
from scipy.special import gammaln

__all__ = ["irls", "linear_mu", "nb_deviance"]


def nb_deviance(counts: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """-2 x the negative-binomial log-likelihood of each gene, as ``pydeseq2.utils.nb_nll``.

    Parameters
    ----------
    counts, mu : numpy.ndarray
        n_samples x n_genes counts and means.
    disp : numpy.ndarray
        n_genes dispersions.

    Returns
    -------
    numpy.ndarray
        n_genes deviances.
    """
    inverse = 1 / disp
    logbinom = gammaln(counts + inverse) - gammaln(counts + 1) - gammaln(inverse)
    nll = counts.shape[0] * inverse * np.log(disp) + (
        -logbinom + (counts + inverse) * np.log(inverse + mu) - counts * np.log(mu)
    ).sum(axis=0)
    return -2 * nll


def linear_mu(counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray, min_mu: float) -> np.ndarray:
    """Means from a linear least-squares fit of normalised counts: ``pydeseq2.utils.fit_lin_mu``, batched.

    DESeq2's ``linearModelMu``, the start of the dispersion fit when the design has one distinct
    row per coefficient (each group's mean is its fitted value): one projection for all genes.

    Parameters
    ----------
    counts : numpy.ndarray
        n_samples x n_genes raw counts.
    size_factors : numpy.ndarray
        n_samples size factors.
    design : numpy.ndarray
        n_samples x p design matrix.
    min_mu : float
        Floor of the means.

    Returns
    -------
    numpy.ndarray
        n_samples x n_genes means.
    """
    sf = np.asarray(size_factors, dtype=float)[:, None]
    fitted = design @ np.linalg.lstsq(design, np.asarray(counts, dtype=float) / sf, rcond=None)[0]
    return np.maximum(sf * fitted, min_mu)


def _weighted_gram(design: np.ndarray, weights: np.ndarray, ridge: float) -> np.ndarray:
    """X' diag(w_g) X + ridge I for every gene: n_genes x p x p."""
    gram = np.einsum("ni,ng,nj->gij", design, weights, design)
    gram += ridge * np.eye(design.shape[1])
    return gram


def irls(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray,
    disp: np.ndarray,
    min_mu: float,
    beta_tol: float,
    min_beta: float = -30,
    max_beta: float = 30,
    optimizer: str = "L-BFGS-B",
    maxiter: int = 250,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every gene's GLM: ``pydeseq2.default_inference.DefaultInference.irls``, batched.

    Parameters
    ----------
    counts : numpy.ndarray
        n_samples x n_genes raw counts.
    size_factors : numpy.ndarray
        n_samples size factors.
    design : numpy.ndarray
        n_samples x p design matrix.
    disp : numpy.ndarray
        n_genes dispersions.
    min_mu, beta_tol, min_beta, max_beta, optimizer, maxiter
        As in ``pydeseq2.utils.irls_solver``.

    Returns
    -------
    beta : numpy.ndarray
        n_genes x p natural-log coefficients.
    mu : numpy.ndarray
        n_samples x n_genes fitted means (not floored at ``min_mu``).
    hat_diagonals : numpy.ndarray
        n_samples x n_genes diagonals of W^1/2 X (X'WX + ridge)^-1 X' W^1/2.
    converged : numpy.ndarray
        n_genes booleans.

    Raises
    ------
    ValueError
        ``design`` is not of full rank.
    """
    counts = np.asarray(counts, dtype=float)
    disp = np.asarray(disp, dtype=float)
    sf = np.asarray(size_factors, dtype=float)[:, None]
    n_genes, p = counts.shape[1], design.shape[1]
    ridge = 1e-6

    if np.linalg.matrix_rank(design) < p:
        # knockseq.design refuses such designs before any fit; irls_solver would start from the
        # log mean, and the split between aliased coefficients would be the ridge's alone.
        raise ValueError(f"the design matrix ({design.shape[0]} x {p}) is not of full rank")
    q, r = np.linalg.qr(design)
    beta = np.linalg.solve(r, q.T @ np.log(counts / sf + 0.1)).T

    mu = np.maximum(sf * np.exp(design @ beta.T), min_mu)
    dev = np.full(n_genes, 1000.0)
    active = np.ones(n_genes, dtype=bool)
    fallback = np.zeros(n_genes, dtype=bool)
    for iteration in range(1, maxiter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        y, m, a = counts[:, idx], mu[:, idx], disp[idx]
        w = m / (1.0 + m * a)
        z = np.log(m / sf) + (y - m) / m
        rhs = np.einsum("ni,ng->gi", design, w * z)
        step = np.linalg.solve(_weighted_gram(design, w, ridge), rhs[..., None])[..., 0]
        diverged = (np.abs(step) > max_beta).any(axis=1) | (iteration >= maxiter)
        fallback[idx[diverged]] = True
        keep = ~diverged
        idx, step = idx[keep], step[keep]
        beta[idx] = step
        mu[:, idx] = np.maximum(sf * np.exp(design @ step.T), min_mu)
        new_dev = nb_deviance(counts[:, idx], mu[:, idx], disp[idx])
        ratio = np.abs(new_dev - dev[idx]) / (np.abs(new_dev) + 0.1)
        dev[idx] = new_dev
        active[:] = False
        active[idx[ratio > beta_tol]] = True

    w = mu / (1.0 + mu * disp)
    inverse = np.linalg.inv(_weighted_gram(design, w, ridge))
    hat = np.einsum("ni,gij,nj->ng", design, inverse, design) * w
    converged = np.ones(n_genes, dtype=bool)
    mu = sf * np.exp(design @ beta.T)
    for g in np.flatnonzero(fallback):
        beta[g], mu[:, g], hat[:, g], converged[g] = irls_solver(
            counts[:, g],
            size_factors,
            design,
            disp[g],
            min_mu=min_mu,
            beta_tol=beta_tol,
            min_beta=min_beta,
            max_beta=max_beta,
            optimizer=optimizer,
            maxiter=1,
        )
    return beta, mu, hat, converged
