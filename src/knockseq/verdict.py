"""The verdict: are estrogen-receptor (ER) target genes suppressed in this contrast?

Decided from three ER gene sets in the GSEA table, with the knockdown check and everything needed
to audit the call (set statistics, the ER core genes' fold changes, gene-set provenance,
software versions) written beside it in ``results/verdict/{contrast}.json``.
"""

from __future__ import annotations

import math
import os
import platform
from importlib import metadata
from typing import Any

import pandas as pd

from knockseq.enrichment import gene_level
from knockseq.genesets import ER_CORE_SET, er_core_genes
from knockseq.io import write_json

EARLY = "HALLMARK_ESTROGEN_RESPONSE_EARLY"
LATE = "HALLMARK_ESTROGEN_RESPONSE_LATE"
HALLMARK_ER_SETS = (EARLY, LATE)
ER_SETS = (EARLY, LATE, ER_CORE_SET)
VERDICTS = ("suppressed", "activated", "unchanged", "inconclusive")

RULE = (
    "Each ER set tested by GSEA is 'down' (NES < 0 and FDR < fdr), 'up' (NES > 0 and FDR < fdr) "
    "or 'ns'. A failed knockdown -> inconclusive. No ER set tested -> inconclusive. Sets "
    "significant in both directions -> inconclusive. When a hallmark estrogen-response set "
    "(EARLY/LATE) was tested, the hallmark sets decide: one 'down' -> suppressed, one 'up' -> "
    "activated; all 'ns' -> unchanged, unless the ER core set alone is significant -> "
    "inconclusive. Without a tested hallmark set the ER core set alone decides."
)

_SOFTWARE = ("knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy")


def decide(
    gsea: pd.DataFrame,
    knockdown: dict[str, Any] | None,
    de_table: pd.DataFrame,
    provenance: list[dict[str, Any]],
    *,
    fdr: float = 0.05,
    contrast: str | None = None,
    de_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decide whether ER targets are suppressed, activated, unchanged, or the data cannot say.

    The rule, from the ER sets ``HALLMARK_ESTROGEN_RESPONSE_EARLY``, ``_LATE`` (MSigDB) and
    ``KNOCKSEQ_ER_CORE`` (bundled, see ``data/er_core.md``):

    1. Each set GSEA tested is called ``down`` (NES < 0 and FDR < ``fdr``), ``up`` (NES > 0 and
       FDR < ``fdr``) or ``ns``. A set is untested when its collection was not configured or
       was unavailable, or when too few of its genes are in the data.
    2. A ``failed`` knockdown makes the verdict ``inconclusive``: without the perturbation,
       changes in ER targets say nothing about it. (A ``weak`` knockdown is stated but does
       not change the verdict.) The call the ER sets alone would give is kept as ``er_call``.
    3. No ER set tested -> ``inconclusive``.
    4. Sets significant in opposite directions -> ``inconclusive``: the data disagree with
       themselves, so neither direction is claimed.
    5. If a hallmark set was tested, the hallmark sets decide, because they are the
       community-standard, pre-specified readout: any ``down`` -> ``suppressed``, any ``up`` ->
       ``activated``. If both are ``ns`` the verdict is ``unchanged``, except when the ER core
       set alone is significant, which is ``inconclusive`` (a 19-gene set disagreeing with two
       200-gene sets is a lead, not a result).
    6. If no hallmark set was tested (e.g. MSigDB offline), the ER core set alone decides the same
       way, and ``decided_by`` says so.

    ``unchanged`` means no significant change was detected at this FDR, not that the targets
    are proven unchanged.

    Parameters
    ----------
    gsea : DataFrame
        Output of :func:`knockseq.enrichment.run_gsea` (``gene_set``, ``NES``, ``fdr`` ...).
    knockdown : dict or None
        ``results/knockdown/{contrast}.json`` as a dict (``status``, ``targets``); None when the
        contrast has no knockdown to check (e.g. a treatment), stated as "not assessed".
    de_table : DataFrame
        The contrast's DE table; the ER core genes' log2FoldChange and padj are taken from it.
    provenance : list of dict
        Gene-set provenance (:attr:`knockseq.genesets.GeneSetCollection.provenance`).
    fdr : float
        FDR below which an ER set counts as significant.
    contrast : str, optional
        Contrast name; defaults to ``knockdown["contrast"]``.
    de_settings : dict, optional
        How the DE table was computed (``results/de/{contrast}.json``: compat mode, alpha,
        design ...), recorded as ``de`` so the verdict states the statistics it rests on.

    Returns
    -------
    dict
        ``verdict`` (one of :data:`VERDICTS`), ``er_call``, ``decided_by``, ``reasons``,
        ``summary`` (see :func:`summary_line`), ``rule``, ``thresholds``, ``gene_sets`` (per ER
        set: status, call, NES, ES, pvalue, fdr, sizes, leading edge), ``er_core_genes``,
        ``knockdown``, ``provenance`` and ``software``.
    """
    if contrast is None:
        contrast = (knockdown or {}).get("contrast", "contrast")
    sets = {name: _set_evidence(gsea, name, fdr) for name in ER_SETS}
    er_call, decided_by, reasons = _er_call(sets)
    for entry in provenance:
        if entry.get("status") == "unavailable":
            reasons.append(f"gene-set collection '{entry['name']}' {entry.get('version')} was unavailable.")
    kd_status = (knockdown or {}).get("status", "not assessed")
    verdict = er_call
    if kd_status == "failed":
        verdict = "inconclusive"
        reasons.insert(0, f"the knockdown failed ({_targets_text(knockdown)}), so the ER call '{er_call}' cannot be "
                          "attributed to it.")
    elif kd_status == "weak":
        reasons.append(f"the knockdown was weak ({_targets_text(knockdown)}).")
    result = {
        "contrast": contrast,
        "verdict": verdict,
        "er_call": er_call,
        "decided_by": decided_by,
        "reasons": reasons,
        "rule": RULE,
        "thresholds": {"fdr": fdr},
        "gene_sets": sets,
        "er_core_genes": _core_gene_evidence(de_table),
        "knockdown": _knockdown_evidence(knockdown, kd_status),
        "provenance": provenance,
        "software": software_versions(),
        "de": de_settings,
    }
    result["summary"] = summary_line(result)
    return result


def summary_line(verdict: dict[str, Any]) -> str:
    """The verdict in one line for people.

    For example ``kd_vs_ctrl: ER targets SUPPRESSED (HALLMARK_ESTROGEN_RESPONSE_EARLY NES -2.10,
    FDR 0.001; ...); knockdown effective``. An FDR of 0 (no permutation as extreme as the data)
    is written ``~0``.
    """
    parts = []
    for name, info in verdict["gene_sets"].items():
        if info["status"] == "tested":
            parts.append(f"{name} NES {info['NES']:.2f}, FDR {_fmt_p(info['fdr'])}")
        else:
            parts.append(f"{name} not tested")
    head = f"{verdict['contrast']}: ER targets {verdict['verdict'].upper()}"
    if verdict["verdict"] == "inconclusive" and verdict["reasons"]:
        head += f" - {verdict['reasons'][0].rstrip('.')}"
    return f"{head} ({'; '.join(parts)}); knockdown {verdict['knockdown']['status']}"


def write_verdict(verdict: dict[str, Any], path: str | os.PathLike) -> None:
    """Write the verdict dict as ``results/verdict/{contrast}.json`` (atomic, key-sorted)."""
    write_json(verdict, path)


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages behind a verdict."""
    versions = {"python": platform.python_version()}
    for package in _SOFTWARE:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _set_evidence(gsea: pd.DataFrame, name: str, fdr: float) -> dict[str, Any]:
    """Statistics and call of one ER set, or why it was not tested."""
    rows = gsea[gsea["gene_set"] == name]
    if rows.empty:
        return {"status": "absent", "call": None,
                "note": "not in any loaded gene-set collection (not configured, or unavailable)"}
    row = rows.iloc[0]
    info = {
        "status": "tested", "collection": row["collection"], "set_size": int(row["set_size"]),
        "matched_size": int(row["matched_size"]),
    }
    if pd.isna(row["NES"]) or pd.isna(row["fdr"]):
        info.update(status="not_tested", call=None,
                    note=f"only {info['matched_size']} of its {info['set_size']} genes are in the data, "
                         "outside the GSEA set-size limits")
        return info
    nes, q = float(row["NES"]), float(row["fdr"])
    call = "ns"
    if q < fdr:
        call = "down" if nes < 0 else "up"
    edge = row["leading_edge"]
    info.update(call=call, NES=nes, ES=float(row["ES"]), pvalue=float(row["pvalue"]), fdr=q,
                leading_edge=edge.split(",") if isinstance(edge, str) and edge else [])
    return info


def _er_call(sets: dict[str, dict[str, Any]]) -> tuple[str, list[str], list[str]]:
    """Verdict from the ER sets alone (steps 3-6 of :func:`decide`), the sets it rests on, and why."""
    tested = [n for n in ER_SETS if sets[n]["status"] == "tested"]
    if not tested:
        return "inconclusive", [], ["no ER gene set could be tested."]
    calls = {n: sets[n]["call"] for n in tested}
    significant = {n: c for n, c in calls.items() if c != "ns"}
    if len(set(significant.values())) > 1:
        listed = ", ".join(f"{n} {c}" for n, c in significant.items())
        return "inconclusive", tested, [f"ER sets are significant in opposite directions ({listed})."]
    hallmark = [n for n in HALLMARK_ER_SETS if n in tested]
    deciders = hallmark or [ER_CORE_SET]
    reasons = [] if hallmark else ["no hallmark estrogen-response set was tested; the ER core set alone decides."]
    decisive = {calls[n] for n in deciders} - {"ns"}
    if decisive:
        direction = decisive.pop()
        return ("suppressed" if direction == "down" else "activated"), deciders, reasons
    if significant:
        only = ", ".join(f"{n} {c}" for n, c in significant.items())
        return "inconclusive", tested, reasons + [f"only the ER core set is significant ({only}); "
                                                   "the hallmark estrogen-response sets are not."]
    return "unchanged", deciders, reasons


def _core_gene_evidence(de_table: pd.DataFrame) -> list[dict[str, Any]]:
    """log2FoldChange and padj of each ER core gene (the gene id GSEA used for the symbol)."""
    genes = gene_level(de_table)
    evidence = []
    for symbol in er_core_genes():
        if symbol not in genes.index:
            evidence.append({"gene": symbol, "in_data": False})
            continue
        row = genes.loc[symbol]
        evidence.append({
            "gene": symbol, "in_data": True, "gene_id": row["gene_id"], "baseMean": _num(row.get("baseMean")),
            "log2FoldChange": _num(row["log2FoldChange"]), "padj": _num(row.get("padj")), "stat": _num(row["stat"]),
        })
    return evidence


def _knockdown_evidence(knockdown: dict[str, Any] | None, status: str) -> dict[str, Any]:
    """The knockdown status and per-target numbers, without the per-sample counts."""
    targets = [
        {k: v for k, v in target.items() if k != "normalized_counts"} for target in (knockdown or {}).get("targets", [])
    ]
    return {"status": status, "targets": targets}


def _targets_text(knockdown: dict[str, Any] | None) -> str:
    """'PPP3CA 94% remaining, PPP3CB ...' for the reasons."""
    texts = []
    for target in (knockdown or {}).get("targets", []):
        name = target.get("gene_name") or target.get("gene")
        remaining = target.get("percent_remaining")
        detail = f"{remaining:.0f}% remaining" if _is_number(remaining) else target.get("status")
        texts.append(f"{name} {detail}")
    return ", ".join(texts) or "no target details"


def _fmt_p(value: float) -> str:
    """Compact p/FDR text; 0 from a permutation test is below its resolution, hence '~0'."""
    return "~0" if value == 0 else f"{value:.2g}"


def _num(value: Any) -> float | None:
    """A float for JSON, None when missing."""
    return float(value) if _is_number(value) else None


def _is_number(value: Any) -> bool:
    """True for a finite real number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
