"""The results of one contrast on a fit: Wald test, Cook's and independent filtering, apeGLM.

:func:`contrast_results` tests one contrast on a :class:`~knockseq.de.fit.FitResult`, as R's
``results(dds, contrast=)`` and ``lfcShrink`` do on one ``DESeq(dds)``; :func:`run_contrast` is
the fit and the test for a single contrast. A contrast's results are the same whether its fit is
shared or not. Choices that affect the numbers:

- **Coefficient.** The fit's reference is the tested variable's baseline level, so the contrast
  is one fitted coefficient. The Wald test and the apeGLM shrinkage (``DeseqStats.lfc_shrink``,
  which shrinks one coefficient) are both on that coefficient, so ``log2FoldChange_shrunk`` is
  the contrast asked for, with no refit, whatever the level names sort to.
- **padj**: Benjamini-Hochberg after independent filtering on ``baseMean`` at ``alpha``
  (default 0.1, R's ``results()`` default; PyDESeq2's own default is 0.05).
- **Cook's distance** (``cooks``): outlier replacement and refit (7+ replicates per cell) and
  p-values set to NA for outliers, as DESeq2's defaults; ``cooks=False`` disables both.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from knockseq.de.backend import ONE_BLAS_THREAD, select_backend
from knockseq.de.fit import FitResult, fit_design
from knockseq.design import Design, build_design
from knockseq.errors import InputError
from knockseq.fits import fit_spec

#: Columns of the results table, in order.
RESULT_COLUMNS = [
    "gene_id",
    "gene_name",
    "baseMean",
    "log2FoldChange",
    "lfcSE",
    "stat",
    "pvalue",
    "padj",
    "log2FoldChange_shrunk",
]


@dataclass
class DEResult:
    """Results of one contrast.

    Attributes
    ----------
    contrast : str
        Contrast name.
    table : pandas.DataFrame
        n_genes x :data:`RESULT_COLUMNS`, every gene of the input counts, sorted by padj (NA
        last) then gene_id. Fold changes are log2(test / reference).
    normalized_counts : pandas.DataFrame
        n_genes x (gene_id, gene_name, samples): counts divided by size factors, input gene order.
    size_factors : pandas.Series
        Median-of-ratios size factor per sample used (n_samples), indexed by sample.
    metadata : dict
        Settings and counts: compat, alpha, design, formula, samples, gene counts at each step,
        software versions (JSON-ready), ``fit`` (its ``id``),
        ``dispersion_trend`` (:data:`knockseq.de.fit.DISPERSION_TRENDS`) and ``filter_threshold``:
        the baseMean cut-off of independent filtering (R's ``filterThreshold`` with
        ``compat="r"``; with ``"pydeseq2"``, which does not keep its cut-off, the smallest
        baseMean given a padj).
    design : Design
        The checked design of the contrast (its test level and coefficient).
    """

    contrast: str
    table: pd.DataFrame
    normalized_counts: pd.DataFrame
    size_factors: pd.Series
    metadata: dict[str, Any]
    design: Design


def run_contrast(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    contrast: Mapping[str, Any],
    design: Sequence[str],
    compat: str,
    engine: str,
    alpha: float,
    min_count: int,
    cooks: bool,
    shrink: bool,
    n_cpus: int = 1,
    sheet_path: str | PathLike | None = None,
) -> DEResult:
    """Fit DESeq2 to one contrast's samples and test ``test`` vs ``reference``.

    :func:`~knockseq.de.fit.fit_design` then :func:`contrast_results`, for a contrast that
    shares its fit with none.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table: ``gene_id``, ``gene_name``, then one integer column per sample
        (n_genes rows). Columns of samples the contrast does not use are ignored.
    samples : pandas.DataFrame
        The sample sheet (``sample`` column plus attributes).
    contrast : mapping
        ``name``, ``variable``, ``test``, ``reference``, optional ``where``; see
        :func:`knockseq.design.build_design`.
    design : sequence of str
        Covariate columns (``design:`` in the config).
    compat : {"r", "pydeseq2"}
        Statistical rules, see :mod:`knockseq.de.backend`.
    engine : {"batched", "pydeseq2"}
        GLM implementation, see :mod:`knockseq.de.backend`.
    alpha : float
        FDR target of independent filtering.
    min_count : int
        Pre-filter, see :mod:`knockseq.de.fit`; 0 disables it.
    cooks : bool
        Cook's distance outlier replacement and p-value filtering.
    shrink : bool
        Compute ``log2FoldChange_shrunk`` (apeGLM); otherwise that column is NA.
    n_cpus : int
        Processes for PyDESeq2's per-gene fits. Does not change the results.
    sheet_path : str or PathLike, optional
        Sample sheet path, named in error messages.

    Returns
    -------
    DEResult

    Raises
    ------
    InputError
        A design problem (see :mod:`knockseq.design`), a sample missing from the counts, or no
        gene left after the pre-filter.
    """
    _check_alpha(alpha)
    name = str(contrast.get("name", "contrast"))
    with warnings.catch_warnings():
        # Checked before the fit so that a bad contrast costs nothing; contrast_results warns.
        warnings.simplefilter("ignore", UserWarning)
        build_design(samples, {**contrast, "name": name}, design, sheet_path=sheet_path)
    options = {"compat": compat, "engine": engine, "min_count": min_count, "cooks": cooks}
    spec = fit_spec(contrast, samples, design, options, sheet_path=sheet_path)
    fit = fit_design(counts, samples, spec, contrasts=[name], n_cpus=n_cpus, sheet_path=sheet_path)
    return contrast_results(fit, contrast, alpha=alpha, shrink=shrink, n_cpus=n_cpus)


def contrast_results(
    fit: FitResult,
    contrast: Mapping[str, Any],
    *,
    alpha: float,
    shrink: bool,
    n_cpus: int = 1,
) -> DEResult:
    """Wald test, Cook's and independent filtering and apeGLM shrinkage of one contrast on a fit.

    Parameters
    ----------
    fit : FitResult
        A fit whose spec is the contrast's own (:func:`knockseq.fits.fit_spec`).
    contrast : mapping
        As in :func:`run_contrast`.
    alpha : float
        FDR target of independent filtering.
    shrink : bool
        Compute ``log2FoldChange_shrunk`` (apeGLM); otherwise that column is NA.
    n_cpus : int
        Processes for the per-gene shrinkage fits. Does not change the results.

    Returns
    -------
    DEResult

    Raises
    ------
    InputError
        ``alpha`` outside (0, 1), or a design problem of the contrast.
    ValueError
        The contrast needs another fit than ``fit``.
    """
    _check_alpha(alpha)
    name = str(contrast.get("name", "contrast"))
    spec = fit_spec(contrast, fit.sheet, fit.spec.covariates, fit.spec.as_dict(), sheet_path=fit.sheet_path)
    if spec != fit.spec:
        raise ValueError(f"contrast '{name}' needs fit {spec.fit_id}, not {fit.fit_id}")
    checked = build_design(fit.sheet, {**contrast, "name": name}, fit.spec.covariates, sheet_path=fit.sheet_path)
    backend = select_backend(fit.spec.compat, fit.spec.engine)

    # The reference is the baseline, so the contrast is the coefficient itself: as a vector it
    # needs no formulaic materializer, which a fit read back in another process has lost.
    vector = (fit.dds.obsm["design_matrix"].columns == checked.coefficient).astype(float)
    with threadpool_limits(**ONE_BLAS_THREAD):
        stats = backend.new_stats(
            fit.dds,
            contrast=vector,
            alpha=alpha,
            cooks_filter=fit.spec.cooks,
            independent_filter=True,
            quiet=True,
            n_cpus=n_cpus,
        )
        stats.summary()
        # lfc_shrink overwrites the results' log2FoldChange and lfcSE in place: copy the MLE first.
        tested = stats.results_df.copy()
        tested["log2FoldChange_shrunk"] = np.nan
        if shrink:
            stats.lfc_shrink(coeff=checked.coefficient)
            tested["log2FoldChange_shrunk"] = stats.LFC[checked.coefficient] / np.log(2)

    raw = fit.counts
    size_factors = pd.Series(fit.dds.obs["size_factors"].to_numpy(), index=checked.samples, name="size_factor")
    normalized = raw / size_factors
    table = pd.DataFrame(index=raw.index, columns=RESULT_COLUMNS[2:], dtype=float)
    table["baseMean"] = normalized.mean(axis=1)
    table.loc[tested.index, tested.columns] = tested
    table.insert(0, "gene_name", fit.gene_names)
    table = table.rename_axis("gene_id").reset_index()
    table = table.sort_values(["padj", "gene_id"], na_position="last", kind="mergesort").reset_index(drop=True)

    metadata = {
        **fit.metadata,
        "contrast": name,
        "test": checked.test,
        "where": dict(contrast.get("where") or {}),
        "alpha": alpha,
        "coefficient": checked.coefficient,
        "shrink": "apeglm" if shrink else None,
        # The fit's id only: which other contrasts share it can change without this contrast's
        # results changing (a contrast added to the config reuses the fit), so it is not recorded.
        "fit": {"id": fit.fit_id},
        "n_genes_cooks_outlier": int(fit.dds.cooks_outlier().sum()) if fit.spec.cooks else 0,
        "n_genes_with_pvalue": int(tested["pvalue"].notna().sum()),
        "n_genes_with_padj": int(tested["padj"].notna().sum()),
        "n_genes_padj_below_alpha": int((tested["padj"] < alpha).sum()),
        "filter_threshold": backend.filter_threshold(stats),
        "notes": checked.notes,
    }
    return DEResult(
        contrast=name,
        table=table,
        normalized_counts=pd.concat([fit.gene_names, normalized], axis=1).rename_axis("gene_id").reset_index(),
        size_factors=size_factors,
        metadata=metadata,
        design=checked,
    )


def _check_alpha(alpha: float) -> None:
    """Raise unless ``alpha`` is in (0, 1)."""
    if not 0 < alpha < 1:
        raise InputError(f"alpha {alpha} is not between 0 and 1.", column="de.alpha", fix="use e.g. 0.1.")
