"""One summary across contrasts (and datasets): a table of every verdict, a heatmap of the ER
targets' fold changes and a forest plot of each contrast's direct-target effect.

All are built from the verdict JSONs alone (``results/verdict/{contrast}.json``), which carry
every number they show, so the summary needs no other step's output. Over several datasets the
table gains a ``dataset`` column, the heatmap groups its columns by dataset, and the ``compare:``
groups are pooled (:mod:`knockseq.compare`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from knockseq.compare import compare
from knockseq.io import write_tsv
from knockseq.plots.style import write_figure
from knockseq.plots.summary import forest, heatmap
from knockseq.verdict import EARLY, ESR1, LATE

#: Leading columns of ``results/summary/verdicts.tsv``; one ``log2FC_<gene>`` column per ER core
#: gene follows.
SUMMARY_COLUMNS = [
    "contrast",
    "verdict",
    "strength",
    "er_call",
    "sentence",
    "er_expressed",
    "ESR1_CPM",
    "signature",
    "direct_targets",
    "direct_t",
    "direct_pvalue",
    "direct_fdr",
    "direct_mean_log2FC",
    "direct_ci_low",
    "direct_ci_high",
    "knockdown",
    "knockdown_remaining",
    "EARLY_NES",
    "EARLY_FDR",
    "LATE_NES",
    "LATE_FDR",
    "er_sets_rank",
    "other_sets_same_direction",
    "global_shift",
    "ESR1_log2FC",
    "ESR1_padj",
    "ESR1_call",
]


def summarise(
    verdicts: Sequence[dict[str, Any]], datasets: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cross-contrast table and the ER target log2FC matrix.

    Parameters
    ----------
    verdicts : sequence of dict
        One verdict (:func:`knockseq.verdict.decide`) per contrast, in config order.
    datasets : sequence of str, optional
        The dataset of each verdict, for a run over several datasets: the table then starts
        with a ``dataset`` column and the matrix's columns are ``dataset/contrast``.

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
        has no statistic), index ``gene``: genes are symbols, so datasets keyed by other ids
        (Ensembl in one, Entrez in another) line up.
    """
    rows, columns = [], {}
    for index, verdict in enumerate(verdicts):
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
                for t in verdict["knockdown"]["targets"]
                if t.get("percent_remaining") is not None
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
        if datasets is not None:
            row = {"dataset": datasets[index], **row}
        rows.append(row)
        columns[_label(verdict, datasets, index)] = genes
    table = pd.DataFrame(rows)
    leading = ["dataset", *SUMMARY_COLUMNS] if datasets is not None else SUMMARY_COLUMNS
    table = table[leading + [c for c in table.columns if c not in leading]]
    log2fc = pd.DataFrame(columns, dtype=float).rename_axis("gene")
    return table, log2fc


def effects(verdicts: Sequence[dict[str, Any]], datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """Each contrast's direct-target effect, as the forest plot draws it.

    Returns
    -------
    pandas.DataFrame
        n_contrasts rows: ``label`` (contrast, or dataset/contrast), ``verdict``, ``mean``,
        ``ci_low``, ``ci_high`` (NaN where the direct targets were not tested).
    """
    rows = []
    for index, verdict in enumerate(verdicts):
        effect = verdict["direct_targets"].get("effect") or {}
        rows.append(
            {
                "label": _label(verdict, datasets, index),
                "verdict": verdict["verdict"],
                "mean": effect.get("mean_log2FoldChange", np.nan),
                "ci_low": effect.get("ci_low", np.nan),
                "ci_high": effect.get("ci_high", np.nan),
            }
        )
    return pd.DataFrame(rows, columns=["label", "verdict", "mean", "ci_low", "ci_high"]).astype(
        {"mean": float, "ci_low": float, "ci_high": float}
    )


def _label(verdict: dict[str, Any], datasets: Sequence[str] | None, index: int) -> str:
    return verdict["contrast"] if datasets is None else f"{datasets[index]}/{verdict['contrast']}"


def write_summary(
    verdicts: Sequence[dict[str, Any]],
    out: str | os.PathLike,
    *,
    datasets: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> None:
    """Write the summary folder, atomically: table, heatmap and forest plot (PNG, SVG, TSV each).

    Parameters
    ----------
    verdicts, datasets
        As for :func:`summarise`.
    out : str or PathLike
        The folder: ``results/summary`` (or ``results/{dataset}/summary``). It gets
        ``verdicts.tsv``, ``er_targets_heatmap.{png,svg,tsv}``, ``forest.{png,svg,tsv}`` and,
        with ``groups`` (even none), ``compare.tsv`` and ``compare_members.tsv``.
    groups : mapping, optional
        The ``compare:`` groups (:func:`knockseq.datasets.compare_groups`), pooled below the
        contrasts in the forest plot.
    """
    table, log2fc = summarise(verdicts, datasets)
    write_tsv(table, f"{out}/verdicts.tsv")
    labels = pd.Series(
        {column: f"{column.split('/')[-1]}\n{verdict['verdict']}" for column, verdict in zip(log2fc.columns, verdicts)}
    )
    by_dataset = None if datasets is None else pd.Series(dict(zip(log2fc.columns, datasets)))
    write_figure(heatmap(log2fc, labels, by_dataset), log2fc.reset_index(), f"{out}/er_targets_heatmap")
    per_contrast = effects(verdicts, datasets)
    pooled = None
    if groups is not None:
        keyed = {(dataset, verdict["contrast"]): verdict for dataset, verdict in zip(datasets or [], verdicts)}
        group_table, members = compare(groups, keyed)
        write_tsv(group_table, f"{out}/compare.tsv")
        write_tsv(members, f"{out}/compare_members.tsv")
        pooled = pd.DataFrame(
            {
                "label": [f"{g} (pooled)" for g in group_table["group"]],
                "mean": group_table["pooled_log2FC"],
                "ci_low": group_table["pooled_ci_low"],
                "ci_high": group_table["pooled_ci_high"],
            }
        ).astype({"mean": float, "ci_low": float, "ci_high": float})
    values = per_contrast if pooled is None else pd.concat([per_contrast, pooled.assign(verdict="pooled")])
    write_figure(forest(per_contrast, pooled), values.reset_index(drop=True), f"{out}/forest")
