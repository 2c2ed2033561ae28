"""Random-effects meta-analysis of one effect across contrasts, as R's ``metafor::rma(method = "REML")``.

Contrasts that ask the same question in different cell lines or with a drug (``compare:``) each
estimate the direct ER targets' mean log2 fold change with a standard error. They are not
replicates of one experiment: cell lines and perturbations differ in how strongly they reach ER,
so the pooled estimate lets the true effect vary between contrasts (between-contrast variance
``tau2``) and says how much of the spread that variation explains (I²).

``tau2`` is estimated by restricted maximum likelihood with Fisher scoring, as metafor does
(start at the Hedges estimate, steps of ``(y'PPy - tr P) / tr PP``, truncated at 0, until a step
is below 1e-5), and the pooled mean is the inverse-variance weighted mean with weights
``1 / (v_i + tau2)``, with a normal (Wald) interval, metafor's default ``test = "z"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri

#: Fisher scoring stops when a step changes tau2 by less than this (metafor's ``threshold``).
THRESHOLD = 1e-5
#: And after this many steps (metafor's ``maxiter``).
MAX_ITER = 100


@dataclass(frozen=True)
class RandomEffects:
    """A random-effects pooled estimate.

    Attributes
    ----------
    k : int
        Number of estimates pooled.
    estimate, se : float
        Pooled mean and its standard error.
    ci_low, ci_high : float
        Its ``level`` Wald interval.
    pvalue : float
        Two-sided test of a pooled mean of 0.
    tau2 : float
        Between-contrast variance (REML; 0 when k = 1).
    i2 : float
        Share (percent) of the total variance due to between-contrast variance.
    q, q_pvalue : float
        Cochran's heterogeneity statistic and its chi-square p-value (k - 1 df; NaN when k = 1).
    level : float
        Coverage of the interval.
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    tau2: float
    i2: float
    q: float
    q_pvalue: float
    level: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain-dict form, for JSON."""
        return asdict(self)


def random_effects(estimates: np.ndarray, variances: np.ndarray, level: float = 0.95) -> RandomEffects:
    """Pool ``k`` estimates with their sampling variances (REML random effects).

    Parameters
    ----------
    estimates : numpy.ndarray
        Shape (k,), the per-contrast estimates ``y_i``.
    variances : numpy.ndarray
        Shape (k,), their sampling variances ``v_i`` (squared standard errors), all > 0.
    level : float
        Coverage of the interval.

    Returns
    -------
    RandomEffects

    Raises
    ------
    ValueError
        No estimate, shapes that differ, or a variance that is not positive and finite.
    """
    y = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    if y.ndim != 1 or y.shape != v.shape or len(y) == 0:
        raise ValueError("estimates and variances must be two non-empty arrays of one shape")
    if not (np.all(np.isfinite(v)) and np.all(v > 0) and np.all(np.isfinite(y))):
        raise ValueError("estimates must be finite and variances finite and positive")
    k = len(y)
    tau2 = _reml_tau2(y, v) if k > 1 else 0.0
    weights = 1 / (v + tau2)
    estimate = float(np.sum(weights * y) / np.sum(weights))
    se = float(np.sqrt(1 / np.sum(weights)))
    half = float(ndtri(0.5 + level / 2)) * se
    fixed = 1 / v
    q = float(np.sum(fixed * (y - np.sum(fixed * y) / np.sum(fixed)) ** 2)) if k > 1 else float("nan")
    # I² as metafor computes it: tau2 against tau2 plus the "typical" sampling variance.
    typical = (k - 1) * np.sum(fixed) / (np.sum(fixed) ** 2 - np.sum(fixed**2)) if k > 1 else float("nan")
    return RandomEffects(
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - half,
        ci_high=estimate + half,
        pvalue=float(2 * ndtr(-abs(estimate) / se)),
        tau2=float(tau2),
        i2=float(100 * tau2 / (tau2 + typical)) if k > 1 else 0.0,
        q=q,
        q_pvalue=float(chdtrc(k - 1, q)) if k > 1 else float("nan"),
        level=level,
    )


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """REML between-study variance by Fisher scoring from the Hedges (HE) start, as metafor."""
    k = len(y)
    residual = y - y.mean()
    tau2 = max(0.0, float(np.sum(residual**2) / (k - 1) - np.mean(v)))
    for _ in range(MAX_ITER):
        w = 1 / (v + tau2)
        # P = W - W 1 (1'W1)^-1 1'W for an intercept-only model
        p = np.diag(w) - np.outer(w, w) / np.sum(w)
        py = p @ y
        step = float((py @ py - np.trace(p)) / np.sum(p * p))
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < THRESHOLD:
            return new
        tau2 = new
    return tau2
