"""Figures of one contrast's enrichment: GSEA running-score curves, every set's NES and FDR, and the ER
sets' leading-edge genes across samples."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from knockseq.enrichment import gsea_ranking, one_id_per_symbol
from knockseq.genesets import er_core_genes
from knockseq.plots.style import CYCLE, FONT_SIZE, OKABE_ITO, adjust_labels, contrast_groups, pyplot, write_figure
from knockseq.verdict import ER_SETS, HALLMARK_ER_SETS


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


def gsea_curves(
    de_table: pd.DataFrame, gene_sets: Mapping[str, Sequence[str]], gsea: pd.DataFrame, ranking: str, title: str
):
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
        frames.append(
            pd.DataFrame(
                {
                    "gene_set": name,
                    "rank": np.arange(1, len(ranks) + 1),
                    "gene": ranks.index,
                    "metric": ranks.to_numpy(),
                    "hit": ranks.index.isin(list(gene_sets[name])),
                    "running_score": curve,
                }
            )
        )
    columns = ["gene_set", "rank", "gene", "metric", "hit", "running_score"]
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    if not sets:
        fig, ax = plt.subplots(figsize=(7, 2.5), layout="constrained")
        untested = gsea[gsea["gene_set"].isin(ER_SETS)]
        detail = "; ".join(f"{r.gene_set}: {r.matched_size} genes ranked" for r in untested.itertuples())
        ax.text(
            0.5,
            0.5,
            f"No ER gene set was tested in this contrast\n({detail or 'none configured'};\n"
            "see gsea.min_size / gsea.max_size)",
            ha="center",
            va="center",
            fontsize=FONT_SIZE,
            transform=ax.transAxes,
            wrap=True,
        )
        ax.set_axis_off()
        fig.suptitle(f"{title}: GSEA of the ER gene sets", fontsize=FONT_SIZE + 1)
        return fig, values
    fig, axes = plt.subplots(
        len(sets) + 1,
        1,
        figsize=(7, 2.6 * len(sets) + 2),
        height_ratios=[3] * len(sets) + [1.4],
        sharex=True,
        layout="constrained",
    )
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
        ax.set_title(
            f"{name}\nNES {row['NES']:.2f}, FDR {row['fdr']:.2g} ({int(row['matched_size'])} genes)", fontsize=FONT_SIZE
        )
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
    ax.scatter(
        other["NES"],
        other["neg_log10_fdr"],
        s=30,
        color="#BBBBBB",
        edgecolors="0.4",
        linewidths=0.4,
        label="other sets",
    )
    er = values[values["er_set"]]
    ax.scatter(
        er["NES"],
        er["neg_log10_fdr"],
        s=60,
        color=OKABE_ITO["vermillion"],
        edgecolors="black",
        linewidths=0.6,
        label="ER sets",
        zorder=3,
    )
    texts = [ax.text(r.NES, r.neg_log10_fdr, r.gene_set.replace("HALLMARK_", ""), fontsize=9) for r in er.itertuples()]
    adjust_labels(ax, texts, values["NES"], values["neg_log10_fdr"])
    ax.axhline(1, color=OKABE_ITO["blue"], linestyle="--", linewidth=0.8, label="FDR 0.1")
    ax.axvline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.set_xlabel("normalised enrichment score (NES)", fontsize=FONT_SIZE)
    ax.set_ylabel("-log10 FDR", fontsize=FONT_SIZE)
    ax.set_title(f"{title}: every tested gene set ({len(values)})", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=9, frameon=False)
    if values.empty:
        ax.text(
            0.5, 0.5, "no gene set was tested", ha="center", va="center", transform=ax.transAxes, fontsize=FONT_SIZE
        )
    return fig, values


#: Most genes a leading-edge heatmap draws: beyond about 50 rows their labels are unreadable.
HEATMAP_GENES = 50


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
    rows = [
        (symbols.at[g, "gene_id"], g, ",".join(s), symbols.at[g, "log2FoldChange"])
        for g, s in sources.items()
        if g in symbols.index
    ]
    genes = pd.DataFrame(rows, columns=["gene_id", "gene_name", "source", "log2FoldChange"])
    genes["log2FoldChange"] = genes["log2FoldChange"].astype(float)
    return genes.sort_values(
        ["log2FoldChange", "gene_name"], ascending=[False, True], na_position="last", kind="mergesort"
    ).reset_index(drop=True)


def leading_edge_heatmap(
    genes: pd.DataFrame, vst: pd.DataFrame, groups: pd.Series, palette: Mapping[str, str], title: str
):
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
    palette : mapping
        Level -> colour (:func:`~knockseq.plots.style.level_colours`).
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
    values = (
        genes.loc[genes.index.repeat(n_samples)]
        .reset_index(drop=True)
        .assign(sample=samples * n_genes, group=list(groups.to_numpy()) * n_genes, vst=data.ravel(), z_score=z.ravel())
    )
    levels = list(dict.fromkeys(groups))
    height = 2.2 + 0.15 * max(n_genes, 4)
    fig, (bar_ax, ax) = plt.subplots(
        2,
        1,
        figsize=(3.5 + 0.45 * n_samples, height),
        layout="constrained",
        height_ratios=[0.35, height - 0.35],
        sharex=True,
    )
    codes = np.array([levels.index(g) for g in groups])[None, :]
    bar_ax.imshow(
        codes,
        aspect="auto",
        cmap=ListedColormap([palette[level] for level in levels]),
        vmin=-0.5,
        vmax=len(levels) - 0.5,
    )
    bar_ax.set_yticks([])
    bar_ax.tick_params(axis="x", length=0)
    for level in levels:
        bar_ax.bar(0, 0, color=palette[level], label=level)  # legend handles only
    bar_ax.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(1.0, 0.0))
    if n_genes:
        limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#BBBBBB")
        image = ax.imshow(z, aspect="auto", cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_yticks(range(n_genes), genes["gene_name"], fontsize=max(5, min(9, 400 / n_genes)))
        fig.colorbar(image, ax=ax, label="row z-score of VST", shrink=min(1.0, 6 / height))
    else:
        ax.text(
            0.5,
            0.5,
            "no ER gene of this contrast is in the VST table",
            ha="center",
            va="center",
            fontsize=FONT_SIZE,
            transform=ax.transAxes,
        )
        ax.set_yticks([])
    ax.set_xticks(range(n_samples), samples, rotation=45, ha="right", fontsize=FONT_SIZE - 1)
    source = (
        "ER core genes present (no ER hallmark set tested)"
        if (genes["source"].eq("ER core genes present").any())
        else "leading-edge genes of the ER sets"
    )
    fig.suptitle(f"{title}\n{source} ({n_genes})", fontsize=FONT_SIZE + 1)
    return fig, values


def write_gsea_plots(
    de_table: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    gsea: pd.DataFrame,
    ranking: str,
    name: str,
    out_dir: str | os.PathLike,
) -> None:
    """Write a contrast's ER running-score curves and the dot plot of every tested set.

    Parameters as :func:`gsea_curves`; ``name`` is the contrast, ``out_dir`` the folder of
    ``{gsea_curves,gsea_sets}.{png,svg,tsv}``.
    """
    write_figure(*gsea_curves(de_table, gene_sets, gsea, ranking, name), os.path.join(out_dir, "gsea_curves"))
    write_figure(*gsea_dots(gsea, name), os.path.join(out_dir, "gsea_sets"))


def write_leading_edge_plot(
    de_table: pd.DataFrame,
    gsea: pd.DataFrame,
    vst: pd.DataFrame,
    metadata: Mapping[str, Any],
    samples: pd.DataFrame,
    stem: str | os.PathLike,
) -> None:
    """Write a contrast's ER gene heatmap (:func:`leading_edge_heatmap`) as ``stem.{png,svg,tsv}``.

    Only the contrast's own samples are drawn, reference first, then test
    (:func:`~knockseq.plots.style.contrast_groups`), and at most :data:`HEATMAP_GENES` genes,
    the largest absolute log2 fold changes first (the TSV says how many were left out).
    """
    groups, palette = contrast_groups(samples, metadata)
    genes = leading_edge_genes(de_table, gsea)
    title = metadata["contrast"]
    if len(genes) > HEATMAP_GENES:
        # NA fold changes sort last in nlargest, so genes with a value are kept first.
        kept = genes["log2FoldChange"].abs().fillna(-1).nlargest(HEATMAP_GENES, keep="first").index
        title += f" ({HEATMAP_GENES} of {len(genes)} genes: the largest |log2 fold change|)"
        genes = genes.loc[sorted(kept)].reset_index(drop=True)
    write_figure(*leading_edge_heatmap(genes, vst, groups, palette, title), stem)
