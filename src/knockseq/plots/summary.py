"""Figures across contrasts (and datasets): the direct ER targets' fold changes as a heatmap, and
each contrast's direct-target effect with its interval as a forest plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from knockseq.plots.style import OKABE_ITO, pyplot
from knockseq.verdict import ESR1

#: Colour of each verdict in the forest plot.
VERDICT_COLOURS = {
    "suppressed": OKABE_ITO["blue"],
    "activated": OKABE_ITO["vermillion"],
    "unchanged": OKABE_ITO["black"],
    "inconclusive": "#999999",
}


def heatmap(log2fc: pd.DataFrame, labels: pd.Series, groups: pd.Series | None = None):
    """Heatmap of ER target log2 fold changes, genes x contrasts, each column titled by its verdict.

    Parameters
    ----------
    log2fc : pandas.DataFrame
        n_genes x n_contrasts (:func:`knockseq.summary.summarise`).
    labels : pandas.Series
        Column label (contrast and verdict) per column of ``log2fc``.
    groups : pandas.Series, optional
        Dataset per column: columns of one dataset are drawn together under its name, with a
        line between datasets.

    Returns
    -------
    matplotlib.figure.Figure
        Blue for down, red for up (ColorBrewer RdBu, readable with red-green colour blindness),
        symmetric around 0, values printed in the cells, grey where a gene has no statistic.
    """
    plt = pyplot()
    values = log2fc.to_numpy(dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    limit = max(float(finite.max()) if finite.size else 1.0, 0.5)
    n_genes, n_contrasts = values.shape
    fig, ax = plt.subplots(figsize=(max(4.5, 2.4 + 1.1 * n_contrasts), 1.6 + 0.32 * n_genes), layout="constrained")
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(n_contrasts), [labels[c] for c in log2fc.columns], rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(n_genes), list(log2fc.index), fontsize=10)
    for i in range(n_genes):
        for j in range(n_contrasts):
            if np.isfinite(values[i, j]):
                ax.text(
                    j,
                    i,
                    f"{values[i, j]:.1f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if abs(values[i, j]) > 0.6 * limit else "black",
                )
    if ESR1 in log2fc.index:  # ESR1 itself, below the targets it drives
        ax.axhline(list(log2fc.index).index(ESR1) - 0.5, color="black", linewidth=1.5)
    if groups is not None:
        names = [groups[c] for c in log2fc.columns]
        starts = [j for j in range(n_contrasts) if j == 0 or names[j] != names[j - 1]]
        for start, end in zip(starts, [*starts[1:], n_contrasts]):
            if start:
                ax.axvline(start - 0.5, color="black", linewidth=2)
            ax.text((start + end - 1) / 2, -0.7, names[start], ha="center", va="bottom", fontsize=10, fontweight="bold")
    fig.colorbar(image, ax=ax, label="log2 fold change (test / reference)", shrink=0.6)
    ax.set_title("Direct ER targets and ESR1\nacross contrasts", fontsize=11, pad=22 if groups is not None else 6)
    return fig


def forest(effects: pd.DataFrame, pooled: pd.DataFrame | None = None):
    """Forest plot of each contrast's direct-target effect, and of each compared group's pooled one.

    Parameters
    ----------
    effects : pandas.DataFrame
        One row per contrast, top to bottom: ``label``, ``verdict``, ``mean``, ``ci_low``,
        ``ci_high`` (NaN where the direct targets were not tested).
    pooled : pandas.DataFrame, optional
        One row per group: ``label``, ``mean``, ``ci_low``, ``ci_high``, drawn as diamonds below
        the contrasts.

    Returns
    -------
    matplotlib.figure.Figure
        Points and 95% intervals coloured by verdict, a line at 0 and the contrasts' labels.
    """
    plt = pyplot()
    rows = len(effects) + (0 if pooled is None else len(pooled))
    fig, ax = plt.subplots(figsize=(6.4, 1.4 + 0.38 * rows), layout="constrained")
    y = np.arange(len(effects))[::-1] + (0 if pooled is None else len(pooled) + 0.5)
    for yi, (_, row) in zip(y, effects.iterrows()):
        colour = VERDICT_COLOURS[row["verdict"]]
        if np.isfinite(row["mean"]):
            ax.errorbar(
                row["mean"],
                yi,
                xerr=[[row["mean"] - row["ci_low"]], [row["ci_high"] - row["mean"]]],
                fmt="o",
                color=colour,
                capsize=3,
                markersize=6,
            )
        else:
            ax.text(0, yi, "not tested", ha="center", va="center", fontsize=9, color="#666666")
    labels = list(effects["label"])
    ticks = list(y)
    if pooled is not None:
        for yi, (_, row) in zip(np.arange(len(pooled))[::-1], pooled.iterrows()):
            if np.isfinite(row["mean"]):
                ax.fill(
                    [row["ci_low"], row["mean"], row["ci_high"], row["mean"]],
                    [yi, yi + 0.25, yi, yi - 0.25],
                    color=OKABE_ITO["black"],
                )
            labels.append(row["label"])
            ticks.append(yi)
    for verdict, colour in VERDICT_COLOURS.items():
        if verdict in set(effects["verdict"]):
            ax.plot([], [], "o", color=colour, label=verdict)
    ax.axvline(0, color="#666666", linewidth=1, linestyle="--")
    ax.set_yticks(ticks, labels, fontsize=10)
    ax.set_xlabel("mean log2 fold change (test / reference), 95% CI")
    ax.legend(loc="best", fontsize=9, frameon=False)
    ax.set_title("Direct ER targets across contrasts", fontsize=11)
    return fig
