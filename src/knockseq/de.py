"""Differential expression of one contrast with PyDESeq2, and the VST for QC.

:func:`run_contrast` fits DESeq2's negative binomial GLM to the samples of one contrast and
returns the Wald test of ``test`` vs ``reference`` with apeGLM-shrunk fold changes;
:func:`write_de` writes the four files of ``docs/contracts.md``; :func:`vst` gives
variance-stabilised expression for QC plots.

Two engines, chosen by ``compat`` (``de.compat`` in the config) through :func:`_engine`, the only
place they differ:

- ``"r"`` (default): :mod:`knockseq.rcompat`, PyDESeq2's objects with R DESeq2 1.38's dispersion
  fits, prior variance, Cook's rule and independent filtering;
- ``"pydeseq2"``: stock PyDESeq2 0.5.4 (``DeseqDataSet`` / ``DeseqStats``), whose dispersion trend
  and filter threshold differ from R's (``shared/notes/pydeseq2-vs-r.md``).

Choices that affect the numbers:

- **Model.** See :mod:`knockseq.design`: the contrast's ``reference`` is the tested variable's
  baseline level, so the fitted coefficient of ``test`` is exactly log(test / reference). The Wald
  test and the apeGLM shrinkage (``DeseqStats.lfc_shrink``, which shrinks one coefficient) are
  both on that coefficient, so ``log2FoldChange_shrunk`` is the contrast asked for, with no
  refit, whatever the level names sort to.
- **Pre-filter** (``min_count``, default 10): genes are fitted only if they have at least
  ``min_count`` reads in at least as many samples as the smallest group of the tested variable,
  the DESeq2 vignette's recommendation. R's ``DESeq()`` itself filters nothing, so results match
  R run on the pre-filtered matrix, not R run on everything: size factors, the dispersion trend,
  and the independent-filtering quantiles are all computed on the kept genes. ``min_count=0``
  fits every gene, as the R reference runs in ``shared/reference`` did. Genes removed by the
  pre-filter stay in the outputs with their ``baseMean`` and NA statistics, like all-zero genes.
- **padj**: Benjamini-Hochberg after independent filtering on ``baseMean`` at ``alpha``
  (default 0.1, R's ``results()`` default; PyDESeq2's own default is 0.05).
- **Cook's distance** (``cooks``): outlier replacement and refit (7+ replicates per cell) and
  p-values set to NA for outliers, as DESeq2's defaults; ``cooks=False`` disables both.

Fits run with BLAS limited to one thread (:data:`_ONE_BLAS_THREAD`): PyDESeq2 solves tiny
per-gene systems, where BLAS threads only contend, and on a busy 2-core machine they made a
351-gene fit 7x slower (55 s against 7.7 s). Parallelism is ``n_cpus`` processes instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.ds import DeseqStats
from pydeseq2.preprocessing import deseq2_norm
from threadpoolctl import threadpool_limits

from knockseq import rcompat
from knockseq.design import Design, build_design, sample_design
from knockseq.errors import InputError
from knockseq.io import write_json, write_tsv

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

#: Keyword arguments of :func:`threadpoolctl.threadpool_limits` for every fit.
_ONE_BLAS_THREAD = {"limits": 1, "user_api": "blas"}


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
        software versions (JSON-ready), and ``filter_threshold``: the baseMean cut-off of
        independent filtering (R's ``filterThreshold`` with ``compat="r"``; with
        ``"pydeseq2"``, which does not keep its cut-off, the smallest baseMean given a padj).
    design : Design
        The checked design the model was fitted with.
    """

    contrast: str
    table: pd.DataFrame
    normalized_counts: pd.DataFrame
    size_factors: pd.Series
    metadata: dict[str, Any]
    design: Design


@dataclass(frozen=True)
class _Engine:
    """What ``compat`` selects: the dataset and stats classes, and how to read the threshold."""

    compat: str
    dataset: type[DeseqDataSet]
    stats: type[DeseqStats]
    filter_threshold: Callable[[DeseqStats], float]


def _engine(compat: str) -> _Engine:
    """The PyDESeq2 classes for a compat mode.

    Parameters
    ----------
    compat : {"r", "pydeseq2"}

    Returns
    -------
    _Engine

    Raises
    ------
    InputError
        Unknown mode.
    """
    if compat == "pydeseq2":
        return _Engine(compat, DeseqDataSet, DeseqStats, _smallest_kept_base_mean)
    if compat == "r":
        return _Engine(
            compat, rcompat.RDeseqDataSet, rcompat.RDeseqStats, lambda stats: stats.filter_threshold
        )
    raise InputError(
        f"unknown compat mode '{compat}'.", column="de.compat", fix=f"use one of {', '.join(COMPAT_MODES)}."
    )


def _smallest_kept_base_mean(stats: DeseqStats) -> float:
    """Smallest baseMean among genes with a padj: PyDESeq2 does not keep its filter cutoff."""
    kept = stats.base_mean[stats.padj.notna()]
    return float(kept.min()) if len(kept) else float("nan")


def run_contrast(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    contrast: Mapping[str, Any],
    design: Sequence[str] = (),
    compat: str = "r",
    alpha: float = 0.1,
    min_count: int = 10,
    cooks: bool = True,
    shrink: bool = True,
    n_cpus: int = 1,
    sheet_path: str | PathLike | None = None,
) -> DEResult:
    """Fit DESeq2 to one contrast's samples and test ``test`` vs ``reference``.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``counts.tsv`` table: ``gene_id``, ``gene_name``, then one integer column per sample
        (n_genes rows). Columns of samples the contrast does not use are ignored.
    samples : pandas.DataFrame
        The sample sheet (``sample`` column plus attributes).
    contrast : mapping
        ``name``, ``variable`` (default ``condition``), ``test``, ``reference``, optional
        ``where``; see :func:`knockseq.design.build_design`.
    design : sequence of str
        Covariate columns (``design:`` in the config).
    compat : {"r", "pydeseq2"}
        Engine, see the module docstring.
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
    if not 0 < alpha < 1:
        raise InputError(f"alpha {alpha} is not between 0 and 1.", column="de.alpha", fix="use e.g. 0.1.")
    engine = _engine(compat)
    name = str(contrast.get("name", "contrast"))
    checked = build_design(samples, {**contrast, "name": name}, design, sheet_path=sheet_path)
    genes, raw = _count_matrix(counts, checked.samples)

    smallest_group = int(checked.group_sizes().min())
    if min_count > 0:
        kept = ((raw >= min_count).sum(axis=1) >= smallest_group).to_numpy()
    else:
        kept = np.ones(len(raw), dtype=bool)
    if not kept.any():
        raise InputError(
            f"contrast '{name}': no gene has {min_count} or more reads in {smallest_group} samples.",
            column="de.min_count",
            fix="check that the counts are raw read counts, or lower de.min_count.",
        )

    with threadpool_limits(**_ONE_BLAS_THREAD):
        dds, fit, stats = _fit(
            engine, raw.loc[kept], checked, alpha=alpha, cooks=cooks, shrink=shrink, n_cpus=n_cpus
        )

    size_factors = pd.Series(dds.obs["size_factors"].to_numpy(), index=checked.samples, name="size_factor")
    normalized = raw / size_factors
    table = pd.DataFrame(index=raw.index, columns=RESULT_COLUMNS[2:], dtype=float)
    table["baseMean"] = normalized.mean(axis=1)
    table.loc[fit.index, fit.columns] = fit
    table.insert(0, "gene_name", genes)
    table = table.rename_axis("gene_id").reset_index()
    table = table.sort_values(["padj", "gene_id"], na_position="last", kind="mergesort").reset_index(
        drop=True
    )

    metadata = {
        "contrast": name,
        "variable": checked.variable,
        "test": checked.test,
        "reference": checked.reference,
        "where": dict(contrast.get("where") or {}),
        "compat": compat,
        "alpha": alpha,
        "design": checked.covariates,
        "design_dropped": checked.dropped,
        "formula": checked.formula,
        "coefficient": checked.coefficient,
        "samples": checked.samples,
        "group_sizes": {str(k): int(v) for k, v in checked.group_sizes().items()},
        "min_count": min_count,
        "min_samples": smallest_group if min_count > 0 else 0,
        "cooks": cooks,
        "shrink": "apeglm" if shrink else None,
        "n_genes_input": int(len(raw)),
        "n_genes_fitted": int(kept.sum()),
        "n_genes_all_zero": int((raw.loc[kept].sum(axis=1) == 0).sum()),
        "n_genes_cooks_outlier": int(dds.cooks_outlier().sum()) if cooks else 0,
        "n_genes_with_pvalue": int(fit["pvalue"].notna().sum()),
        "n_genes_with_padj": int(fit["padj"].notna().sum()),
        "n_genes_padj_below_alpha": int((fit["padj"] < alpha).sum()),
        "filter_threshold": engine.filter_threshold(stats),
        "notes": checked.notes,
        "versions": {
            pkg: version(pkg) for pkg in ("knockseq", "pydeseq2", "anndata", "numpy", "pandas", "scipy")
        },
    }
    return DEResult(
        contrast=name,
        table=table,
        normalized_counts=pd.concat([genes, normalized], axis=1).rename_axis("gene_id").reset_index(),
        size_factors=size_factors,
        metadata=metadata,
        design=checked,
    )


def _fit(
    engine: _Engine,
    counts: pd.DataFrame,
    checked: Design,
    *,
    alpha: float,
    cooks: bool,
    shrink: bool,
    n_cpus: int,
) -> tuple[DeseqDataSet, pd.DataFrame, DeseqStats]:
    """Fit the model, test the contrast and shrink its fold changes.

    Parameters
    ----------
    engine : _Engine
        Classes of the compat mode.
    counts : pandas.DataFrame
        n_genes x n_samples integer counts of the genes to fit.
    checked : Design
        The contrast's design.
    alpha, cooks, shrink, n_cpus
        As in :func:`run_contrast`.

    Returns
    -------
    dds : DeseqDataSet
        The fitted dataset.
    fit : pandas.DataFrame
        n_genes x (baseMean, log2FoldChange, lfcSE, stat, pvalue, padj, log2FoldChange_shrunk).
    stats : DeseqStats
        The test, for its filter threshold.
    """
    dds = engine.dataset(
        counts=counts.T,
        metadata=checked.metadata,
        design=checked.formula,
        refit_cooks=cooks,
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
    dds.deseq2()

    stats = engine.stats(
        dds,
        contrast=[checked.variable, checked.test, checked.reference],
        alpha=alpha,
        cooks_filter=cooks,
        independent_filter=True,
        quiet=True,
        n_cpus=n_cpus,
    )
    stats.summary()
    # lfc_shrink overwrites the results' log2FoldChange and lfcSE in place: copy the MLE first.
    fit = stats.results_df.copy()
    fit["log2FoldChange_shrunk"] = np.nan
    if shrink:
        stats.lfc_shrink(coeff=checked.coefficient)
        fit["log2FoldChange_shrunk"] = stats.LFC[checked.coefficient] / np.log(2)
    return dds, fit, stats


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
    compat: str = "r",
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
        Engine whose dispersion estimates and trend rule are used.
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
    engine = _engine(compat)
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
    sub = engine.dataset(
        counts=raw.iloc[subset].T, metadata=metadata, design=formula, n_cpus=n_cpus, quiet=True
    )
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
