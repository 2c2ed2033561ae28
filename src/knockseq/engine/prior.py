"""The variance of the log-dispersion prior: DESeq2's ``estimateDispersionsPriorVar``.

The prior is a normal on log dispersions centred on the trend. Its variance is the spread of the
gene-wise estimates around the trend (squared MAD of the log residuals) less the sampling
variance expected from the residual degrees of freedom, ``trigamma(df / 2)``, floored at 0.25.
PyDESeq2 does the same for 4 or more residual degrees of freedom. For 1 to 3, where the
log-chi-square noise is too skewed for that subtraction, R instead simulates residuals for a
grid of prior variances and picks the one whose histogram best matches the observed one;
PyDESeq2 warns and keeps the formula (0.25 against R's 0.5285 on airway ``~ cell + dex``).

The simulation is ported so that it returns R's value: :class:`_RRandom` draws R's own random
numbers (``set.seed(2)``, Mersenne-Twister, ``rchisq``/``rnorm``) and :func:`_loess` evaluates
R's ``loess`` surface.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import ndtri, polygamma

__all__ = ["prior_variance"]

_MAD = 1.4826  # the constant of R's mad()


def prior_variance(
    genewise: np.ndarray, trend: np.ndarray, min_disp: float, df: int
) -> tuple[float, float]:
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
