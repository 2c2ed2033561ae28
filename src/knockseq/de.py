"""Differential expression with PyDESeq2: one fit per design, one test per contrast; VST for QC.

:func:`fit_design` fits DESeq2's negative binomial GLM once to the samples of a
:class:`~knockseq.fits.FitSpec` (the contrasts that share it are grouped by
:func:`knockseq.fits.fit_groups`); :func:`contrast_results` then runs the Wald test, independent
filtering, Cook's filtering and apeGLM shrinkage of one contrast on that fit, as R's
``results(dds, contrast=)`` and ``lfcShrink`` do on one ``DESeq(dds)``; :func:`run_contrast` is
the two for a single contrast. A contrast's results are the same whether its fit is shared or
not. :func:`write_fit` / :func:`read_fit` carry a fit between workflow jobs; :func:`write_de`
writes the four files of ``docs/contracts.md``; :func:`vst` gives variance-stabilised
expression for QC plots.

Two sets of rules, chosen by ``compat`` (``de.compat`` in the config), and two GLM
implementations, chosen by ``engine`` (``de.engine``), through :func:`_engine`, the only place
they differ:

- ``compat="r"`` (default): :mod:`knockseq.engine.rdeseq`, PyDESeq2's objects with R DESeq2 1.38's
  dispersion fits, prior variance, Cook's rule and independent filtering;
  ``compat="pydeseq2"``: stock PyDESeq2 0.5.4 (``DeseqDataSet`` / ``DeseqStats``), whose
  dispersion trend and filter threshold differ from R's (``shared/notes/pydeseq2-vs-r.md``);
- ``engine="batched"`` (default): :mod:`knockseq.engine` fits every gene's GLM at once;
  ``engine="pydeseq2"``: PyDESeq2's per-gene loops, the reference it is tested against.

Choices that affect the numbers:

- **Model.** See :mod:`knockseq.design`: the fit's ``reference`` is the tested variable's
  baseline level, so the fitted coefficient of each ``test`` level is exactly
  log(test / reference). The Wald test and the apeGLM shrinkage (``DeseqStats.lfc_shrink``,
  which shrinks one coefficient) are both on that coefficient, so ``log2FoldChange_shrunk`` is
  the contrast asked for, with no refit, whatever the level names sort to.
- **Pre-filter** (``min_count``, default 10): genes are fitted only if they have at least
  ``min_count`` reads in at least as many samples as the smallest group of the tested variable,
  the DESeq2 vignette's recommendation. It is computed once per fit, over all the fit's samples
  and all levels of the tested variable, so every contrast sharing a fit tests the same genes.
  R's ``DESeq()`` itself filters nothing, so results match R run on the pre-filtered matrix,
  not R run on everything: size factors, the dispersion trend, and the independent-filtering
  quantiles are all computed on the kept genes. ``min_count=0`` fits every gene, as the R
  reference runs in ``shared/reference`` did. Genes removed by the pre-filter stay in the
  outputs with their ``baseMean`` and NA statistics, like all-zero genes.
- **Dispersion trend.** Parametric; when that fit fails both engines warn and use the mean of
  the gene-wise dispersions, and ``dispersion_trend`` in the metadata says which was used.
- **padj**: Benjamini-Hochberg after independent filtering on ``baseMean`` at ``alpha``
  (default 0.1, R's ``results()`` default; PyDESeq2's own default is 0.05).
- **Cook's distance** (``cooks``): outlier replacement and refit (7+ replicates per cell) and
  p-values set to NA for outliers, as DESeq2's defaults; ``cooks=False`` disables both.

Fits run with BLAS limited to one thread (:data:`_ONE_BLAS_THREAD`): PyDESeq2 solves tiny
per-gene systems, where BLAS threads only contend, and on a busy 2-core machine they made a
351-gene fit 7x slower (55 s against 7.7 s). Parallelism is ``n_cpus`` processes instead.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats
from pydeseq2.preprocessing import deseq2_norm
from threadpoolctl import threadpool_limits

from knockseq.engine import (
    ENGINES,
    BatchedInference,
    BatchedRInference,
    RDeseqDataSet,
    RDeseqStats,
    RInference,
)
from knockseq.design import Design, build_design, sample_design, subset_samples
from knockseq.errors import InputError
from knockseq.fits import FitSpec, fit_spec
from knockseq.io import atomic_path, write_json, write_tsv

logger = logging.getLogger(__name__)

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

COMPAT_MODES = ("r", "pydeseq2")

#: ``dispersion_trend`` in the metadata, by PyDESeq2's ``uns["disp_function_type"]``. knockseq
#: always asks for the parametric trend, so a mean trend means that fit failed.
DISPERSION_TRENDS = {"parametric": "parametric", "mean": "mean (parametric fit failed)"}

#: Keyword arguments of :func:`threadpoolctl.threadpool_limits` for every fit.
_ONE_BLAS_THREAD = {"limits": 1, "user_api": "blas"}

#: Packages whose versions the metadata records.
_VERSIONED = ("knockseq", "pydeseq2", "anndata", "numpy", "pandas", "scipy")


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
        ``dispersion_trend`` (:data:`DISPERSION_TRENDS`) and ``filter_threshold``: the baseMean
        cut-off of independent filtering (R's ``filterThreshold`` with ``compat="r"``; with
        ``"pydeseq2"``, which does not keep its cut-off, the smallest baseMean given a padj).
    design : Design
        The checked design of the contrast (its test level and coefficient).
    """

    contrast: str
    table: pd.DataFrame
    normalized_counts: pd.DataFrame
    size_factors: pd.Series
    metadata: dict[str, Any]
    design: Design


@dataclass
class FitResult:
    """One DESeq2 fit, ready for the Wald tests of the contrasts that share it.

    Attributes
    ----------
    spec : FitSpec
        What was fitted; ``spec.fit_id`` names the fit.
    dds : pydeseq2.dds.DeseqDataSet
        The fitted dataset of the engine (``RDeseqDataSet`` for ``compat="r"``): n_samples x
        n_kept genes, after ``deseq2()``.
    design : Design
        The checked design fitted; its ``test`` and ``coefficient`` are those of the first
        non-reference level and stand for no contrast in particular.
    sheet : pandas.DataFrame
        The whole sample sheet, indexed by sample (each contrast's design is rebuilt from it).
    counts : pandas.DataFrame
        n_genes x n_samples int64 counts of every input gene, indexed by gene_id.
    gene_names : pandas.Series
        gene_name per gene_id (n_genes).
    kept : numpy.ndarray
        n_genes booleans: genes that passed the pre-filter and were fitted.
    metadata : dict
        Fit settings and counts shared by its contrasts (JSON-ready).
    sheet_path : str or None
        Sample sheet path, named in error messages.
    """

    spec: FitSpec
    dds: DeseqDataSet
    design: Design
    sheet: pd.DataFrame
    counts: pd.DataFrame
    gene_names: pd.Series
    kept: np.ndarray
    metadata: dict[str, Any]
    sheet_path: str | None = None

    @property
    def fit_id(self) -> str:
        """The fit's id, :attr:`knockseq.fits.FitSpec.fit_id`."""
        return self.spec.fit_id


@dataclass(frozen=True)
class _Engine:
    """What ``compat`` and ``engine`` select: the PyDESeq2 classes and how to read the threshold."""

    compat: str
    dataset: type[DeseqDataSet]
    inference: type[DefaultInference]
    stats: type[DeseqStats]
    filter_threshold: Callable[[DeseqStats], float]

    def new_dataset(self, *, n_cpus: int, **kwargs: Any) -> DeseqDataSet:
        """A dataset of this engine (PyDESeq2's ``DeseqDataSet`` arguments)."""
        return self.dataset(inference=self.inference(n_cpus=n_cpus), n_cpus=n_cpus, **kwargs)

    def new_stats(self, dds: DeseqDataSet, *, n_cpus: int, **kwargs: Any) -> DeseqStats:
        """The statistics of one contrast on ``dds`` (PyDESeq2's ``DeseqStats`` arguments)."""
        inference = self.inference(n_cpus=n_cpus)
        if hasattr(inference, "use_fit"):  # the batched shrinkage starts from the fit's MLE
            inference.use_fit(dds)
        return self.stats(dds, inference=inference, n_cpus=n_cpus, **kwargs)


_INFERENCE = {
    ("pydeseq2", "pydeseq2"): DefaultInference,
    ("pydeseq2", "batched"): BatchedInference,
    ("r", "pydeseq2"): RInference,
    ("r", "batched"): BatchedRInference,
}


def _engine(compat: str, engine: str) -> _Engine:
    """The PyDESeq2 classes for a compat mode and a GLM engine.

    Parameters
    ----------
    compat : {"r", "pydeseq2"}
    engine : {"batched", "pydeseq2"}

    Returns
    -------
    _Engine

    Raises
    ------
    InputError
        Unknown mode or engine.
    """
    if compat not in COMPAT_MODES:
        raise InputError(
            f"unknown compat mode '{compat}'.", column="de.compat", fix=f"use one of {', '.join(COMPAT_MODES)}."
        )
    if engine not in ENGINES:
        raise InputError(
            f"unknown engine '{engine}'.", column="de.engine", fix=f"use one of {', '.join(ENGINES)}."
        )
    inference = _INFERENCE[compat, engine]
    if compat == "pydeseq2":
        return _Engine(compat, DeseqDataSet, inference, DeseqStats, _smallest_kept_base_mean)
    return _Engine(compat, RDeseqDataSet, inference, RDeseqStats,
                   lambda stats: stats.filter_threshold)


def _smallest_kept_base_mean(stats: DeseqStats) -> float:
    """Smallest baseMean among genes with a padj: PyDESeq2 does not keep its filter cutoff."""
    kept = stats.base_mean[stats.padj.notna()]
    return float(kept.min()) if len(kept) else float("nan")


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

    :func:`fit_design` then :func:`contrast_results`, for a contrast that shares its fit with none.

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
        Statistical rules, see the module docstring.
    engine : {"batched", "pydeseq2"}
        GLM implementation, see the module docstring.
    alpha : float
        FDR target of independent filtering.
    min_count : int
        Pre-filter, see the module docstring; 0 disables it.
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


def fit_design(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    spec: FitSpec,
    *,
    contrasts: Sequence[str] = (),
    n_cpus: int = 1,
    sheet_path: str | PathLike | None = None,
) -> FitResult:
    """Pre-filter the genes and fit DESeq2 (size factors, dispersions, GLM, Cook's) once.

    Logs one line: the formula, samples x genes fitted and the contrasts it is for.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table (gene_id, gene_name, samples), n_genes rows; columns of samples
        not in ``spec.samples`` are ignored.
    samples : pandas.DataFrame
        The sample sheet (``sample`` column plus attributes).
    spec : FitSpec
        The fit, e.g. from :func:`knockseq.fits.fit_spec`.
    contrasts : sequence of str
        Names of the contrasts the fit is for, for the log line.
    n_cpus : int
        Processes for PyDESeq2's per-gene fits. Does not change the results.
    sheet_path : str or PathLike, optional
        Sample sheet path, named in error messages.

    Returns
    -------
    FitResult

    Raises
    ------
    InputError
        A design problem (see :mod:`knockseq.design`), a sample missing from the counts, no gene
        left after the pre-filter, or an unknown compat mode.
    """
    engine = _engine(spec.compat, spec.engine)
    sheet = subset_samples(samples, {}, sheet_path=sheet_path)
    rows = sheet.loc[list(spec.samples)]
    others = sorted(set(rows[spec.variable]) - {spec.reference}) if spec.variable in rows else []
    # Any other level makes the design: its matrix does not depend on the level tested.
    placeholder = {
        "name": spec.fit_id,
        "variable": spec.variable,
        "reference": spec.reference,
        "test": others[0] if others else spec.reference,
    }
    with warnings.catch_warnings():
        # A dropped covariate is reported by each contrast's own design, under its name.
        warnings.simplefilter("ignore", UserWarning)
        checked = build_design(rows, placeholder, spec.covariates, sheet_path=sheet_path)
    genes, raw = _count_matrix(counts, checked.samples)

    smallest_group = int(checked.group_sizes().min())
    if spec.min_count > 0:
        kept = ((raw >= spec.min_count).sum(axis=1) >= smallest_group).to_numpy()
    else:
        kept = np.ones(len(raw), dtype=bool)
    if not kept.any():
        raise InputError(
            f"contrast{'s' if len(contrasts) > 1 else ''} {', '.join(contrasts) or spec.fit_id}: "
            f"no gene has {spec.min_count} or more reads in {smallest_group} samples.",
            column="de.min_count",
            fix="check that the counts are raw read counts, or lower de.min_count.",
        )
    logger.info(
        "fitting %s on %d samples x %s genes for contrasts: %s",
        checked.formula,
        len(checked.samples),
        f"{int(kept.sum()):,}",
        ", ".join(contrasts),
    )
    dds = engine.new_dataset(
        counts=raw.loc[kept].T,
        metadata=checked.metadata,
        design=checked.formula,
        refit_cooks=spec.cooks,
        n_cpus=n_cpus,
        quiet=True,
    )
    fitted_matrix = dds.obsm["design_matrix"]
    if list(fitted_matrix.columns) != list(checked.matrix.columns) or not np.array_equal(
        fitted_matrix.to_numpy(dtype=float), checked.matrix.to_numpy()
    ):
        raise RuntimeError(
            f"PyDESeq2 built another design matrix from {checked.formula} than the one checked"
        )
    with threadpool_limits(**_ONE_BLAS_THREAD):
        dds.deseq2()

    metadata = {
        "compat": spec.compat,
        "engine": spec.engine,
        "variable": checked.variable,
        "reference": checked.reference,
        "design": checked.covariates,
        "design_dropped": checked.dropped,
        "formula": checked.formula,
        "samples": checked.samples,
        "group_sizes": {str(k): int(v) for k, v in checked.group_sizes().items()},
        "min_count": spec.min_count,
        "min_samples": smallest_group if spec.min_count > 0 else 0,
        "cooks": spec.cooks,
        "dispersion_trend": DISPERSION_TRENDS[dds.uns["disp_function_type"]],
        "n_genes_input": int(len(raw)),
        "n_genes_fitted": int(kept.sum()),
        "n_genes_all_zero": int((raw.loc[kept].sum(axis=1) == 0).sum()),
        "versions": {pkg: version(pkg) for pkg in _VERSIONED},
    }
    return FitResult(
        spec=spec,
        dds=dds,
        design=checked,
        sheet=sheet,
        counts=raw,
        gene_names=genes,
        kept=kept,
        metadata=metadata,
        sheet_path=None if sheet_path is None else str(sheet_path),
    )


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
    engine = _engine(fit.spec.compat, fit.spec.engine)

    # The reference is the baseline, so the contrast is the coefficient itself: as a vector it
    # needs no formulaic materializer, which a fit read back in another process has lost.
    vector = (fit.dds.obsm["design_matrix"].columns == checked.coefficient).astype(float)
    with threadpool_limits(**_ONE_BLAS_THREAD):
        stats = engine.new_stats(
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
    table = table.sort_values(["padj", "gene_id"], na_position="last", kind="mergesort").reset_index(
        drop=True
    )

    metadata = {
        **fit.metadata,
        "contrast": name,
        "test": checked.test,
        "where": dict(contrast.get("where") or {}),
        "alpha": alpha,
        "coefficient": checked.coefficient,
        "shrink": "apeglm" if shrink else None,
        # The fit's id only: which other contrasts share it can change without this contrast's
        # results changing (a contrast added later reuses the fit), so it is not recorded here.
        "fit": {"id": fit.fit_id},
        "n_genes_cooks_outlier": int(fit.dds.cooks_outlier().sum()) if fit.spec.cooks else 0,
        "n_genes_with_pvalue": int(tested["pvalue"].notna().sum()),
        "n_genes_with_padj": int(tested["padj"].notna().sum()),
        "n_genes_padj_below_alpha": int((tested["padj"] < alpha).sum()),
        "filter_threshold": engine.filter_threshold(stats),
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


def write_fit(fit: FitResult, path: str | PathLike) -> None:
    """Pickle a fit atomically, for :func:`read_fit` in the jobs of its contrasts."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        pickle.dump(fit, handle, protocol=pickle.HIGHEST_PROTOCOL)


def read_fit(path: str | PathLike) -> FitResult:
    """A fit written by :func:`write_fit` (a trusted file of this workflow: it is a pickle)."""
    with open(path, "rb") as handle:
        fit = pickle.load(handle)
    if not isinstance(fit, FitResult):
        raise TypeError(f"{path} holds a {type(fit).__name__}, not a knockseq FitResult")
    return fit


def de_paths(out_dir: str | PathLike, contrast: str) -> dict[str, Path]:
    """The four output paths of a contrast in ``out_dir``, as in ``docs/contracts.md``.

    Returns
    -------
    dict
        ``table``, ``normalized_counts``, ``size_factors``, ``metadata`` -> path.
    """
    base = Path(out_dir)
    return {
        "table": base / f"{contrast}.tsv",
        "normalized_counts": base / f"{contrast}.normalized_counts.tsv",
        "size_factors": base / f"{contrast}.size_factors.tsv",
        "metadata": base / f"{contrast}.json",
    }


def write_de(result: DEResult, out: str | PathLike | Mapping[str, str | PathLike]) -> None:
    """Write a contrast's results table, normalised counts, size factors and settings, atomically.

    Parameters
    ----------
    result : DEResult
    out : str, PathLike or mapping
        A folder (files named by :func:`de_paths`), or a mapping with the keys of
        :func:`de_paths` to explicit paths (e.g. a Snakemake rule's outputs).
    """
    paths = de_paths(out, result.contrast) if isinstance(out, (str, PathLike)) else out
    write_tsv(result.table, paths["table"])
    write_tsv(result.normalized_counts, paths["normalized_counts"])
    write_tsv(result.size_factors.rename_axis("sample").reset_index(), paths["size_factors"])
    write_json(result.metadata, paths["metadata"])


def vst(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    design: Sequence[str],
    blind: bool = True,
    *,
    compat: str,
    engine: str,
    nsub: int = 1000,
    n_cpus: int = 1,
    sheet_path: str | PathLike | None = None,
) -> pd.DataFrame:
    """Variance-stabilising transformation of every sample, as R DESeq2's ``vst()``.

    R's algorithm, not PyDESeq2's ``DeseqDataSet.vst``, which fits dispersions on every gene
    (43 s against 1 s on airway) and lands further from R (largest difference 0.33 against 0.18
    with the stock engine; with ``compat="r"`` this function matches R's ``vst(dds, blind =
    FALSE)`` on airway within 1e-6). Steps: median-of-ratios size factors on all
    genes; gene-wise dispersions and the parametric trend ``a0 + a1 / mean`` fitted on ``nsub``
    genes spread evenly over the ranks of the mean normalised count among genes with a mean
    above 5 (all genes when fewer qualify, as ``varianceStabilizingTransformation``); then
    ``log2((1 + a1 + 2 a0 q + 2 sqrt(a0 q (1 + a1 + a0 q))) / (4 a0))`` of each normalised count
    q. If the trend fit fails and the engine falls back to a constant dispersion d, the
    transform is ``(2 asinh(sqrt(d q)) - log d - log 4) / log 2`` (R's ``fitType="mean"``).

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table (gene_id, gene_name, samples), n_genes rows.
    samples : pandas.DataFrame
        The sample sheet; every sample in it is transformed.
    design : sequence of str
        Sheet columns of the model (tested variable and covariates), used when not ``blind``.
    blind : bool
        Fit the dispersions with an intercept-only model (for unbiased sample QC) instead of
        ``design``.
    compat : {"r", "pydeseq2"}
        Rules whose dispersion estimates and trend are used.
    engine : {"batched", "pydeseq2"}
        GLM implementation (``de.engine``).
    nsub : int
        Genes used to fit the trend (R's default 1000).
    n_cpus : int
        Processes for the dispersion fits.
    sheet_path : str or PathLike, optional
        Sample sheet path, named in error messages.

    Returns
    -------
    pandas.DataFrame
        n_genes x n_samples of log2-scale values, indexed by gene_id, input gene order.
    """
    engine = _engine(compat, engine)
    metadata, _, formula = sample_design(samples, [] if blind else design, sheet_path=sheet_path)
    _, raw = _count_matrix(counts, list(metadata.index))
    normed, size_factors = deseq2_norm(raw.T.to_numpy())
    base_mean = normed.mean(axis=0)

    candidates = np.flatnonzero(base_mean > 5)
    if len(candidates) >= nsub:
        ranked = candidates[np.argsort(base_mean[candidates], kind="stable")]
        # R: o[round(seq(1, length(o), length = nsub))]; both round halves to even.
        subset = ranked[np.round(np.linspace(1, len(ranked), nsub)).astype(int) - 1]
    else:
        subset = np.flatnonzero(base_mean > 0)
    sub = engine.new_dataset(counts=raw.iloc[subset].T, metadata=metadata, design=formula, n_cpus=n_cpus,
                             quiet=True)
    # R estimates size factors on all genes before subsetting; PyDESeq2's own Cook's refit
    # reuses size factors the same way, by setting these three fields.
    sub.obs["size_factors"] = size_factors
    sub.layers["normed_counts"] = normed[:, subset]
    sub.var["_normed_means"] = base_mean[subset]
    with threadpool_limits(**_ONE_BLAS_THREAD):
        sub.fit_genewise_dispersions()
        sub.fit_dispersion_trend()

    if sub.uns["disp_function_type"] == "parametric":
        a0, a1 = sub.uns["trend_coeffs"]
        values = np.log2(
            (1 + a1 + 2 * a0 * normed + 2 * np.sqrt(a0 * normed * (1 + a1 + a0 * normed))) / (4 * a0)
        )
    else:
        d = sub.uns["mean_disp"]
        values = (2 * np.arcsinh(np.sqrt(d * normed)) - np.log(d) - np.log(4)) / np.log(2)
    return pd.DataFrame(values.T, index=raw.index, columns=raw.columns)


def _count_matrix(counts: pd.DataFrame, samples: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Gene names and the integer count matrix of ``samples`` from a ``counts.tsv`` table.

    Returns
    -------
    gene_name : pandas.Series
        Indexed by gene_id (n_genes).
    counts : pandas.DataFrame
        n_genes x n_samples int64, indexed by gene_id.
    """
    missing = [s for s in samples if s not in counts.columns]
    if missing:
        raise InputError(
            f"sample(s) {', '.join(missing)} of the sample sheet have no column in the count table.",
            column=missing[0],
            fix="make the sheet's sample names match the count table's columns.",
        )
    table = counts.set_index("gene_id")
    raw = table[list(samples)]
    values = raw.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("count table must hold non-negative integers (see docs/contracts.md)")
    return table["gene_name"], raw.astype(np.int64)
