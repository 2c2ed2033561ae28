"""R DESeq2 1.38's ``DESeq()`` and ``results()`` as PyDESeq2 0.5.4 subclasses (``compat: r``).

PyDESeq2 follows DESeq2's model but not all of its numerical rules, so its dispersions, p-values
and independent-filtering threshold drift from R's (``shared/notes/pydeseq2-vs-r.md``). The two
classes here keep PyDESeq2's data structures, its GLM, Cook's distances, outlier replacement and
apeGLM code, and override the steps whose rules differ, each with the port in its own module:

- gene-wise and MAP dispersions: :mod:`knockseq.engine.dispersions` (through
  :class:`~knockseq.engine.inference.RInference`);
- the dispersion trend: :mod:`knockseq.engine.trend`;
- the log-dispersion prior variance: :mod:`knockseq.engine.prior`;
- the Wald test's floored means and Cook's outlier rule: :mod:`knockseq.engine.wald`;
- independent filtering: :mod:`knockseq.engine.filtering`.

This module only wires those steps into PyDESeq2's methods (which read and write ``var``,
``uns`` and ``layers``); ``tests/test_engine_rules.py`` pins the PyDESeq2 internals it relies on.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.ds import DeseqStats
from pydeseq2.utils import n_or_more_replicates

from knockseq.engine.dispersions import dispersion_outliers, map_start
from knockseq.engine.filtering import r_independent_filtering
from knockseq.engine.inference import RInference
from knockseq.engine.prior import prior_variance
from knockseq.engine.trend import PARAMETRIC_FIT_FAILED, TrendFitFailed, parametric_trend
from knockseq.engine.wald import cooks_outliers, is_single_two_level_factor
from knockseq.errors import InputError

__all__ = ["RDeseqDataSet", "RDeseqStats"]


class RDeseqDataSet(DeseqDataSet):
    """A PyDESeq2 :class:`~pydeseq2.dds.DeseqDataSet` whose dispersions and Cook's rule are R's.

    Same constructor as PyDESeq2's; ``inference`` must be an :class:`RInference` (the default,
    built with ``n_cpus``). ``deseq2()`` then runs DESeq2's gene-wise fit, trend, prior variance,
    MAP fit and Cook's outlier rule; the GLM, Cook's distances and outlier replacement/refit
    (``minReplicatesForReplace`` = 7, trimmed-mean replacement) are PyDESeq2's, which already
    follow R's ``refitWithoutOutliers``.
    """

    def __init__(self, *, inference: RInference | None = None, n_cpus: int | None = None, **kwargs: Any) -> None:
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

        If the fit fails, warn with :data:`~knockseq.engine.trend.PARAMETRIC_FIT_FAILED` and use
        PyDESeq2's mean trend.

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
        try:
            coeffs = parametric_trend(means[non_zero], disps[non_zero], self.min_disp)
        except TrendFitFailed:
            warnings.warn(PARAMETRIC_FIT_FAILED, UserWarning, stacklevel=2)
            self._fit_mean_dispersion_trend(vst)
            return
        self.uns["vst_trend_coeffs" if vst else "trend_coeffs"] = pd.Series(coeffs, index=["a0", "a1"])
        if not vst:
            self.uns["disp_function_type"] = "parametric"
            fitted = np.full(self.n_vars, np.nan)
            fitted[non_zero] = self.disp_function(means[non_zero])
            self.var["fitted_dispersions"] = fitted

    def fit_dispersion_prior(self) -> None:
        """Variance of the log-dispersion prior, as ``estimateDispersionsPriorVar``.

        Sets ``uns["_squared_logres"]`` (R's ``varLogDispEsts``) and ``uns["prior_disp_var"]``
        (:func:`knockseq.engine.prior.prior_variance`).
        """
        if "fitted_dispersions" not in self.var:
            self.fit_dispersion_trend()
        samples, coefficients = self.obsm["design_matrix"].shape
        non_zero = self.var["non_zero"].to_numpy()
        var_log_disp, prior_var = prior_variance(
            self.var["genewise_dispersions"].to_numpy()[non_zero],
            self.var["fitted_dispersions"].to_numpy()[non_zero],
            self.min_disp,
            samples - coefficients,
        )
        self.uns["_squared_logres"] = var_log_disp
        self.uns["prior_disp_var"] = np.float64(prior_var)

    def fit_MAP_dispersions(self) -> None:  # noqa: N802 (PyDESeq2's name)
        """Final dispersions as ``estimateDispersionsMAP``.

        The MAP search starts at :func:`~knockseq.engine.dispersions.map_start`; genes flagged by
        :func:`~knockseq.engine.dispersions.dispersion_outliers` keep their gene-wise estimate.
        """
        if "prior_disp_var" not in self.uns:
            self.fit_dispersion_prior()
        non_zero = self.var["non_zero"].to_numpy()
        genewise = self.var["genewise_dispersions"].to_numpy()
        fitted = self.var["fitted_dispersions"].to_numpy()
        disp_map, converged = self.inference.alpha_mle(
            counts=self.X[:, self.non_zero_idx],
            design_matrix=self.obsm["design_matrix"].to_numpy(),
            mu=self.layers["_mu_hat"][:, self.non_zero_idx],
            alpha_hat=fitted[non_zero],
            min_disp=self.min_disp,
            max_disp=self.max_disp,
            prior_disp_var=float(self.uns["prior_disp_var"]),
            prior_reg=True,
            init=map_start(genewise, fitted)[non_zero],
        )
        map_all = np.full(self.n_vars, np.nan)
        map_all[non_zero] = disp_map
        self.var["MAP_dispersions"] = map_all
        self.var["_MAP_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_MAP_converged"] = converged
        outlier = dispersion_outliers(genewise, fitted, self.uns["_squared_logres"])
        self.var["_outlier_genes"] = outlier
        self.var["dispersions"] = np.where(outlier, genewise, map_all)
        if self.low_memory:
            del self.layers["_mu_hat"]

    def cooks_outlier(self) -> pd.Series:
        """Genes whose p-value ``results()`` sets to NA for a large Cook's distance.

        :func:`knockseq.engine.wald.cooks_outliers`, with the distances of replaceable samples
        counted as 0 after a refit; cached in ``var["_pvalue_cooks_outlier"]`` as PyDESeq2 does.

        Returns
        -------
        pandas.Series
            Boolean, one entry per gene.
        """
        if "_pvalue_cooks_outlier" in self.var:
            return self.var["_pvalue_cooks_outlier"]
        design = self.obsm["design_matrix"]
        refitted = self.refit_cooks and "refitted" in self.var and self.var["refitted"].any()
        self.var["_pvalue_cooks_outlier"] = cooks_outliers(
            self.layers["cooks"],
            self.X,
            n_or_more_replicates(design, 3).to_numpy(),
            self.obs["replaceable"].to_numpy() if refitted else None,
            design.shape[1],
            is_single_two_level_factor(self.design, self.variables, self.obs),
        )
        return self.var["_pvalue_cooks_outlier"]


class RDeseqStats(DeseqStats):
    """PyDESeq2's :class:`~pydeseq2.ds.DeseqStats` with R's ``results()`` defaults.

    ``alpha`` defaults to 0.1, the Wald test floors the means as R (:meth:`RInference.wald_test`)
    and independent filtering is :func:`~knockseq.engine.filtering.r_independent_filtering`; the
    baseMean threshold it chose is ``filter_threshold`` after ``summary()`` (NaN without
    independent filtering).
    """

    filter_threshold: float = float("nan")

    def __init__(
        self,
        dds: DeseqDataSet,
        contrast: list[str] | np.ndarray,
        alpha: float = 0.1,
        inference: RInference | None = None,
        n_cpus: int | None = None,
        **kwargs: Any,
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
