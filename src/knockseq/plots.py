"""Figures of one run: DE (volcano, MA, p-values, knockdown targets), GSEA (curves, sets, ER
leading-edge heatmap), fit (dispersions, size factors) and sample QC.

Every plot is a function of a step's tables that returns the figure and the values it draws
(a DataFrame, written beside the figure as ``.tsv`` so every point can be looked up and checked).
:func:`write_figure` saves both atomically: PNG, SVG with a fixed hash salt and no date, so reruns
on the same tables give byte-identical files. Colours are the Okabe-Ito palette, which stays
distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from knockseq.enrichment import gsea_ranking, one_id_per_symbol
from knockseq.genesets import ER_CORE_SET, er_core_genes
from knockseq.io import atomic_path, write_text, write_tsv
from knockseq.verdict import ER_SETS, ESR1, HALLMARK_ER_SETS

if TYPE_CHECKING:  # knockseq.de imports PyDESeq2, which only the fit plots need
    from knockseq.de import FitResult

#: Okabe & Ito (2008), "Color Universal Design": name -> hex.
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
#: Colour cycle for groups (conditions, gene sets), in order of use.
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black")]
#: Colours of the DE classes of volcano and MA plots.
DE_COLOURS = {"down": OKABE_ITO["blue"], "up": OKABE_ITO["vermillion"], "not significant": "#BBBBBB"}
#: Label kinds of :func:`label_genes`, in precedence order, and their colours.
LABEL_COLOURS = {"knockdown target": OKABE_ITO["orange"], "ESR1": OKABE_ITO["purple"], "ER core": OKABE_ITO["green"]}
#: Genes with the most variable VST values used for the PCA, as DESeq2's plotPCA (ntop = 500).
PCA_TOP_GENES = 500
FONT_SIZE = 11
#: Iterations of adjustText's label layout (it stops earlier once no label overlaps).
ADJUST_ITERATIONS = 1000


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_figure(fig, values: pd.DataFrame, stem: str | os.PathLike) -> None:
    """Write ``stem.png``, ``stem.svg`` and the plotted values as ``stem.tsv``, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Closed after writing.
    values : pandas.DataFrame
        What the figure draws (written without its index).
    stem : str or PathLike
        Path without extension.
    """
    plt = pyplot()
    write_tsv(values, f"{stem}.tsv")
    # Fixed hash salt and no date: reruns on the same tables give byte-identical figures.
    with plt.rc_context({"svg.hashsalt": "knockseq"}):
        for kind in ("png", "svg"):
            with atomic_path(f"{stem}.{kind}") as tmp:
                fig.savefig(tmp, format=kind, dpi=150, metadata={"Date": None} if kind == "svg" else {"Software": None})
    plt.close(fig)


def _adjust(ax, texts: list, x: pd.Series, y: pd.Series) -> None:
    """Move ``texts`` apart and off the points (x, y: n_points), joined to their point by a line.

    A fixed iteration count, not adjustText's default 1-second time limit, so that the layout,
    and the files, do not depend on how busy the machine is.
    """
    from adjustText import adjust_text

    if texts:
        # Stronger text repulsion and a weaker pull than adjustText's defaults: with its defaults
        # ER core labels in a crowded volcano (MCF-7 estradiol) still overlapped after 1000 steps.
        adjust_text(texts, x=x.to_numpy(dtype=float), y=y.to_numpy(dtype=float), ax=ax, iter_lim=ADJUST_ITERATIONS,
                    expand=(1.4, 1.8), force_text=(1.0, 1.5), force_pull=(0.005, 0.005),
                    arrowprops={"arrowstyle": "-", "color": "0.35", "linewidth": 0.6})


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
        np.where(~significant, "not significant", np.where(table["log2FoldChange"] < 0, "down", "up")), index=table.index
    )


def _labelled_scatter(ax, values: pd.DataFrame, x: str, y: str, alpha: float) -> None:
    """Points coloured by DE class, labelled genes on top with non-overlapping labels."""
    for cls, colour in DE_COLOURS.items():
        part = values[(values["class"] == cls) & values["label"].isna()]
        ax.scatter(part[x], part[y], s=8, color=colour, alpha=0.6, linewidths=0,
                   label=f"{cls} (padj < {alpha:g})" if cls != "not significant" else cls, rasterized=len(part) > 5000)
    labelled = values[values["label"].notna()]
    texts = []
    for kind, colour in LABEL_COLOURS.items():
        part = labelled[labelled["label_kind"] == kind]
        if part.empty:
            continue
        ax.scatter(part[x], part[y], s=28, color=colour, edgecolors="black", linewidths=0.6, label=kind, zorder=3)
        texts += [ax.text(px, py, text, fontsize=9, zorder=4) for px, py, text in zip(part[x], part[y], part["label"])]
    # Repel from the labelled points only: with every gene (tens of thousands) adjustText's cost
    # grows with labels x points and a real DE table took minutes.
    _adjust(ax, texts, labelled[x], labelled[y])
    # Outside the axes: loc="best" scans every point, as slow as the repulsion was.
    ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _de_values(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float) -> pd.DataFrame:
    tested = de_table[de_table["log2FoldChange"].notna() & de_table["pvalue"].notna()]
    values = tested[["gene_id", "gene_name", "baseMean", "log2FoldChange", "pvalue", "padj"]].reset_index(drop=True)
    values["class"] = _de_class(values, alpha)
    kinds = labels.set_index("gene_id")
    values["label"] = values["gene_id"].map(kinds["label"])
    values["label_kind"] = values["gene_id"].map(kinds["kind"])
    return values


def volcano(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float, title: str):
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
    ax.set_xlabel("log2 fold change (test / reference)", fontsize=FONT_SIZE)
    ax.set_ylabel("-log10 p-value", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: volcano plot", fontsize=FONT_SIZE + 1)
    return fig, values


def ma_plot(de_table: pd.DataFrame, labels: pd.DataFrame, alpha: float, title: str):
    """MA plot: mean normalised count (log scale) against log2 fold change.

    Parameters and values as :func:`volcano` (without ``neg_log10_pvalue``).
    """
    plt = pyplot()
    values = _de_values(de_table, labels, alpha)
    values = values[values["baseMean"] > 0].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    ax.set_xscale("log")
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=0)
    _labelled_scatter(ax, values, "baseMean", "log2FoldChange", alpha)
    ax.set_xlabel("mean of normalised counts (baseMean)", fontsize=FONT_SIZE)
    ax.set_ylabel("log2 fold change (test / reference)", fontsize=FONT_SIZE)
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


def target_counts(normalized: pd.DataFrame, knockdown: Mapping[str, Any], groups: pd.Series, title: str):
    """Normalised counts of each knockdown target per sample, grouped by condition.

    Parameters
    ----------
    normalized : pandas.DataFrame
        ``results/de/{contrast}.normalized_counts.tsv`` (genes x ``gene_id, gene_name, samples``).
    knockdown : mapping
        ``results/knockdown/{contrast}.json``.
    groups : pandas.Series
        The tested variable's level per sample of the contrast (index: sample).
    title : str
        Figure title (the contrast).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per target found in the counts (a note when there is none).
    values : pandas.DataFrame
        ``gene_id, gene_name, sample, group, normalized_count``, one row per target and sample.
    """
    plt = pyplot()
    table = normalized.set_index("gene_id")
    rows = []
    for target in knockdown.get("targets", []):
        gene_id = target.get("gene_id")
        if gene_id is None or str(gene_id) not in table.index:
            continue
        for sample, group in groups.items():
            rows.append((str(gene_id), target.get("gene_name") or str(gene_id), sample, group,
                         float(table.at[str(gene_id), sample])))
    values = pd.DataFrame(rows, columns=["gene_id", "gene_name", "sample", "group", "normalized_count"])
    genes = list(dict.fromkeys(values["gene_id"]))
    levels = list(dict.fromkeys(groups))
    fig, axes = plt.subplots(1, max(len(genes), 1), figsize=(1.2 + 2.6 * max(len(genes), 1), 4.2),
                             layout="constrained", squeeze=False)
    if not genes:
        axes[0, 0].text(0.5, 0.5, "no knockdown target in this contrast\n(a treatment, or targets absent)",
                        ha="center", va="center", fontsize=FONT_SIZE, transform=axes[0, 0].transAxes)
        axes[0, 0].set_axis_off()
    for ax, gene in zip(axes[0], genes):
        part = values[values["gene_id"] == gene]
        for i, level in enumerate(levels):
            points = part[part["group"] == level]["normalized_count"].to_numpy()
            # Spread replicates sideways by a fixed offset so reruns draw identical figures.
            offsets = np.linspace(-0.12, 0.12, len(points)) if len(points) > 1 else np.zeros(len(points))
            ax.scatter(i + offsets, points, s=40, color=CYCLE[i % len(CYCLE)], edgecolors="black", linewidths=0.5)
            if len(points):
                ax.hlines(points.mean(), i - 0.25, i + 0.25, color="black", linewidth=1.5)
        ax.set_xticks(range(len(levels)), levels, fontsize=FONT_SIZE - 1, rotation=20)
        ax.set_xlim(-0.6, len(levels) - 0.4)
        ax.set_yscale("log")
        ax.set_title(part["gene_name"].iloc[0], fontsize=FONT_SIZE)
    axes[0, 0].set_ylabel("normalised count (log scale)", fontsize=FONT_SIZE)
    fig.suptitle(f"{title}: knockdown targets", fontsize=FONT_SIZE + 1)
    return fig, values


def running_score(ranks: pd.Series, genes: Sequence[str], weight: float = 1.0) -> np.ndarray:
    """GSEA running enrichment score along a ranking, as gseapy computes it.

    A hit adds |r|^weight / sum over hits of |r|^weight, a miss subtracts 1 / (N - N_hits).
    The enrichment score (ES) is the curve's extreme: its maximum when that is larger in
    absolute value than its minimum, else its minimum.

    Parameters
    ----------
    ranks : pandas.Series
        n_ranked metric values indexed by symbol, in ranked order (:func:`gsea_ranking`).
    genes : sequence of str
        The gene set; genes not in ``ranks`` are ignored.
    weight : float
        gseapy's ``weight`` (1: the classic weighted statistic).

    Returns
    -------
    numpy.ndarray
        n_ranked running-score values, one after each ranked gene.
    """
    hits = ranks.index.isin(list(genes))
    correl = np.abs(ranks.to_numpy(dtype=float)) ** weight
    step = np.where(hits, correl / correl[hits].sum(), -1.0 / (len(ranks) - hits.sum()))
    return np.cumsum(step)


def enrichment_score(curve: np.ndarray) -> float:
    """The ES of a :func:`running_score` curve: its extreme, the maximum on a tie."""
    top, bottom = curve.max(), curve.min()
    return float(top if abs(top) >= abs(bottom) else bottom)


def gsea_curves(de_table: pd.DataFrame, gene_sets: Mapping[str, Sequence[str]], gsea: pd.DataFrame, ranking: str,
                title: str):
    """Running-score curves of the tested ER sets (hallmark EARLY, LATE, the ER core set).

    Parameters
    ----------
    de_table : pandas.DataFrame
        ``results/de/{contrast}.tsv``; ranked with :func:`knockseq.enrichment.gsea_ranking`,
        exactly as the GSEA step ranked it.
    gene_sets : mapping of str to sequence of str
        Set name -> symbols (``results/gene_sets/gene_sets.gmt``).
    gsea : pandas.DataFrame
        ``results/gsea/{contrast}.tsv``: the sets with an NES are drawn, with NES and FDR.
    ranking : str
        ``gsea.ranking`` of the run.
    title : str
        Figure title (the contrast).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per tested ER set above the ranking metric; a note when none was tested.
    values : pandas.DataFrame
        ``gene_set, rank, gene, metric, hit, running_score`` (rank 1 = top of the ranking), one
        row per set and ranked gene.
    """
    plt = pyplot()
    tested = gsea[gsea["gene_set"].isin(ER_SETS) & gsea["NES"].notna()].set_index("gene_set")
    sets = [s for s in ER_SETS if s in tested.index and s in gene_sets]
    ranks = gsea_ranking(de_table, ranking)
    frames = []
    for name in sets:
        curve = running_score(ranks, gene_sets[name])
        frames.append(pd.DataFrame({
            "gene_set": name, "rank": np.arange(1, len(ranks) + 1), "gene": ranks.index, "metric": ranks.to_numpy(),
            "hit": ranks.index.isin(list(gene_sets[name])), "running_score": curve,
        }))
    columns = ["gene_set", "rank", "gene", "metric", "hit", "running_score"]
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    if not sets:
        fig, ax = plt.subplots(figsize=(7, 2.5), layout="constrained")
        untested = gsea[gsea["gene_set"].isin(ER_SETS)]
        detail = "; ".join(f"{r.gene_set}: {r.matched_size} genes ranked" for r in untested.itertuples())
        ax.text(0.5, 0.5, f"No ER gene set was tested in this contrast\n({detail or 'none configured'};\n"
                "see gsea.min_size / gsea.max_size)", ha="center", va="center", fontsize=FONT_SIZE,
                transform=ax.transAxes, wrap=True)
        ax.set_axis_off()
        fig.suptitle(f"{title}: GSEA of the ER gene sets", fontsize=FONT_SIZE + 1)
        return fig, values
    fig, axes = plt.subplots(len(sets) + 1, 1, figsize=(7, 2.6 * len(sets) + 2),
                             height_ratios=[3] * len(sets) + [1.4], sharex=True, layout="constrained")
    x = np.arange(1, len(ranks) + 1)
    for i, (ax, name) in enumerate(zip(axes, sets)):
        part = values[values["gene_set"] == name]
        colour = CYCLE[i % len(CYCLE)]
        ax.plot(x, part["running_score"], color=colour, linewidth=1.6)
        ax.axhline(0, color="0.6", linewidth=0.8)
        low, high = ax.get_ylim()
        ax.vlines(x[part["hit"].to_numpy()], low, low + 0.08 * (high - low), color="black", linewidth=0.6)
        ax.set_ylim(low, high)
        row = tested.loc[name]
        ax.set_title(f"{name}\nNES {row['NES']:.2f}, FDR {row['fdr']:.2g} ({int(row['matched_size'])} genes)",
                     fontsize=FONT_SIZE)
        ax.set_ylabel("running ES", fontsize=FONT_SIZE)
    metric = ranks.to_numpy()
    axes[-1].fill_between(x, metric, color="0.5", linewidth=0)
    axes[-1].axhline(0, color="black", linewidth=0.6)
    axes[-1].set_ylabel(ranking, fontsize=FONT_SIZE - 1)
    axes[-1].set_xlabel("gene rank (up in test at left, down at right)", fontsize=FONT_SIZE)
    fig.suptitle(f"{title}: GSEA of the ER gene sets", fontsize=FONT_SIZE + 1)
    return fig, values


def gsea_dots(gsea: pd.DataFrame, title: str):
    """Every tested gene set: NES against -log10 FDR, the ER sets highlighted and labelled.

    Returns the figure and ``gene_set, collection, NES, fdr, neg_log10_fdr, er_set`` per tested
    set. An FDR of 0 (no permutation as extreme) is drawn at the smallest non-zero FDR of the
    table (1e-300 if there is none) and flagged in ``fdr_is_zero``.
    """
    plt = pyplot()
    values = gsea[gsea["NES"].notna()][["gene_set", "collection", "NES", "fdr"]].reset_index(drop=True)
    positive = values["fdr"][values["fdr"] > 0]
    floor = float(positive.min()) if len(positive) else 1e-300
    values["fdr_is_zero"] = values["fdr"] == 0
    values["neg_log10_fdr"] = -np.log10(values["fdr"].clip(lower=floor))
    values["er_set"] = values["gene_set"].isin(ER_SETS)
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    other = values[~values["er_set"]]
    ax.scatter(other["NES"], other["neg_log10_fdr"], s=30, color="#BBBBBB", edgecolors="0.4", linewidths=0.4,
               label="other sets")
    er = values[values["er_set"]]
    ax.scatter(er["NES"], er["neg_log10_fdr"], s=60, color=OKABE_ITO["vermillion"], edgecolors="black",
               linewidths=0.6, label="ER sets", zorder=3)
    texts = [ax.text(r.NES, r.neg_log10_fdr, r.gene_set.replace("HALLMARK_", ""), fontsize=9) for r in er.itertuples()]
    _adjust(ax, texts, values["NES"], values["neg_log10_fdr"])
    ax.axhline(1, color=OKABE_ITO["blue"], linestyle="--", linewidth=0.8, label="FDR 0.1")
    ax.axvline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.set_xlabel("normalised enrichment score (NES)", fontsize=FONT_SIZE)
    ax.set_ylabel("-log10 FDR", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: every tested gene set ({len(values)})", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False)
    if values.empty:
        ax.text(0.5, 0.5, "no gene set was tested", ha="center", va="center", transform=ax.transAxes, fontsize=FONT_SIZE)
    return fig, values


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
    values = pd.DataFrame({"sample": names, **{c: sheet[c].to_numpy() for c in columns},
                           "PC1": scores[:, 0], "PC2": scores[:, 1] if scores.shape[1] > 1 else 0.0,
                           "PC1_percent_variance": percent[0],
                           "PC2_percent_variance": percent[1] if len(percent) > 1 else 0.0})
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    levels = list(dict.fromkeys(values[colour]))
    shapes = list(dict.fromkeys(values[shape])) if shape else [None]
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    for i, level in enumerate(levels):
        for j, form in enumerate(shapes):
            part = values[(values[colour] == level) & ((values[shape] == form) if shape else True)]
            if part.empty:
                continue
            label = f"{level}" + (f", {shape} {form}" if shape else "")
            ax.scatter(part["PC1"], part["PC2"], s=70, color=CYCLE[i % len(CYCLE)], marker=markers[j % len(markers)],
                       edgecolors="black", linewidths=0.5, label=label)
    _adjust(ax, [ax.text(r.PC1, r.PC2, r.sample, fontsize=9) for r in values.itertuples()], values["PC1"], values["PC2"])
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
    fig, (tree_ax, ax) = plt.subplots(1, 2, figsize=(3.5 + 0.55 * n, 2.2 + 0.45 * n), width_ratios=[1, 3],
                                      layout="constrained")
    hierarchy.dendrogram(tree, ax=tree_ax, orientation="left", no_labels=True, color_threshold=0,
                         above_threshold_color="black")
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
    colours = [OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["vermillion"],
               OKABE_ITO["green"], OKABE_ITO["purple"], OKABE_ITO["yellow"], "#BBBBBB"]
    for i, column in enumerate(["assigned", *unassigned]):
        heights = values[column].to_numpy(dtype=float) / 1e6
        if column != "assigned" and not heights.any():
            continue
        ax.bar(values["sample"], heights, bottom=bottom, color=colours[i % len(colours)],
               label=column.replace("unassigned_", "unassigned: ").replace("_", " "))
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
    "_normed_means": "baseMean", "genewise_dispersions": "genewise_dispersion",
    "fitted_dispersions": "fitted_dispersion", "MAP_dispersions": "MAP_dispersion",
    "dispersions": "final_dispersion", "_outlier_genes": "outlier",
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
    values = shown[list(DISPERSION_COLUMNS)].rename(columns=DISPERSION_COLUMNS).astype(
        {"outlier": bool}).rename_axis("gene_id").reset_index()
    values.insert(1, "gene_name", values["gene_id"].map(gene_names))
    x = values["baseMean"].to_numpy(dtype=float)
    genewise = values["genewise_dispersion"].to_numpy(dtype=float)
    positive = genewise[genewise > 0]
    floor = 10 ** (np.floor(np.log10(positive.min()) - 0.1)) if len(positive) else 1e-8
    low = genewise < floor
    outlier = values["outlier"].to_numpy()
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    ax.set_xscale("log")
    ax.set_yscale("log")
    raster = len(values) > 5000
    ax.scatter(x[~low], genewise[~low], s=4, color=OKABE_ITO["black"], linewidths=0, label="gene-wise estimate",
               rasterized=raster)
    if low.any():
        ax.scatter(x[low], np.full(low.sum(), floor), s=12, marker="v", color=OKABE_ITO["black"], linewidths=0,
                   label=f"gene-wise below {floor:g}")
    final = values["final_dispersion"].to_numpy(dtype=float)
    ax.scatter(x[~outlier], final[~outlier], s=4, color=OKABE_ITO["blue"], linewidths=0, label="final (MAP)",
               rasterized=raster)
    ax.scatter(x[outlier], final[outlier], s=30, facecolors="none", edgecolors=OKABE_ITO["blue"], linewidths=1.2,
               label=f"outlier, kept gene-wise ({int(outlier.sum())})")
    order = np.argsort(x, kind="mergesort")
    ax.plot(x[order], values["fitted_dispersion"].to_numpy(dtype=float)[order], color=OKABE_ITO["vermillion"],
            linewidth=2, label="fitted trend")
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
    values = pd.DataFrame({"sample": samples, "group": groups.loc[samples].to_numpy(),
                           "size_factor": factors.to_numpy(dtype=float),
                           "total_count": totals.loc[samples].to_numpy()})
    levels = list(dict.fromkeys(values["group"]))
    fig, ax = plt.subplots(figsize=(max(6, 1.5 + 0.6 * len(values)), 4.5), layout="constrained")
    for i, level in enumerate(levels):
        part = values[values["group"] == level]
        ax.bar(part["sample"], part["size_factor"], color=CYCLE[i % len(CYCLE)], label=level)
    ax.axhline(1, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_ylabel("size factor", fontsize=FONT_SIZE)
    ax.tick_params(axis="x", rotation=45, labelsize=FONT_SIZE - 1)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(f"{title}: size factors", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, values


def leading_edge_genes(de_table: pd.DataFrame, gsea: pd.DataFrame) -> pd.DataFrame:
    """The ER genes of a contrast's heatmap: the leading edges of the ER sets GSEA tested.

    When no ER hallmark set was tested (too few genes matched), the ER core genes present in
    the DE table stand in.

    Parameters
    ----------
    de_table : pandas.DataFrame
        ``results/de/{contrast}.tsv`` (n_genes rows).
    gsea : pandas.DataFrame
        ``results/gsea/{contrast}.tsv`` (``gene_set, NES, leading_edge``).

    Returns
    -------
    pandas.DataFrame
        n_selected rows: ``gene_id`` (the symbol's id, :func:`one_id_per_symbol`),
        ``gene_name``, ``source`` (comma-joined sets whose leading edge holds the gene, or
        ``ER core genes present``) and ``log2FoldChange``; in decreasing log2FoldChange (NA
        last), then gene_name.
    """
    tested = gsea[gsea["gene_set"].isin(ER_SETS) & gsea["NES"].notna()].set_index("gene_set")
    sources: dict[str, list[str]] = {}
    if tested.index.isin(HALLMARK_ER_SETS).any():
        for name in (s for s in ER_SETS if s in tested.index):
            edge = tested.at[name, "leading_edge"]
            for gene in edge.split(",") if isinstance(edge, str) and edge else []:
                sources.setdefault(gene, []).append(name)
    else:
        sources = {gene: ["ER core genes present"] for gene in er_core_genes()}
    symbols = one_id_per_symbol(de_table)
    rows = [(symbols.at[g, "gene_id"], g, ",".join(s), symbols.at[g, "log2FoldChange"])
            for g, s in sources.items() if g in symbols.index]
    genes = pd.DataFrame(rows, columns=["gene_id", "gene_name", "source", "log2FoldChange"])
    genes["log2FoldChange"] = genes["log2FoldChange"].astype(float)
    return genes.sort_values(["log2FoldChange", "gene_name"], ascending=[False, True], na_position="last",
                             kind="mergesort").reset_index(drop=True)


def leading_edge_heatmap(genes: pd.DataFrame, vst: pd.DataFrame, groups: pd.Series, title: str):
    """Row-scaled VST values of the selected ER genes across a contrast's samples.

    Each gene's VST values are centred on their mean and divided by their standard deviation
    (ddof 1, as pheatmap's ``scale = "row"``) across the samples drawn; a gene with equal values
    in every sample has no z-score (NA, drawn grey).

    Parameters
    ----------
    genes : pandas.DataFrame
        :func:`leading_edge_genes`; genes absent from ``vst`` are left out.
    vst : pandas.DataFrame
        ``results/qc/vst_design.tsv``: ``gene_id, gene_name`` and one column per sample.
    groups : pandas.Series
        Level of the tested variable per sample (index: sample), in the column order drawn.
    title : str
        Figure title (the contrast).

    Returns
    -------
    fig : matplotlib.figure.Figure
    values : pandas.DataFrame
        ``gene_id, gene_name, source, log2FoldChange, sample, group, vst, z_score``, one row
        per gene and sample, genes in ``genes`` order, samples in ``groups`` order.
    """
    plt = pyplot()
    from matplotlib.colors import ListedColormap

    samples = list(groups.index)
    table = vst.set_index("gene_id")
    genes = genes[genes["gene_id"].isin(table.index)].reset_index(drop=True)
    data = table.loc[genes["gene_id"], samples].to_numpy(dtype=float)  # genes x samples
    spread = data.std(axis=1, ddof=1, keepdims=True) if len(samples) > 1 else np.zeros((len(data), 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(spread > 0, (data - data.mean(axis=1, keepdims=True)) / spread, np.nan)
    n_genes, n_samples = z.shape
    values = genes.loc[genes.index.repeat(n_samples)].reset_index(drop=True).assign(
        sample=samples * n_genes, group=list(groups.to_numpy()) * n_genes, vst=data.ravel(), z_score=z.ravel())
    levels = list(dict.fromkeys(groups))
    height = 2.2 + 0.15 * max(n_genes, 4)
    fig, (bar_ax, ax) = plt.subplots(2, 1, figsize=(3.5 + 0.45 * n_samples, height), layout="constrained",
                                     height_ratios=[0.35, height - 0.35], sharex=True)
    codes = np.array([levels.index(g) for g in groups])[None, :]
    bar_ax.imshow(codes, aspect="auto", cmap=ListedColormap([CYCLE[i % len(CYCLE)] for i in range(len(levels))]),
                  vmin=-0.5, vmax=len(levels) - 0.5)
    bar_ax.set_yticks([])
    bar_ax.tick_params(axis="x", length=0)
    for i, level in enumerate(levels):
        bar_ax.bar(0, 0, color=CYCLE[i % len(CYCLE)], label=level)  # legend handles only
    bar_ax.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(1.0, 0.0))
    if n_genes:
        limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#BBBBBB")
        image = ax.imshow(z, aspect="auto", cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_yticks(range(n_genes), genes["gene_name"], fontsize=max(5, min(9, 400 / n_genes)))
        fig.colorbar(image, ax=ax, label="row z-score of VST", shrink=min(1.0, 6 / height))
    else:
        ax.text(0.5, 0.5, "no ER gene of this contrast is in the VST table", ha="center", va="center",
                fontsize=FONT_SIZE, transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xticks(range(n_samples), samples, rotation=45, ha="right", fontsize=FONT_SIZE - 1)
    source = "ER core genes present (no ER hallmark set tested)" if (
        genes["source"].eq("ER core genes present").any()) else "leading-edge genes of the ER sets"
    fig.suptitle(f"{title}\n{source} ({n_genes})", fontsize=FONT_SIZE + 1)
    return fig, values


def write_de_plots(de_table: pd.DataFrame, metadata: Mapping[str, Any], knockdown: Mapping[str, Any],
                   normalized: pd.DataFrame, samples: pd.DataFrame, out_dir: str | os.PathLike) -> None:
    """Write a contrast's volcano, MA, p-value histogram and knockdown-target plots.

    Parameters
    ----------
    de_table, knockdown, normalized : as for :func:`volcano` and :func:`target_counts`.
    metadata : mapping
        ``results/de/{contrast}.json`` (``contrast``, ``alpha``, ``variable``, ``samples``).
    samples : pandas.DataFrame
        The sample sheet.
    out_dir : str or PathLike
        Folder of ``{volcano,ma,pvalues,targets}.{png,svg,tsv}``.
    """
    name, alpha = metadata["contrast"], float(metadata["alpha"])
    labels = label_genes(de_table, knockdown)
    groups = samples.set_index("sample").loc[metadata["samples"], metadata["variable"]]
    write_figure(*volcano(de_table, labels, alpha, name), os.path.join(out_dir, "volcano"))
    write_figure(*ma_plot(de_table, labels, alpha, name), os.path.join(out_dir, "ma"))
    write_figure(*pvalue_histogram(de_table, name), os.path.join(out_dir, "pvalues"))
    write_figure(*target_counts(normalized, knockdown, groups, name), os.path.join(out_dir, "targets"))


def write_gsea_plots(de_table: pd.DataFrame, gene_sets: Mapping[str, Sequence[str]], gsea: pd.DataFrame,
                     ranking: str, name: str, out_dir: str | os.PathLike) -> None:
    """Write a contrast's ER running-score curves and the dot plot of every tested set.

    Parameters as :func:`gsea_curves`; ``name`` is the contrast, ``out_dir`` the folder of
    ``{gsea_curves,gsea_sets}.{png,svg,tsv}``.
    """
    write_figure(*gsea_curves(de_table, gene_sets, gsea, ranking, name), os.path.join(out_dir, "gsea_curves"))
    write_figure(*gsea_dots(gsea, name), os.path.join(out_dir, "gsea_sets"))


def write_qc_plots(vst: pd.DataFrame, samples: pd.DataFrame, qc: pd.DataFrame, covariates: Sequence[str],
                   out_dir: str | os.PathLike) -> None:
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
    write_figure(*size_factors(factors, groups, fit.counts[samples].sum(axis=0), fit.fit_id),
                 os.path.join(out_dir, "size_factors"))


def write_leading_edge_plot(de_table: pd.DataFrame, gsea: pd.DataFrame, vst: pd.DataFrame,
                            metadata: Mapping[str, Any], samples: pd.DataFrame, stem: str | os.PathLike) -> None:
    """Write a contrast's ER gene heatmap (:func:`leading_edge_heatmap`) as ``stem.{png,svg,tsv}``.

    The contrast's samples (``metadata["samples"]``) are grouped reference first, then test,
    then any other level of the variable, in sheet order within a group.
    """
    groups = samples.set_index("sample").loc[metadata["samples"], metadata["variable"]].astype(str)
    levels = list(dict.fromkeys([metadata["reference"], metadata["test"], *groups]))
    groups = groups.iloc[np.argsort([levels.index(g) for g in groups], kind="mergesort")]
    genes = leading_edge_genes(de_table, gsea)
    write_figure(*leading_edge_heatmap(genes, vst, groups, metadata["contrast"]), stem)


def verdict_rst(verdicts: Sequence[Mapping[str, Any]]) -> str:
    """The verdict of every contrast as reStructuredText, for the report's first page.

    Parameters
    ----------
    verdicts : sequence of mapping
        ``results/verdict/{contrast}.json`` per contrast, in config order.

    Returns
    -------
    str
        Per contrast: verdict and strength, the one-line ``summary``, the reasons, the knockdown
        status per target; then the gene-set provenance (of the first verdict: one run loads
        one collection for every contrast). No section titles, so it can be included anywhere.
    """
    lines = []
    for verdict in verdicts:
        knockdown = verdict["knockdown"]
        lines += [f"**{_rst(verdict['contrast'])}: {verdict['verdict'].upper()}** (strength: {_rst(verdict['strength'])})",
                  "", _rst(verdict["summary"]), ""]
        lines += [f"- reason: {_rst(reason)}" for reason in verdict["reasons"]]
        lines.append(f"- knockdown: {_rst(knockdown['status'])}")
        for target in knockdown["targets"]:
            remaining = target.get("percent_remaining")
            lines.append(f"- {_rst(target.get('gene_name') or target['gene'])}: {_rst(target['status'])}"
                         + (f", {remaining:.1f}% of control expression remaining" if remaining is not None else ""))
        lines.append("")
    if verdicts:
        lines += ["**Gene sets used**", ""]
        for entry in verdicts[0]["provenance"]:
            sha = (entry.get("sha256") or "")[:12]
            lines.append(f"- {_rst(entry['name'])} version {_rst(str(entry.get('version')))}: {entry['status']}, "
                         f"{entry.get('n_sets', 0)} set(s), from {_rst(str(entry.get('source')))}"
                         + (f", sha256 {sha}..." if sha else ""))
        lines.append("")
    return "\n".join(lines)


def _rst(text: str) -> str:
    """``text`` with reStructuredText markup characters escaped (gene and contrast names hold ``_``)."""
    for char in "\\*`_|[]":
        text = text.replace(char, "\\" + char)
    return text


def write_verdict_page(verdicts: Sequence[Mapping[str, Any]], rst_path: str | os.PathLike,
                       html_path: str | os.PathLike) -> None:
    """Write :func:`verdict_rst` and its HTML rendering (docutils), atomically."""
    from docutils.core import publish_string

    text = verdict_rst(verdicts)
    write_text(text, rst_path)
    html = publish_string(text, writer="html", settings_overrides={"title": "knockseq verdicts",
                                                                         "embed_stylesheet": True})
    write_text(html.decode("utf-8"), html_path)
