"""Contrasts that ask the same question across datasets (``compare:``), side by side and pooled.

A group such as ``calcineurin_loss: [mcf7/siPPP3CA, t47d/siPPP3CA, mcf7/FK506]`` gets, from the
members' verdicts alone:

- each member's verdict, its direct ER targets' mean log2 fold change with its interval, and the
  hallmark EARLY/LATE NES side by side (``results/summary/compare_members.tsv``);
- a random-effects estimate of the direct-target effect (:func:`knockseq.meta.random_effects`,
  REML, as ``metafor::rma``) with its interval and heterogeneity (tau², I², Cochran's Q), and a
  one-line group verdict that says whether the members agree (``results/summary/compare.tsv``).

The members agree when they all got the same verdict. When some are ``inconclusive`` and the
others agree, the group is ``partly inconclusive``: a contrast that cannot answer (its cells lack
the ER program, say) neither confirms nor contradicts the others. Otherwise they disagree. The
pooled estimate is reported whatever the agreement, with I² saying how much the members' effects
differ beyond their sampling error; I² of 50% or more is stated in the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from knockseq.meta import random_effects
from knockseq.verdict import EARLY, LATE

#: I² (percent) from which the line says the members' effects differ in size.
HETEROGENEOUS_I2 = 50.0

#: Columns of ``compare.tsv``.
GROUP_COLUMNS = [
    "group",
    "agreement",
    "verdicts",
    "n_contrasts",
    "n_pooled",
    "pooled_log2FC",
    "pooled_se",
    "pooled_ci_low",
    "pooled_ci_high",
    "pooled_pvalue",
    "tau2",
    "I2",
    "Q",
    "Q_pvalue",
    "line",
]
#: Columns of ``compare_members.tsv``.
MEMBER_COLUMNS = [
    "group",
    "dataset",
    "contrast",
    "verdict",
    "strength",
    "direct_mean_log2FC",
    "direct_se",
    "direct_ci_low",
    "direct_ci_high",
    "EARLY_NES",
    "EARLY_FDR",
    "LATE_NES",
    "LATE_FDR",
]


def compare(
    groups: Mapping[str, Sequence[tuple[str, str]]], verdicts: Mapping[tuple[str, str], Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pool each group's direct-target effects and say whether its members agree.

    Parameters
    ----------
    groups : mapping
        Group name -> its members as (dataset, contrast), from
        :func:`knockseq.datasets.compare_groups`.
    verdicts : mapping
        (dataset, contrast) -> that contrast's verdict (``results/{dataset}/verdict/{contrast}.json``).

    Returns
    -------
    groups : pandas.DataFrame
        One row per group (n_groups x :data:`GROUP_COLUMNS`), in config order.
    members : pandas.DataFrame
        One row per member (n_members x :data:`MEMBER_COLUMNS`).
    """
    group_rows, member_rows = [], []
    for group, members in groups.items():
        rows = [_member(group, dataset, contrast, verdicts[dataset, contrast]) for dataset, contrast in members]
        member_rows += rows
        group_rows.append(_group(group, rows))
    return (pd.DataFrame(group_rows, columns=GROUP_COLUMNS), pd.DataFrame(member_rows, columns=MEMBER_COLUMNS))


def agreement(calls: Sequence[str]) -> str:
    """``agree``, ``partly inconclusive`` or ``disagree``, from the members' verdicts."""
    if len(set(calls)) == 1:
        return "agree"
    decisive = {call for call in calls if call != "inconclusive"}
    return "partly inconclusive" if len(decisive) == 1 else "disagree"


def _member(group: str, dataset: str, contrast: str, verdict: Mapping[str, Any]) -> dict[str, Any]:
    """One member's row: its verdict, direct-target effect and hallmark NES."""
    effect = verdict["direct_targets"].get("effect") or {}
    sets = verdict["gene_sets"]
    return {
        "group": group,
        "dataset": dataset,
        "contrast": contrast,
        "verdict": verdict["verdict"],
        "strength": verdict["strength"],
        "direct_mean_log2FC": effect.get("mean_log2FoldChange"),
        "direct_se": effect.get("se"),
        "direct_ci_low": effect.get("ci_low"),
        "direct_ci_high": effect.get("ci_high"),
        "EARLY_NES": sets[EARLY].get("NES"),
        "EARLY_FDR": sets[EARLY].get("fdr"),
        "LATE_NES": sets[LATE].get("NES"),
        "LATE_FDR": sets[LATE].get("fdr"),
    }


def _group(group: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A group's pooled estimate, agreement and line."""
    calls = [row["verdict"] for row in rows]
    status = agreement(calls)
    counts = ", ".join(f"{calls.count(call)} {call}" for call in dict.fromkeys(calls))
    pooled = [row for row in rows if row["direct_se"] is not None and row["direct_se"] > 0]
    result: dict[str, Any] = {
        "group": group,
        "agreement": status,
        "n_contrasts": len(rows),
        "n_pooled": len(pooled),
        "verdicts": "; ".join(f"{r['dataset']}/{r['contrast']} {r['verdict']}" for r in rows),
    }
    line = f"{group}: the {len(rows)} contrasts {_agreement_words(status)} ({counts})"
    if pooled:
        fit = random_effects(
            np.array([r["direct_mean_log2FC"] for r in pooled]), np.array([r["direct_se"] for r in pooled]) ** 2
        )
        result.update(
            pooled_log2FC=fit.estimate,
            pooled_se=fit.se,
            pooled_ci_low=fit.ci_low,
            pooled_ci_high=fit.ci_high,
            pooled_pvalue=fit.pvalue,
            tau2=fit.tau2,
            I2=fit.i2,
            Q=fit.q,
            Q_pvalue=fit.q_pvalue,
        )
        line += (
            f"; pooled direct ER targets log2FC {fit.estimate:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}] "
            f"(random effects, {fit.k} contrast{'s' if fit.k > 1 else ''}, I2 {fit.i2:.0f}%, tau2 {fit.tau2:.3g})"
        )
        if fit.k > 1 and fit.i2 >= HETEROGENEOUS_I2:
            line += ": their effects differ in size"
    else:
        line += "; no contrast has a direct-target effect to pool"
    result["line"] = line
    return result


def _agreement_words(status: str) -> str:
    return {"agree": "agree", "partly inconclusive": "agree where they can answer", "disagree": "disagree"}[status]
