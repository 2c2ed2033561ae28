"""The verdict's evidence besides the direct targets: the hallmark sets, where ER stands among
them, ESR1's own change and the knockdown, each summarised with the call the rule reads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from knockseq.enrichment import one_id_per_symbol
from knockseq.genesets import ER_CORE_SET
from knockseq.verdict.direct import ESR1, gene_evidence

EARLY = "HALLMARK_ESTROGEN_RESPONSE_EARLY"
LATE = "HALLMARK_ESTROGEN_RESPONSE_LATE"
HALLMARK_ER_SETS = (EARLY, LATE)
ER_SETS = (EARLY, LATE, ER_CORE_SET)


def set_evidence(gsea: pd.DataFrame, name: str, fdr: float) -> dict[str, Any]:
    """GSEA statistics and call of one ER set, or why it was not tested."""
    rows = gsea[gsea["gene_set"] == name]
    if rows.empty:
        return {
            "status": "absent",
            "call": None,
            "note": "not in any loaded gene-set collection (not configured, or unavailable)",
        }
    row = rows.iloc[0]
    info: dict[str, Any] = {
        "status": "tested",
        "collection": row["collection"],
        "set_size": int(row["set_size"]),
        "matched_size": int(row["matched_size"]),
    }
    if pd.isna(row["NES"]) or pd.isna(row["fdr"]):
        info.update(
            status="not_tested",
            call=None,
            note=f"{info['matched_size']} of its {info['set_size']} genes are in the data, outside the "
            "GSEA set-size limits (gsea.min_size, gsea.max_size)",
        )
        return info
    nes, q = float(row["NES"]), float(row["fdr"])
    call = "ns"
    if q < fdr:
        call = "down" if nes < 0 else "up"
    edge = row["leading_edge"]
    info.update(
        call=call,
        NES=nes,
        ES=float(row["ES"]),
        pvalue=float(row["pvalue"]),
        fdr=q,
        leading_edge=edge.split(",") if isinstance(edge, str) and edge else [],
    )
    tested_in_collection = gsea[(gsea["collection"] == row["collection"]) & gsea["NES"].notna()]
    if len(tested_in_collection) == 1:
        info["fdr_note"] = "the only tested set of its collection: its FDR is its nominal p-value"
    return info


def signature_call(sets: dict[str, dict[str, Any]]) -> str | None:
    """``down``, ``up``, ``ns`` or ``conflict`` from the tested hallmark ER sets; None if none was tested."""
    calls = {sets[n]["call"] for n in HALLMARK_ER_SETS if sets[n]["status"] == "tested"}
    if not calls:
        return None
    significant = calls - {"ns"}
    if len(significant) > 1:
        return "conflict"
    return significant.pop() if significant else "ns"


def specificity(gsea: pd.DataFrame, signature: str | None, fdr: float, share: float) -> dict[str, Any]:
    """Where the ER sets stand among all tested sets of the hallmark collection.

    Returns
    -------
    dict
        ``collection``, ``n_sets_tested``, ``direction`` (the signature's, or the sign of EARLY's
        NES when not significant), ``ranks`` (ER set -> rank by NES in that direction, 1 = most
        extreme), ``n_other_same_direction`` and ``n_other_opposite_direction`` (other sets with
        FDR < fdr), ``share_other_same_direction``, ``er_leads`` (an ER set ranks in the top half
        of all sets significant in that direction) and ``global_shift`` (a significant signature,
        at least ``share`` of the other sets moving with it, and ER not leading them); only a
        ``note`` when no hallmark ER set was tested.
    """
    er_rows = gsea[gsea["gene_set"].isin(HALLMARK_ER_SETS) & gsea["NES"].notna()]
    if er_rows.empty:
        return {"note": "no hallmark estrogen-response set was tested."}
    collection = er_rows["collection"].iloc[0]
    tested = gsea[(gsea["collection"] == collection) & gsea["NES"].notna()]
    if signature in ("down", "up"):
        direction = signature
    else:
        direction = "down" if er_rows["NES"].iloc[0] < 0 else "up"
    sign = -1.0 if direction == "down" else 1.0
    order = tested.assign(_key=-sign * tested["NES"]).sort_values(["_key", "gene_set"], kind="mergesort")
    ranks = {
        name: int(np.flatnonzero(order["gene_set"].to_numpy() == name)[0]) + 1
        for name in HALLMARK_ER_SETS
        if name in set(order["gene_set"])
    }
    others = tested[~tested["gene_set"].isin(HALLMARK_ER_SETS) & (tested["fdr"] < fdr)]
    same = int((np.sign(others["NES"]) == sign).sum())
    n_others = len(tested) - len(ranks)
    share_same = same / n_others if n_others else 0.0
    # ER leads the sets that moved when an ER set ranks in their top half; estradiol itself
    # drives proliferation sets (E2F, G2M, MYC targets), so breadth alone is not a global shift.
    moved = same + sum(1 for name in ranks if tested.loc[tested["gene_set"] == name, "fdr"].iloc[0] < fdr)
    leads = bool(ranks) and min(ranks.values()) <= math.ceil(moved / 2)
    return {
        "collection": collection,
        "n_sets_tested": int(len(tested)),
        "direction": direction,
        "ranks": ranks,
        "n_other_same_direction": same,
        "n_other_opposite_direction": int(len(others) - same),
        "share_other_same_direction": share_same,
        "er_leads": leads,
        "global_shift": bool(signature in ("down", "up") and n_others > 0 and share_same >= share and not leads),
    }


def esr1_evidence(de_table: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """ESR1's own log2FC, padj, % remaining and call (``down``/``up`` at padj < alpha, else ``unchanged``;
    None when ESR1 is absent or was not tested)."""
    evidence = gene_evidence(one_id_per_symbol(de_table), ESR1)
    if not evidence["in_data"]:
        return {**evidence, "call": None}
    lfc, padj = evidence["log2FoldChange"], evidence["padj"]
    if lfc is None:
        return {**evidence, "percent_remaining": None, "call": None, "alpha": alpha}
    call = "unchanged"
    if padj is not None and padj < alpha:
        call = "down" if lfc < 0 else "up"
    remaining = 100 * 2**lfc
    return {**evidence, "percent_remaining": remaining, "call": call, "alpha": alpha}


def knockdown_evidence(knockdown: dict[str, Any]) -> dict[str, Any]:
    """The knockdown status and per-target numbers, without the per-sample counts."""
    targets = [{k: v for k, v in target.items() if k != "normalized_counts"} for target in knockdown["targets"]]
    return {
        "status": knockdown["status"],
        "note": knockdown.get("note"),
        "test": knockdown.get("test"),
        "targets": targets,
    }
