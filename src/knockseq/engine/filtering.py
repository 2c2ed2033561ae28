"""Independent filtering: DESeq2's ``pvalueAdjustment`` (R/results.R), with R's ``lowess``.

DESeq2 keeps the genes whose baseMean passes a filter chosen from 50 quantile filters: it fits
a ``lowess`` curve through the number of rejections of each and takes the first filter whose
rejections exceed the curve's maximum minus the RMS of its residuals. PyDESeq2 follows the same
idea with its own smoother (another neighbourhood, robustness weighting and number of fits than
R's ``clowess``) and lands on other thresholds (stock PyDESeq2 filters airway ``~ cell + dex``
at baseMean 2.90, R at 4.503, alpha 0.1, though its p-values differ too). This module ports the
rule, ``p.adjust(method = "BH")`` (:mod:`knockseq.multitest`) and ``stats::lowess``
(stats/src/lowess.c), so the padj are R's to 1e-12.
"""

from __future__ import annotations

import numpy as np

from knockseq.multitest import bh_in_order, decreasing_order

__all__ = ["lowess", "r_independent_filtering"]


def _lowest(
    x: np.ndarray,
    y: np.ndarray,
    xs: float,
    nleft: int,
    nright: int,
    robustness: np.ndarray | None,
) -> float | None:
    """One local linear fit of R's ``lowest`` (stats/src/lowess.c) at ``xs``; None if no weight.

    ``x`` and ``y`` are the n_points sorted points, ``nleft`` and ``nright`` the window's ends and
    ``robustness`` the n_points robustness weights (None in the first fit).
    """
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


def lowess(x: np.ndarray, y: np.ndarray, f: float = 2 / 3, iter: int = 3, delta: float | None = None) -> np.ndarray:
    """R's ``stats::lowess`` (Cleveland's ``clowess``): robust locally weighted linear fit.

    Parameters
    ----------
    x, y : ndarray
        n_points points; sorted by ``x`` before fitting.
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
        n_points fitted values at the sorted ``x`` (R's ``lowess(x, y)$y``).
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


def r_independent_filtering(base_mean: np.ndarray, pvalue: np.ndarray, alpha: float = 0.1) -> tuple[np.ndarray, float]:
    """Adjusted p-values with DESeq2's independent filtering on the mean of normalised counts.

    ``pvalueAdjustment`` of R/results.R: BH within each of 50 baseMean quantile filters from the
    share of zero means to 0.95, rejections at ``alpha`` per filter, a lowess (f = 1/5) through
    them, and the first filter whose rejections exceed the curve's maximum minus the RMS of its
    residuals (no filtering when no filter rejects more than 10 genes).

    Parameters
    ----------
    base_mean : ndarray
        n_genes means of normalised counts.
    pvalue : ndarray
        n_genes Wald p-values, NaN where not tested (all-zero genes, Cook's outliers).
    alpha : float
        Target FDR, R's ``results(alpha=)`` (default 0.1 as in R).

    Returns
    -------
    tuple
        n_genes adjusted p-values (NaN for filtered genes) and the baseMean threshold (R's
        ``metadata(res)$filterThreshold``).
    """
    base_mean = np.asarray(base_mean, dtype=float)
    pvalue = np.asarray(pvalue, dtype=float)
    lower = float(np.mean(base_mean == 0))
    theta = np.linspace(lower, 0.95 if lower < 0.95 else 1.0, 50)
    cutoffs = np.quantile(base_mean, theta)  # R's quantile() type 7

    # one sort serves all 50 filters: each keeps a subset of the genes, in the same order
    decreasing = decreasing_order(pvalue)

    def filtered_padj(cutoff: float) -> np.ndarray:
        return bh_in_order(pvalue, decreasing[base_mean[decreasing] >= cutoff])

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
