"""Every figure of one contrast, drawn in one job: DE, knockdown, GSEA and the ER gene heatmap."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from knockseq.plots.de import write_de_plots
from knockseq.plots.gsea import write_gsea_plots, write_leading_edge_plot


def write_contrast_plots(
    de_table: pd.DataFrame,
    metadata: Mapping[str, Any],
    knockdown: Mapping[str, Any],
    normalized: pd.DataFrame,
    gsea: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    ranking: str,
    vst: pd.DataFrame,
    samples: pd.DataFrame,
    out_dir: str | os.PathLike,
) -> None:
    """Write a contrast's figures into ``out_dir``, each as PNG, SVG and TSV.

    ``volcano``, ``ma``, ``pvalues`` and ``targets`` (:func:`~knockseq.plots.de.write_de_plots`),
    ``gsea_curves`` and ``gsea_sets`` (:func:`~knockseq.plots.gsea.write_gsea_plots`) and
    ``er_leading_edge`` (:func:`~knockseq.plots.gsea.write_leading_edge_plot`).

    Parameters
    ----------
    de_table, metadata, knockdown, normalized
        ``results/de/{contrast}.tsv``, its ``.json``, ``results/knockdown/{contrast}.json`` and
        ``results/de/{contrast}.normalized_counts.tsv``.
    gsea, gene_sets, ranking
        ``results/gsea/{contrast}.tsv``, the run's gene sets (name -> symbols) and the GSEA
        ranking metric (``gsea.ranking``).
    vst : pandas.DataFrame
        ``results/qc/vst_design.tsv``.
    samples : pandas.DataFrame
        The sample sheet.
    out_dir : str or PathLike
        ``results/plots/{contrast}``.
    """
    write_de_plots(de_table, metadata, knockdown, normalized, samples, out_dir)
    write_gsea_plots(de_table, gene_sets, gsea, ranking, metadata["contrast"], out_dir)
    write_leading_edge_plot(de_table, gsea, vst, metadata, samples, os.path.join(out_dir, "er_leading_edge"))
