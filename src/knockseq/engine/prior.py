"""The variance of the log-dispersion prior: DESeq2's ``estimateDispersionsPriorVar``.

The prior is a normal on log dispersions centred on the trend. Its variance is the spread of the
gene-wise estimates around the trend (squared MAD of the log residuals) less the sampling
variance expected from the residual degrees of freedom, ``trigamma(df / 2)``, floored at 0.25.
PyDESeq2 does the same for 4 or more residual degrees of freedom. For 1 to 3, where the
log-chi-square noise is too skewed for that subtraction, R instead simulates residuals for a
grid of prior variances and picks the one whose histogram best matches the observed one;
PyDESeq2 warns and keeps the formula (0.25 against R's 0.5285 on airway ``~ cell + dex``).

The simulation returns R's value: its draws depend only on ``df`` and R's fixed seed, so a table
of R's own simulated histograms (made once by R, ``data/prior_var_simulation.tsv.gz``) stands in
for them, and :func:`_loess` evaluates R's ``loess`` surface.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import numpy as np
import pandas as pd
from scipy.special import polygamma

__all__ = ["prior_variance"]

_MAD = 1.4826  # the constant of R's mad()
_BREAKS = np.arange(-20, 21) / 2  # the simulation's histogram breaks, -20:20/2
_SIMULATION = "prior_var_simulation.tsv.gz"


def prior_variance(genewise: np.ndarray, trend: np.ndarray, min_disp: float, df: int) -> tuple[float, float]:
    """``varLogDispEsts`` and the prior variance, as ``estimateDispersionsPriorVar``.

    Only genes with a gene-wise dispersion of at least ``100 * min_disp`` count.

    Parameters
    ----------
    genewise, trend : numpy.ndarray
        n_genes gene-wise dispersions and fitted trend (genes with a count above zero).
    min_disp : float
        DESeq2's ``minDisp``.
    df : int
        Residual degrees of freedom of the design (samples - coefficients).

    Returns
    -------
    tuple of float
        ``varLogDispEsts`` (squared MAD of the log residuals) and the prior variance:
        ``max(varLogDispEsts - trigamma(df / 2), 0.25)``, or the simulation estimate when
        ``df`` is 3 or less.
    """
    residuals = np.log(genewise) - np.log(trend)
    above_min = residuals[genewise >= 100 * min_disp]
    var_log_disp = (_MAD * np.median(np.abs(above_min - np.median(above_min)))) ** 2
    if df <= 3:
        return var_log_disp, _simulated_prior_var(above_min, df)
    return var_log_disp, max(var_log_disp - float(polygamma(1, df / 2)), 0.25)


def _hist_density(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """``hist(values, breaks, plot = FALSE)$density``: right-closed bins (a, b].

    Parameters
    ----------
    values : numpy.ndarray
        n_values values, all within (breaks[0], breaks[-1]].
    breaks : numpy.ndarray
        n_bins + 1 increasing bin edges.

    Returns
    -------
    numpy.ndarray
        n_bins densities.
    """
    bins = np.searchsorted(breaks, values, side="left") - 1
    counts = np.bincount(np.maximum(bins, 0), minlength=len(breaks) - 1)
    return counts / (len(values) * np.diff(breaks))


def _loess(x: np.ndarray, y: np.ndarray, x_new: np.ndarray, span: float) -> np.ndarray:
    """``predict(loess(y ~ x, span = span), x_new)`` for sorted, distinct ``x`` (R's defaults).

    Degree 2 with tricube weights over the ``floor(n * span)`` nearest points, evaluated as R's
    ``surface = "interpolate"``: exact local fits (value and slope) at the vertices of a k-d tree
    whose cells hold at most ``floor(n * span * 0.2)`` points, inside a bounding box widened by
    0.5 %, and cubic Hermite interpolation between them.

    Parameters
    ----------
    x, y : numpy.ndarray
        n_points sorted, distinct predictor values and their responses.
    x_new : numpy.ndarray
        n_new points to predict at, within the range of ``x``.
    span : float
        Share of the points in each local fit.

    Returns
    -------
    numpy.ndarray
        n_new predictions.
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


@functools.cache
def _simulated_densities(df: int) -> np.ndarray:
    """R's simulated residual histograms for ``df`` residual degrees of freedom.

    The draws of ``estimateDispersionsPriorVar``'s simulation depend on ``df`` alone (R's
    ``set.seed(2)``), so R made them once: ``data/prior_var_simulation.tsv.gz``, written by
    ``data/make_prior_var_simulation.R`` (R 4.2.2), holds each grid point's bin counts.

    Returns
    -------
    numpy.ndarray
        200 x 40 densities, ``hist(...)$density`` for each prior variance of the grid.
    """
    with (files("knockseq") / "data" / _SIMULATION).open("rb") as handle:
        table = pd.read_csv(handle, sep="\t", compression="gzip")
    rows = table[table["df"] == df].sort_values("grid_index")
    counts = rows.filter(like="bin").to_numpy(dtype=float)
    return counts / (rows["n"].to_numpy(dtype=float)[:, None] * np.diff(_BREAKS))


def _simulated_prior_var(residuals: np.ndarray, df: int) -> float:
    """Prior variance matching log chi-square noise plus a normal prior to the residuals.

    DESeq2's Monte-Carlo estimator for 1-3 residual degrees of freedom, with R's own draws
    (:func:`_simulated_densities`): for each of 200 prior variances in [0, 8], the KL divergence
    of the residual histogram from the histogram of 1e4 simulated log dispersion residuals; the
    200 divergences are smoothed (loess, span 0.2) and the minimiser on a 1000-point grid is
    taken, floored at 0.25.

    Parameters
    ----------
    residuals : numpy.ndarray
        n_genes log residuals of the gene-wise dispersions from the trend.
    df : int
        Residual degrees of freedom, 1 to 3.

    Returns
    -------
    float
        The prior variance.
    """
    observed = residuals[(residuals > _BREAKS[0]) & (residuals < _BREAKS[-1])]
    observed_density = _hist_density(observed, _BREAKS)
    var_grid = np.linspace(0, 8, 200)
    kl = np.empty(len(var_grid))
    for i, simulated_density in enumerate(_simulated_densities(df)):
        both = np.concatenate([observed_density, simulated_density])
        small = both[both > 0].min()
        kl[i] = np.sum(observed_density * (np.log(observed_density + small) - np.log(simulated_density + small)))
    fine_grid = np.linspace(0, 8, 1000)
    smoothed = _loess(var_grid, kl, fine_grid, span=0.2)
    return max(float(fine_grid[np.argmin(smoothed)]), 0.25)
