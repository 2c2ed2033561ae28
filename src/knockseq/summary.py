"""One summary across contrasts: a table of every verdict and a heatmap of the ER targets' fold changes.

Both are built from the verdict JSONs alone (``results/verdict/{contrast}.json``), which carry
every number they show, so the summary needs no other step's output.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from knockseq.io import write_tsv
from knockseq.plots.style import pyplot, write_figure
from knockseq.verdict import EARLY, ESR1, LATE

#: Leading columns of ``results/summary/verdicts.tsv``; one ``log2FC_<gene>`` column per ER core
#: gene follows.
SUMMARY_COLUMNS = [
    "contrast", "verdict", "strength", "er_call", "sentence", "er_expressed", "ESR1_CPM", "signature",
    "direct_targets", "direct_t", "direct_pvalue", "direct_fdr", "direct_mean_log2FC", "direct_ci_low",
    "direct_ci_high", "knockdown", "knockdown_remaining", "EARLY_NES", "EARLY_FDR", "LATE_NES", "LATE_FDR",
    "er_sets_rank", "other_sets_same_direction", "global_shift", "ESR1_log2FC", "ESR1_padj", "ESR1_call",
]


def summarise(verdicts: Sequence[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cross-contrast table and the ER target log2FC matrix.

    Parameters
    ----------
    verdicts : sequence of dict
        One verdict (:func:`knockseq.verdict.decide`) per contrast, in config order.

    Returns
    -------
    table : pandas.DataFrame
        n_contrasts rows: :data:`SUMMARY_COLUMNS`, then ``log2FC_<gene>`` per ER core gene.
        ``direct_pvalue`` is the direct-target test's p-value (the larger of CAMERA's mean and
        rank tests), ``direct_fdr`` the same adjusted across the run's contrasts (the one the
        verdict compares with ``verdict.fdr``); ``direct_t`` is CAMERA's mean-test t.
        ``knockdown_remaining`` is ``GENE:percent,...`` (empty for a treatment);
        ``er_sets_rank`` is the ER sets' ranks among the tested hallmark sets (``EARLY,LATE``).
    log2fc : pandas.DataFrame
        n_genes x n_contrasts log2 fold changes of the ER core genes and ESR1 (NA where a gene
        has no statistic), index ``gene``.
    """
    rows, columns = [], {}
    for verdict in verdicts:
        sets, spec, esr1 = verdict["gene_sets"], verdict["specificity"], verdict["esr1"]
        direct = verdict["direct_targets"]
        effect = direct.get("effect") or {}
        row = {
            "contrast": verdict["contrast"],
            "verdict": verdict["verdict"],
            "strength": verdict["strength"],
            "er_call": verdict["er_call"],
            "sentence": verdict["sentence"],
            "er_expressed": verdict["er_program"]["expressed"],
            "ESR1_CPM": verdict["er_program"]["esr1_cpm"],
            "signature": verdict["signature"]["call"],
            "direct_targets": direct.get("call"),
            "direct_t": (direct.get("camera") or {}).get("t"),
            "direct_pvalue": direct.get("pvalue"),
            "direct_fdr": direct.get("fdr"),
            "direct_mean_log2FC": effect.get("mean_log2FoldChange"),
            "direct_ci_low": effect.get("ci_low"),
            "direct_ci_high": effect.get("ci_high"),
            "knockdown": verdict["knockdown"]["status"],
            "knockdown_remaining": ",".join(
                f"{t.get('gene_name') or t['gene']}:{t['percent_remaining']:.1f}"
                for t in verdict["knockdown"]["targets"] if t.get("percent_remaining") is not None
            ),
            "EARLY_NES": sets[EARLY].get("NES"),
            "EARLY_FDR": sets[EARLY].get("fdr"),
            "LATE_NES": sets[LATE].get("NES"),
            "LATE_FDR": sets[LATE].get("fdr"),
            "er_sets_rank": ",".join(str(r) for r in spec.get("ranks", {}).values()),
            "other_sets_same_direction": spec.get("n_other_same_direction"),
            "global_shift": spec.get("global_shift"),
            "ESR1_log2FC": esr1.get("log2FoldChange"),
            "ESR1_padj": esr1.get("padj"),
            "ESR1_call": esr1.get("call"),
        }
        genes = {g["gene"]: g.get("log2FoldChange") for g in direct["genes"]}
        genes[ESR1] = esr1.get("log2FoldChange")
        row.update({f"log2FC_{gene}": value for gene, value in genes.items() if gene != ESR1})
        rows.append(row)
        columns[verdict["contrast"]] = genes
    table = pd.DataFrame(rows)
    table = table[SUMMARY_COLUMNS + [c for c in table.columns if c not in SUMMARY_COLUMNS]]
    log2fc = pd.DataFrame(columns, dtype=float).rename_axis("gene")
    return table, log2fc


def heatmap(log2fc: pd.DataFrame, verdicts: pd.Series):
    """Heatmap of ER target log2 fold changes, genes x contrasts, each column titled by its verdict.

    Parameters
    ----------
    log2fc : pandas.DataFrame
        n_genes x n_contrasts, from :func:`summarise`.
    verdicts : pandas.Series
        Verdict per contrast (index: contrast names, the columns of ``log2fc``).

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
    ax.set_xticks(range(n_contrasts), [f"{c}\n{verdicts[c]}" for c in log2fc.columns], rotation=30, ha="right",
                  fontsize=10)
    ax.set_yticks(range(n_genes), list(log2fc.index), fontsize=10)
    for i in range(n_genes):
        for j in range(n_contrasts):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.1f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(values[i, j]) > 0.6 * limit else "black")
    if ESR1 in log2fc.index:  # ESR1 itself, below the targets it drives
        ax.axhline(list(log2fc.index).index(ESR1) - 0.5, color="black", linewidth=1.5)
    fig.colorbar(image, ax=ax, label="log2 fold change (test / reference)", shrink=0.6)
    ax.set_title("Direct ER targets and ESR1\nacross contrasts", fontsize=11)
    return fig


def write_summary(verdicts: Sequence[dict[str, Any]], table_path: str | os.PathLike,
                  heatmap_stem: str | os.PathLike) -> None:
    """Write the summary table and the heatmap (PNG, SVG and its values as TSV), atomically.

    Parameters
    ----------
    verdicts : sequence of dict
        As for :func:`summarise`.
    table_path : str or PathLike
        ``results/summary/verdicts.tsv``.
    heatmap_stem : str or PathLike
        Path of the heatmap without extension (``.png``, ``.svg``, ``.tsv`` are added).
    """
    table, log2fc = summarise(verdicts)
    write_tsv(table, table_path)
    write_figure(heatmap(log2fc, table.set_index("contrast")["verdict"]), log2fc.reset_index(), heatmap_stem)
