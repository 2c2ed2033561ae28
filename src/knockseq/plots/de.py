"""Figures of one contrast's DE table: volcano, MA, p-value histogram and the knockdown targets' counts."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from knockseq.enrichment import one_id_per_symbol
from knockseq.genesets import er_core_genes
from knockseq.plots.style import (
    DE_COLOURS,
    FONT_SIZE,
    LABEL_COLOURS,
    OKABE_ITO,
    adjust_labels,
    contrast_groups,
    log_scale,
    pyplot,
    write_figure,
)
from knockseq.verdict import ESR1
from knockseq.verdict.direct import ER_MARKERS


def label_genes(de_table: pd.DataFrame, knockdown: Mapping[str, Any]) -> pd.DataFrame:
    """The genes labelled on volcano and MA plots: knockdown targets, ESR1, ER core genes present.

    Parameters
    ----------
    de_table : pandas.DataFrame
        ``results/de/{contrast}.tsv`` (n_genes rows).
    knockdown : mapping
        ``results/knockdown/{contrast}.json``; its ``targets`` entries carry ``gene_id``
        (null when the target is absent) and ``gene_name``.

    Returns
    -------
    pandas.DataFrame
        n_labels rows: ``gene_id``, ``label`` (symbol, else id) and ``kind`` (a key of
        :data:`LABEL_COLOURS`; a gene that is both keeps the first kind), only genes with a
        log2FoldChange and a p-value, in that kind order.
    """
    tested = de_table[de_table["log2FoldChange"].notna() & de_table["pvalue"].notna()]
    rows = []
    for target in knockdown.get("targets", []):
        if target.get("gene_id") is not None:
            rows.append((str(target["gene_id"]), target.get("gene_name") or str(target["gene_id"]), "knockdown target"))
    symbols = one_id_per_symbol(tested)["gene_id"]  # one id per symbol, as every other step reads symbols
    for kind, genes in (("ESR1", [ESR1]), ("ER core", er_core_genes())):
        rows.extend((symbols[g], g, kind) for g in genes if g in symbols.index)
    labels = pd.DataFrame(rows, columns=["gene_id", "label", "kind"]).drop_duplicates("gene_id", keep="first")
    return labels[labels["gene_id"].isin(tested["gene_id"])].reset_index(drop=True)


def _de_class(table: pd.DataFrame, alpha: float) -> pd.Series:
    significant = table["padj"].lt(alpha).fillna(False).astype(bool)
    return pd.Series(
        np.where(~significant, "not significant", np.where(table["log2FoldChange"] < 0, "down", "up")),
        index=table.index,
    )


def _labelled_scatter(ax, values: pd.DataFrame, x: str, y: str, alpha: float) -> None:
    """Points coloured by DE class, labelled genes on top with non-overlapping labels."""
    for cls, colour in DE_COLOURS.items():
        part = values[(values["class"] == cls) & values["label"].isna()]
        ax.scatter(
            part[x],
            part[y],
            s=8,
            color=colour,
            alpha=0.6,
            linewidths=0,
            label=f"{cls} (padj < {alpha:g})" if cls != "not significant" else cls,
            rasterized=len(part) > 5000,
        )
    labelled = values[values["label"].notna()]
    texts = []
    for kind, colour in LABEL_COLOURS.items():
        part = labelled[labelled["label_kind"] == kind]
        if part.empty:
            continue
        ax.scatter(part[x], part[y], s=28, color=colour, edgecolors="black", linewidths=0.6, label=kind, zorder=3)
        texts += [ax.text(px, py, text, fontsize=9, zorder=4) for px, py, text in zip(part[x], part[y], part["label"])]
    # Repel from the labelled points only: adjustText's cost grows with labels x points, and with
    # every gene (tens of thousands) a real DE table takes minutes.
    adjust_labels(ax, texts, labelled[x], labelled[y])
    # Outside the axes: loc="best" scans every point, as slow as repelling from every gene.
    ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _de_values(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float) -> pd.DataFrame:
    tested = de_table[de_table["log2FoldChange"].notna() & de_table["pvalue"].notna()]
    values = tested[["gene_id", "gene_name", "baseMean", "log2FoldChange", "pvalue", "padj"]].reset_index(drop=True)
    values["class"] = _de_class(values, alpha)
    kinds = labels.set_index("gene_id")
    values["label"] = values["gene_id"].map(kinds["label"])
    values["label_kind"] = values["gene_id"].map(kinds["kind"])
    return values


def volcano(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float, title: str, ratio: str = "test / reference"):
    """Volcano plot: log2 fold change against -log10 p-value, every gene with both.

    Parameters
    ----------
    de_table : pandas.DataFrame
        ``results/de/{contrast}.tsv`` (n_genes rows).
    labels : pandas.DataFrame
        :func:`label_genes`.
    alpha : float
        padj threshold of the DE step (``results/de/{contrast}.json`` ``alpha``).
    title : str
        Figure title (the contrast).
    ratio : str
        What the fold change divides, for the axis label ("E2 / control").

    Returns
    -------
    fig : matplotlib.figure.Figure
    values : pandas.DataFrame
        n_tested rows: ``gene_id, gene_name, baseMean, log2FoldChange, pvalue, padj, class,
        label, label_kind, neg_log10_pvalue`` (p-values of 0 at the smallest positive double).
    """
    plt = pyplot()
    values = _de_values(de_table, labels, alpha)
    values["neg_log10_pvalue"] = -np.log10(values["pvalue"].clip(lower=np.finfo(float).tiny))
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    ax.axvline(0, color="0.7", linewidth=0.8, zorder=0)
    _labelled_scatter(ax, values, "log2FoldChange", "neg_log10_pvalue", alpha)
    ax.set_xlabel(f"log2 fold change ({ratio})", fontsize=FONT_SIZE)
    ax.set_ylabel("-log10 p-value", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: volcano plot", fontsize=FONT_SIZE + 1)
    return fig, values


def ma_plot(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float, title: str, ratio: str = "test / reference"):
    """MA plot: mean normalised count (log scale) against log2 fold change.

    Parameters and values as :func:`volcano` (without ``neg_log10_pvalue``).
    """
    plt = pyplot()
    values = _de_values(de_table, labels, alpha)
    values = values[values["baseMean"] > 0].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    log_scale(ax, "x")
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=0)
    _labelled_scatter(ax, values, "baseMean", "log2FoldChange", alpha)
    ax.set_xlabel("mean of normalised counts (baseMean)", fontsize=FONT_SIZE)
    ax.set_ylabel(f"log2 fold change ({ratio})", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: MA plot", fontsize=FONT_SIZE + 1)
    return fig, values


def pvalue_histogram(de_table: pd.DataFrame, title: str, bins: int = 20):
    """Histogram of the DE p-values: flat with a peak near 0 when the test is well calibrated.

    Returns the figure and ``bin_start, bin_end, n_genes`` per bin (``bins`` rows).
    """
    plt = pyplot()
    pvalues = de_table["pvalue"].dropna().to_numpy(dtype=float)
    counts, edges = np.histogram(pvalues, bins=bins, range=(0.0, 1.0))
    values = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "n_genes": counts})
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=OKABE_ITO["blue"], edgecolor="white")
    ax.set_xlabel("p-value", fontsize=FONT_SIZE)
    ax.set_ylabel("genes", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: p-value histogram ({len(pvalues)} genes)", fontsize=FONT_SIZE + 1)
    return fig, values


def target_counts(
    normalized: pd.DataFrame,
    genes: Sequence[tuple[str, str]],
    groups: pd.Series,
    palette: Mapping[str, str],
    title: str,
):
    """Normalised counts of some genes per sample, grouped by condition: a knockdown's targets, or
    for a treatment ESR1 and its marker targets.

    Parameters
    ----------
    normalized : pandas.DataFrame
        ``results/de/{contrast}.normalized_counts.tsv`` (genes x ``gene_id, gene_name, samples``).
    genes : sequence of (str, str)
        (gene_id, name) of each gene to draw, one panel each.
    groups : pandas.Series
        The tested variable's level per sample of the contrast (index: sample), in drawing order.
    palette : mapping
        Level -> colour (:func:`~knockseq.plots.style.level_colours`).
    title : str
        Figure title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per gene.
    values : pandas.DataFrame
        ``gene_id, gene_name, sample, group, normalized_count``, one row per gene and sample.
    """
    plt = pyplot()
    table = normalized.set_index("gene_id")
    rows = [
        (gene_id, name, sample, group, float(table.at[gene_id, sample]))
        for gene_id, name in genes
        for sample, group in groups.items()
    ]
    values = pd.DataFrame(rows, columns=["gene_id", "gene_name", "sample", "group", "normalized_count"])
    levels = list(dict.fromkeys(groups))
    fig, axes = plt.subplots(
        1, max(len(genes), 1), figsize=(1.2 + 2.6 * max(len(genes), 1), 4.2), layout="constrained", squeeze=False
    )
    for ax, (gene_id, name) in zip(axes[0], genes):
        part = values[values["gene_id"] == gene_id]
        for i, level in enumerate(levels):
            points = part[part["group"] == level]["normalized_count"].to_numpy()
            # Spread replicates sideways by a fixed offset so reruns draw identical figures.
            offsets = np.linspace(-0.12, 0.12, len(points)) if len(points) > 1 else np.zeros(len(points))
            ax.scatter(i + offsets, points, s=40, color=palette[level], edgecolors="black", linewidths=0.5)
            if len(points):
                ax.hlines(points.mean(), i - 0.25, i + 0.25, color="black", linewidth=1.5)
        ax.set_xticks(range(len(levels)), levels, fontsize=FONT_SIZE - 1, rotation=20)
        ax.set_xlim(-0.6, len(levels) - 0.4)
        log_scale(ax, "y")
        ax.set_title(name, fontsize=FONT_SIZE)
    axes[0, 0].set_ylabel("normalised count (log scale)", fontsize=FONT_SIZE)
    fig.suptitle(title, fontsize=FONT_SIZE + 1)
    return fig, values


def plotted_genes(normalized: pd.DataFrame, knockdown: Mapping[str, Any]) -> tuple[list[tuple[str, str]], str]:
    """The genes of a contrast's target figure, and what they are: its knockdown targets found in
    the counts, or (a treatment, or no target found) ESR1 and its markers GREB1, PGR, TFF1."""
    ids = set(normalized["gene_id"].astype(str))
    targets = [
        (str(t["gene_id"]), t.get("gene_name") or str(t["gene_id"]))
        for t in knockdown.get("targets", [])
        if t.get("gene_id") is not None and str(t["gene_id"]) in ids
    ]
    if targets:
        return targets, "knockdown targets"
    by_name = dict(zip(normalized["gene_name"].astype(str), normalized["gene_id"].astype(str)))
    markers = [(by_name[name], name) for name in (ESR1, *ER_MARKERS) if name in by_name]
    return markers, "ESR1 and its marker targets (no knockdown target)"


def write_de_plots(
    de_table: pd.DataFrame,
    metadata: Mapping[str, Any],
    knockdown: Mapping[str, Any],
    normalized: pd.DataFrame,
    samples: pd.DataFrame,
    out_dir: str | os.PathLike,
) -> None:
    """Write a contrast's volcano, MA, p-value histogram and knockdown-target plots.

    Parameters
    ----------
    de_table, knockdown, normalized : as for :func:`volcano`, :func:`plotted_genes` and
        :func:`target_counts`.
    metadata : mapping
        ``results/de/{contrast}.json`` (``contrast``, ``alpha``, ``variable``, ``test``,
        ``reference``, ``samples``).
    samples : pandas.DataFrame
        The sample sheet.
    out_dir : str or PathLike
        Folder of ``{volcano,ma,pvalues,targets}.{png,svg,tsv}``.
    """
    name, alpha = metadata["contrast"], float(metadata["alpha"])
    labels = label_genes(de_table, knockdown)
    groups, palette = contrast_groups(samples, metadata)
    ratio = f"{metadata['test']} / {metadata['reference']}"
    write_figure(*volcano(de_table, labels, alpha, name, ratio), os.path.join(out_dir, "volcano"))
    write_figure(*ma_plot(de_table, labels, alpha, name, ratio), os.path.join(out_dir, "ma"))
    write_figure(*pvalue_histogram(de_table, name), os.path.join(out_dir, "pvalues"))
    genes, what = plotted_genes(normalized, knockdown)
    figure = target_counts(normalized, genes, groups, palette, f"{name}: {what}")
    write_figure(*figure, os.path.join(out_dir, "targets"))
