"""Sample and fit QC figures: PCA, sample distances, library sizes, dispersion estimates, size factors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from knockseq.plots.style import (
    FONT_SIZE,
    OKABE_ITO,
    PCA_TOP_GENES,
    adjust_labels,
    level_colours,
    log_scale,
    pyplot,
    write_figure,
)

if TYPE_CHECKING:  # knockseq.de imports PyDESeq2, which only the fit plots need
    from knockseq.de import FitResult


def pca(vst: pd.DataFrame, samples: pd.DataFrame, colour: str, shape: str | None):
    """PCA of the VST values of the most variable genes, as DESeq2's plotPCA.

    The :data:`PCA_TOP_GENES` genes with the largest variance across samples are centred per
    gene; the PCs are the sample scores of their singular value decomposition.

    Parameters
    ----------
    vst : pandas.DataFrame
        ``results/qc/vst_blind.tsv``: ``gene_id, gene_name`` and one column per sample.
    samples : pandas.DataFrame
        The sample sheet (one row per sample, column ``sample``).
    colour : str
        Sheet column that sets the colour (the condition).
    shape : str or None
        Sheet column that sets the marker (the first design covariate), or None.

    Returns
    -------
    fig : matplotlib.figure.Figure
    values : pandas.DataFrame
        ``sample``, the colour (and shape) column, ``PC1``, ``PC2``, ``PC1_percent_variance``,
        ``PC2_percent_variance`` (the same on every row), one row per VST sample.
    """
    plt = pyplot()
    names = [c for c in vst.columns if c not in ("gene_id", "gene_name")]
    data = vst[names].to_numpy(dtype=float)
    top = data[np.argsort(-data.var(axis=1, ddof=1), kind="mergesort")[:PCA_TOP_GENES]]
    centred = (top - top.mean(axis=1, keepdims=True)).T  # samples x genes
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    # Sign of each PC fixed by its largest loading sample, so reruns do not mirror the plot.
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), range(u.shape[1])])
    scores = u * s * signs
    percent = 100 * s**2 / np.sum(s**2)
    sheet = samples.set_index("sample").loc[names]
    columns = [colour] + ([shape] if shape else [])
    values = pd.DataFrame(
        {
            "sample": names,
            **{c: sheet[c].to_numpy() for c in columns},
            "PC1": scores[:, 0],
            "PC2": scores[:, 1] if scores.shape[1] > 1 else 0.0,
            "PC1_percent_variance": percent[0],
            "PC2_percent_variance": percent[1] if len(percent) > 1 else 0.0,
        }
    )
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    levels = list(dict.fromkeys(values[colour]))
    palette = level_colours(samples[colour].astype(str))
    shapes = list(dict.fromkeys(values[shape])) if shape else [None]
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    for level in levels:
        for j, form in enumerate(shapes):
            part = values[(values[colour] == level) & ((values[shape] == form) if shape else True)]
            if part.empty:
                continue
            label = f"{level}" + (f", {shape} {form}" if shape else "")
            ax.scatter(
                part["PC1"],
                part["PC2"],
                s=70,
                color=palette[str(level)],
                marker=markers[j % len(markers)],
                edgecolors="black",
                linewidths=0.5,
                label=label,
            )
    adjust_labels(
        ax, [ax.text(r.PC1, r.PC2, r.sample, fontsize=9) for r in values.itertuples()], values["PC1"], values["PC2"]
    )
    ax.set_xlabel(f"PC1: {percent[0]:.1f}% of variance", fontsize=FONT_SIZE)
    ax.set_ylabel(f"PC2: {values['PC2_percent_variance'].iloc[0]:.1f}% of variance", fontsize=FONT_SIZE)
    ax.set_title(f"PCA of the blind VST ({len(top)} most variable genes)", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False, title=colour)
    return fig, values


def sample_distances(vst: pd.DataFrame):
    """Euclidean distances between samples on the VST values, clustered (complete linkage).

    Returns the figure (heatmap with dendrogram) and the n_samples x n_samples distance matrix
    in clustered order, column ``sample`` first.
    """
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import pdist, squareform

    plt = pyplot()
    names = [c for c in vst.columns if c not in ("gene_id", "gene_name")]
    condensed = pdist(vst[names].to_numpy(dtype=float).T)
    tree = hierarchy.linkage(condensed, method="complete")
    order = hierarchy.leaves_list(tree)
    matrix = squareform(condensed)[np.ix_(order, order)]
    ordered = [names[i] for i in order]
    values = pd.DataFrame(matrix, columns=ordered).assign(sample=ordered)[["sample", *ordered]]
    n = len(names)
    fig, (tree_ax, ax) = plt.subplots(
        1, 2, figsize=(3.5 + 0.55 * n, 2.2 + 0.45 * n), width_ratios=[1, 3], layout="constrained"
    )
    hierarchy.dendrogram(
        tree, ax=tree_ax, orientation="left", no_labels=True, color_threshold=0, above_threshold_color="black"
    )
    tree_ax.invert_yaxis()  # dendrogram leaves run bottom-up; the heatmap rows top-down
    tree_ax.set_axis_off()
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), ordered, rotation=45, ha="right", fontsize=FONT_SIZE - 1)
    ax.set_yticks(range(n), ordered, fontsize=FONT_SIZE - 1)
    fig.colorbar(image, ax=ax, label="Euclidean distance (VST)", shrink=0.7)
    ax.set_title("Sample-to-sample distances", fontsize=FONT_SIZE + 1)
    return fig, values


def library_sizes(qc: pd.DataFrame):
    """Reads per sample: assigned to genes and each unassigned class, with the assignment rate.

    Parameters
    ----------
    qc : pandas.DataFrame
        ``results/counts/qc.tsv``: ``sample``, ``assigned`` and any ``unassigned_*`` columns.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Stacked bars, millions of reads.
    values : pandas.DataFrame
        ``sample``, ``assigned``, the ``unassigned_*`` columns, ``total`` and
        ``percent_assigned`` (NA when the quantifier reports no unassigned reads).
    """
    plt = pyplot()
    unassigned = [c for c in qc.columns if c.startswith("unassigned_")]
    values = qc[["sample", "assigned", *unassigned]].copy()
    values["total"] = values[["assigned", *unassigned]].sum(axis=1)
    values["percent_assigned"] = 100 * values["assigned"] / values["total"] if unassigned else np.nan
    fig, ax = plt.subplots(figsize=(max(6, 1.5 + 0.6 * len(values)), 4.8), layout="constrained")
    bottom = np.zeros(len(values))
    colours = [
        OKABE_ITO["blue"],
        OKABE_ITO["orange"],
        OKABE_ITO["sky_blue"],
        OKABE_ITO["vermillion"],
        OKABE_ITO["green"],
        OKABE_ITO["purple"],
        OKABE_ITO["yellow"],
        "#BBBBBB",
    ]
    for i, column in enumerate(["assigned", *unassigned]):
        heights = values[column].to_numpy(dtype=float) / 1e6
        if column != "assigned" and not heights.any():
            continue
        ax.bar(
            values["sample"],
            heights,
            bottom=bottom,
            color=colours[i % len(colours)],
            label=column.replace("unassigned_", "unassigned: ").replace("_", " "),
        )
        bottom += heights
    if unassigned:
        for i, (top, rate) in enumerate(zip(bottom, values["percent_assigned"])):
            ax.text(i, top, f"{rate:.0f}%", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("reads (millions)", fontsize=FONT_SIZE)
    ax.tick_params(axis="x", rotation=45, labelsize=FONT_SIZE - 1)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title("Library sizes" + (" (% assigned to genes above bars)" if unassigned else ""), fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, values


#: Columns of the fitted dataset's ``var`` (PyDESeq2 0.5) drawn by :func:`dispersion_estimates`,
#: -> the name of the values column.
DISPERSION_COLUMNS = {
    "_normed_means": "baseMean",
    "genewise_dispersions": "genewise_dispersion",
    "fitted_dispersions": "fitted_dispersion",
    "MAP_dispersions": "MAP_dispersion",
    "dispersions": "final_dispersion",
    "_outlier_genes": "outlier",
}


def dispersion_estimates(var: pd.DataFrame, gene_names: pd.Series, title: str):
    """Dispersion estimates against mean normalised count, as DESeq2's plotDispEsts.

    Gene-wise estimates in black, the fitted trend as a red line, the final (MAP) dispersions
    in blue; dispersion outliers, whose final value is their gene-wise estimate (no shrinkage),
    are circled. Genes with a mean of 0 are left out, as in plotDispEsts; gene-wise estimates
    below the y-axis floor (10^(floor(log10(smallest positive)) - 0.1)) sit on it as triangles.

    Parameters
    ----------
    var : pandas.DataFrame
        ``dds.var`` of a fit (n_fitted genes, indexed by gene_id) with the columns of
        :data:`DISPERSION_COLUMNS`.
    gene_names : pandas.Series
        gene_name per gene_id (at least the fitted genes).
    title : str
        Figure title (the fit).

    Returns
    -------
    fig : matplotlib.figure.Figure
    values : pandas.DataFrame
        n_genes with a positive mean: ``gene_id, gene_name`` and the values columns of
        :data:`DISPERSION_COLUMNS`, exactly as in ``var``, in ``var`` order.
    """
    plt = pyplot()
    shown = var[var["_normed_means"] > 0]
    values = (
        shown[list(DISPERSION_COLUMNS)]
        .rename(columns=DISPERSION_COLUMNS)
        .astype({"outlier": bool})
        .rename_axis("gene_id")
        .reset_index()
    )
    values.insert(1, "gene_name", values["gene_id"].map(gene_names))
    x = values["baseMean"].to_numpy(dtype=float)
    genewise = values["genewise_dispersion"].to_numpy(dtype=float)
    positive = genewise[genewise > 0]
    floor = 10 ** (np.floor(np.log10(positive.min()) - 0.1)) if len(positive) else 1e-8
    low = genewise < floor
    outlier = values["outlier"].to_numpy()
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    log_scale(ax, "x")
    log_scale(ax, "y")
    raster = len(values) > 5000
    ax.scatter(
        x[~low],
        genewise[~low],
        s=4,
        color=OKABE_ITO["black"],
        linewidths=0,
        label="gene-wise estimate",
        rasterized=raster,
    )
    if low.any():
        ax.scatter(
            x[low],
            np.full(low.sum(), floor),
            s=12,
            marker="v",
            color=OKABE_ITO["black"],
            linewidths=0,
            label=f"gene-wise below {floor:g}",
        )
    final = values["final_dispersion"].to_numpy(dtype=float)
    ax.scatter(
        x[~outlier], final[~outlier], s=4, color=OKABE_ITO["blue"], linewidths=0, label="final (MAP)", rasterized=raster
    )
    ax.scatter(
        x[outlier],
        final[outlier],
        s=30,
        facecolors="none",
        edgecolors=OKABE_ITO["blue"],
        linewidths=1.2,
        label=f"outlier, kept gene-wise ({int(outlier.sum())})",
    )
    order = np.argsort(x, kind="mergesort")
    ax.plot(
        x[order],
        values["fitted_dispersion"].to_numpy(dtype=float)[order],
        color=OKABE_ITO["vermillion"],
        linewidth=2,
        label="fitted trend",
    )
    ax.set_xlabel("mean of normalised counts", fontsize=FONT_SIZE)
    ax.set_ylabel("dispersion", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: dispersion estimates ({len(values)} genes)", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False, loc="best", markerscale=2)
    return fig, values


def size_factors(factors: pd.Series, groups: pd.Series, totals: pd.Series, title: str):
    """DESeq2 size factor of each sample, bars coloured by group, with the raw read total.

    Parameters
    ----------
    factors : pandas.Series
        Size factor per sample (n_samples, index: sample), in the fit's order.
    groups : pandas.Series
        The tested variable's level per sample (index: sample).
    totals : pandas.Series
        Raw counts summed over every input gene, per sample.
    title : str
        Figure title (the fit).

    Returns
    -------
    fig : matplotlib.figure.Figure
    values : pandas.DataFrame
        ``sample, group, size_factor, total_count`` in ``factors`` order.
    """
    plt = pyplot()
    samples = list(factors.index)
    values = pd.DataFrame(
        {
            "sample": samples,
            "group": groups.loc[samples].to_numpy(),
            "size_factor": factors.to_numpy(dtype=float),
            "total_count": totals.loc[samples].to_numpy(),
        }
    )
    levels = list(dict.fromkeys(values["group"]))
    palette = level_colours(levels)
    fig, ax = plt.subplots(figsize=(max(6, 1.5 + 0.6 * len(values)), 4.5), layout="constrained")
    for level in levels:
        part = values[values["group"] == level]
        ax.bar(part["sample"], part["size_factor"], color=palette[level], label=level)
    ax.axhline(1, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_ylabel("size factor", fontsize=FONT_SIZE)
    ax.tick_params(axis="x", rotation=45, labelsize=FONT_SIZE - 1)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(f"{title}: size factors", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, values


def write_qc_plots(
    vst: pd.DataFrame, samples: pd.DataFrame, qc: pd.DataFrame, covariates: Sequence[str], out_dir: str | os.PathLike
) -> None:
    """Write the PCA (coloured by ``condition``, shaped by the first covariate), the sample
    distance heatmap and the library sizes into ``out_dir/{pca,distances,library_sizes}.*``."""
    write_figure(*pca(vst, samples, "condition", covariates[0] if covariates else None), os.path.join(out_dir, "pca"))
    write_figure(*sample_distances(vst), os.path.join(out_dir, "distances"))
    write_figure(*library_sizes(qc), os.path.join(out_dir, "library_sizes"))


def write_fit_plots(fit: FitResult, out_dir: str | os.PathLike) -> None:
    """Write a fit's dispersion plot and size factors into ``out_dir/{dispersions,size_factors}.*``."""
    samples = list(fit.dds.obs_names)
    factors = pd.Series(fit.dds.obs["size_factors"].to_numpy(), index=samples)
    groups = fit.sheet.loc[samples, fit.spec.variable]
    write_figure(*dispersion_estimates(fit.dds.var, fit.gene_names, fit.fit_id), os.path.join(out_dir, "dispersions"))
    write_figure(
        *size_factors(factors, groups, fit.counts[samples].sum(axis=0), fit.fit_id),
        os.path.join(out_dir, "size_factors"),
    )
