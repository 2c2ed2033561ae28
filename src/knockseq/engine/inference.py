"""The PyDESeq2 ``Inference`` classes of knockseq: R's dispersion and Wald rules, batched GLM.

PyDESeq2's ``DeseqDataSet`` and ``DeseqStats`` hand their per-gene numerical work to an
``Inference`` object. :class:`RInference` replaces two of its methods with DESeq2's rules:
``alpha_mle`` with :mod:`knockseq.engine.dispersions` and ``wald_test`` with
:mod:`knockseq.engine.wald` on means floored at ``minmu``. ``de.engine`` picks the GLM fit:
``batched`` (:class:`BatchedInference`, :class:`BatchedRInference`, whose ``irls`` is
:func:`knockseq.engine.glm.irls`, whose ``lin_reg_mu`` is :func:`knockseq.engine.glm.linear_mu`
and whose ``lfc_shrink_nbinom_glm`` is :func:`knockseq.engine.shrink.shrink_map`) or ``pydeseq2``
(PyDESeq2's per-gene loops, kept as the reference the batched engine is tested against). The
batched classes differ from their bases only in those three methods.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference

from knockseq.engine.dispersions import genewise_dispersions, map_dispersions
from knockseq.engine.glm import irls, linear_mu
from knockseq.engine.shrink import shrink_map
from knockseq.engine.wald import wald_test

__all__ = ["ENGINES", "BatchedInference", "BatchedRInference", "RInference"]

#: Values of ``de.engine``.
ENGINES = ("batched", "pydeseq2")


class RInference(DefaultInference):
    """PyDESeq2 inference whose dispersion fits and Wald test follow DESeq2.

    :meth:`alpha_mle` is DESeq2's dispersion search, vectorised over genes; :meth:`wald_test`
    floors the means first. The rest is PyDESeq2's :class:`DefaultInference` (IRLS, apeGLM) with
    its ``n_cpus`` parallelism.

    Attributes
    ----------
    min_mu : float
        Floor of the expected counts in the dispersion likelihood and the Wald test (``minmu``
        of ``estimateDispersionsGeneEst``, 0.5). PyDESeq2 hands over its GLM means unfloored.
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
            n_samples x n_genes, as PyDESeq2 passes them.
        design_matrix : ndarray
            n_samples x p.
        alpha_hat : ndarray
            n_genes. Gene-wise: the starting (rough method-of-moments) dispersions. MAP: the
            fitted trend, which is the prior median.
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
            n_genes MAP starting values (``estimateDispersionsMAP``'s ``dispInit``);
            ``alpha_hat`` if None.

        Returns
        -------
        tuple of ndarray
            n_genes dispersions and n_genes booleans: whether the line search converged.
        """
        if not cr_reg:
            raise NotImplementedError("DESeq2 always applies the Cox-Reid adjustment")
        if prior_reg:
            start = alpha_hat if init is None else init
            return map_dispersions(
                counts, mu, design_matrix, alpha_hat, prior_disp_var, start, min_disp, max_disp, self.min_mu
            )
        return genewise_dispersions(counts, mu, design_matrix, alpha_hat, min_disp, max_disp, self.min_mu)

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

        The two-sided test (``alt_hypothesis=None``, the only one knockseq runs) is
        :func:`knockseq.engine.wald.wald_test`; the one-sided tests are PyDESeq2's per-gene code.

        Parameters
        ----------
        design_matrix : ndarray, shape (n_samples, p)
        disp : ndarray, shape (n_genes,)
        lfc : ndarray, shape (n_genes, p)
            Coefficients, natural log scale.
        mu : ndarray, shape (n_samples, n_genes)
            Expected counts.
        ridge_factor : ndarray, shape (p, p)
        contrast : ndarray or pandas.Series, shape (p,)
        lfc_null : float
            Natural log scale.
        alt_hypothesis : str, optional

        Returns
        -------
        tuple of ndarray, each shape (n_genes,)
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
        return wald_test(design_matrix, disp, lfc, mu, ridge_factor, contrast, lfc_null)


class _Batched:
    """The batched engine's GLM fits and apeGLM shrinkage (a mixin for PyDESeq2 inference classes).

    Attributes
    ----------
    mle : numpy.ndarray or None
        n_genes x p maximum-likelihood coefficients (natural log) of the genes the shrinkage gets,
        with which most genes are proven to have a single posterior mode
        (:func:`knockseq.engine.shrink.shrink_map`); None: search every gene for a second one.
        PyDESeq2's shrinkage call does not pass the MLE: :meth:`use_fit` sets it.
    """

    mle: np.ndarray | None = None

    def use_fit(self, dds: DeseqDataSet) -> None:
        """Take ``mle`` from a fitted dataset: its non-zero genes, which PyDESeq2 shrinks.

        A gene whose Cook's outliers were replaced gets NaN: its coefficients are of the replaced
        counts (refitted, or 0 where none is left), not of the counts the shrinkage uses, so
        they prove nothing.
        """
        mle = dds.varm["LFC"].to_numpy()[dds.non_zero_idx]
        if "replaced" in dds.var:
            mle[dds.var["replaced"].to_numpy(dtype=bool)[dds.non_zero_idx]] = np.nan
        self.mle = mle

    def irls(  # noqa: D102 (PyDESeq2's signature and docstring)
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float = -30,
        max_beta: float = 30,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
        maxiter: int = 250,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return irls(
            counts,
            size_factors,
            np.asarray(design_matrix, dtype=float),
            disp,
            min_mu,
            beta_tol,
            min_beta,
            max_beta,
            optimizer,
            maxiter,
        )

    def lin_reg_mu(  # noqa: D102 (PyDESeq2's signature and docstring)
        self, counts: np.ndarray, size_factors: np.ndarray, design_matrix: np.ndarray, min_mu: float
    ) -> np.ndarray:
        return linear_mu(counts, size_factors, np.asarray(design_matrix, dtype=float), min_mu)

    def lfc_shrink_nbinom_glm(  # noqa: D102 (PyDESeq2's signature and docstring)
        self,
        design_matrix: np.ndarray,
        counts: np.ndarray,
        size: np.ndarray,
        offset: np.ndarray,
        prior_no_shrink_scale: float,
        prior_scale: float,
        optimizer: str,
        shrink_index: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        beta, variance, converged = shrink_map(
            np.asarray(design_matrix, dtype=float),
            counts,
            size,
            offset,
            prior_no_shrink_scale,
            prior_scale,
            shrink_index,
            mle=self.mle,
        )
        # PyDESeq2 reads the (k, k) entry of each inverse Hessian only, and only that is computed
        inv_hessian = np.full((len(beta), beta.shape[1], beta.shape[1]), np.nan)
        inv_hessian[:, shrink_index, shrink_index] = variance
        return beta, inv_hessian, converged


class BatchedInference(_Batched, DefaultInference):
    """PyDESeq2's default inference with the batched fit and shrinkage (``compat: pydeseq2``)."""


class BatchedRInference(_Batched, RInference):
    """knockseq's R-compatible inference with the batched fit and shrinkage (``compat: r``)."""
