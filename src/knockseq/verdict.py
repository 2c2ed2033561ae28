"""The verdict: are estrogen-receptor (ER) target genes suppressed in this contrast?

Two independent readouts must agree before knockseq says ``suppressed`` or ``activated``:

- the **genome-wide signature**: MSigDB's HALLMARK_ESTROGEN_RESPONSE_EARLY and _LATE (200 genes
  each), tested by preranked GSEA with an FDR over the hallmark collection;
- the **direct ER targets**: the bundled ER core set (``data/er_core.md``, genes whose induction
  was traced to ERalpha itself), tested with CAMERA (:mod:`knockseq.camera`), a competitive test
  that corrects for the correlation between co-regulated genes.

A broad change in growth or secretion shifts the 200-gene hallmark sets without touching ER's
direct targets; requiring both is what makes the call specific. The decision rule is
:func:`rule`; :func:`decide` gathers the evidence (set statistics, the direct targets' own fold
changes, the ER sets' rank among all hallmark sets, ESR1's own change, the knockdown check,
gene-set provenance, software versions) and writes it beside the call.
"""

from __future__ import annotations

import math
import os
import platform
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from knockseq.camera import camera
from knockseq.design import sample_design
from knockseq.enrichment import gene_level
from knockseq.genesets import ER_CORE_SET, er_core_genes
from knockseq.io import write_json

EARLY = "HALLMARK_ESTROGEN_RESPONSE_EARLY"
LATE = "HALLMARK_ESTROGEN_RESPONSE_LATE"
HALLMARK_ER_SETS = (EARLY, LATE)
ER_SETS = (EARLY, LATE, ER_CORE_SET)
VERDICTS = ("suppressed", "activated", "unchanged", "inconclusive")
#: How much the evidence behind a verdict holds: both readouts agree and ER stands out
#: (``strong``); both agree amid a global shift of other hallmark sets (``global shift``); only
#: one readout moved (``signature only``, ``direct targets only``); nothing moved or nothing
#: could be said (``none``).
STRENGTHS = ("strong", "global shift", "signature only", "direct targets only", "none")
#: The gene whose own mRNA is reported beside the targets.
ESR1 = "ESR1"
#: Fewest ER core genes with a Wald statistic for the direct-target test: below this the set's
#: mean says little and the correlation estimate is meaningless.
MIN_DIRECT_GENES = 5

RULE = (
    "The hallmark signature is 'down' or 'up' when EARLY and/or LATE has GSEA FDR < fdr in that "
    "direction (both directions: 'conflict'); the direct ER targets are 'down' or 'up' when the ER "
    "core set's CAMERA p < fdr. A failed knockdown -> inconclusive. Signature and direct targets in "
    "the same direction -> suppressed/activated (strength 'global shift' when at least "
    "global_shift_share of the other hallmark sets moved the same way and no ER set ranks in the top "
    "half of the sets that moved, else 'strong'); without "
    "hallmark sets the direct targets decide alone ('direct targets only'). Only one of the two "
    "significant -> inconclusive ('signature only' / 'direct targets only'). Opposite directions or "
    "a conflict -> inconclusive. Neither significant -> unchanged. Nothing testable -> inconclusive."
)

_SOFTWARE = ("knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy")


def direct_target_test(
    de_table: pd.DataFrame, normalized_counts: pd.DataFrame, samples: pd.DataFrame, de_settings: dict[str, Any]
) -> dict[str, Any]:
    """CAMERA test of the ER core set in one contrast.

    Parameters
    ----------
    de_table : pandas.DataFrame
        The contrast's DE table (gene_id, gene_name, baseMean, log2FoldChange, stat, padj).
    normalized_counts : pandas.DataFrame
        ``results/de/{contrast}.normalized_counts.tsv``: gene_id, gene_name, one column per
        sample of the fit.
    samples : pandas.DataFrame
        The sample sheet.
    de_settings : dict
        ``results/de/{contrast}.json``: ``variable`` and ``design`` (covariates) give the model
        whose residuals estimate the inter-gene correlation.

    Returns
    -------
    dict
        ``status`` (``tested`` or ``not_tested`` with a ``note``), ``set``, ``test``, the
        :class:`~knockseq.camera.CameraResult` fields, and ``genes``: per ER core gene its
        gene_id, baseMean, log2FoldChange, padj and stat (or ``in_data: false``).
    """
    genes = gene_level(de_table)
    core = er_core_genes()
    result: dict[str, Any] = {
        "set": ER_CORE_SET,
        "test": "CAMERA: competitive, inter-gene correlation from the model's residuals (knockseq.camera)",
        "genes": [_gene_evidence(genes, symbol) for symbol in core],
    }
    present = [g for g in core if g in genes.index]
    if len(present) < MIN_DIRECT_GENES:
        result.update(status="not_tested", call=None,
                      note=f"only {len(present)} of the {len(core)} ER core genes have a statistic "
                           f"(at least {MIN_DIRECT_GENES} are needed); check the gene ids map to human symbols.")
        return result
    columns = [c for c in normalized_counts.columns if c not in ("gene_id", "gene_name")]
    sheet = samples.set_index("sample").loc[columns].reset_index()
    _, matrix, _ = sample_design(sheet, [*de_settings["design"], de_settings["variable"]])
    expression = np.log2(normalized_counts.set_index("gene_id")[columns].astype(float) + 1)
    log_expression = expression.loc[genes["gene_id"].to_numpy()].set_axis(genes.index)
    test = camera(genes["stat"].astype(float), log_expression, matrix.to_numpy(), present)
    result.update(status="tested", **test.as_dict())
    return result


def rule(
    signature: str | None, direct: str | None, knockdown: str, global_shift: bool
) -> tuple[str, str, str, list[str]]:
    """The decision rule (:data:`RULE`): verdict, strength and the reasons for both.

    Parameters
    ----------
    signature : {"down", "up", "ns", "conflict"} or None
        Call of the hallmark estrogen-response sets; None when no hallmark set was tested.
    direct : {"down", "up", "ns"} or None
        Call of the direct ER targets (CAMERA on the ER core set); None when not tested.
    knockdown : str
        The knockdown status: ``effective``, ``weak``, ``failed`` or ``not assessed``.
    global_shift : bool
        True when at least ``global_shift_share`` of the other hallmark sets are significant
        in the signature's direction.

    Returns
    -------
    verdict : str
        One of :data:`VERDICTS`.
    er_call : str
        The verdict the ER evidence gives before the knockdown check.
    strength : str
        One of :data:`STRENGTHS` (``none`` when a failed knockdown voids the call).
    reasons : list of str
        Why, in order of weight.
    """
    reasons: list[str] = []
    moved = {"down": "suppressed", "up": "activated"}
    if signature is None and direct is None:
        verdict, strength = "inconclusive", "none"
        reasons.append("no ER gene set could be tested.")
    elif signature == "conflict":
        verdict, strength = "inconclusive", "none"
        reasons.append("the hallmark estrogen-response sets are significant in opposite directions.")
    elif signature is None:
        verdict = moved.get(direct, "unchanged")
        strength = "direct targets only" if direct in moved else "none"
        reasons.append("no hallmark estrogen-response set was tested; the direct ER targets decide alone.")
    elif direct is None:
        verdict, strength = "inconclusive", "signature only" if signature in moved else "none"
        reasons.append("the direct ER targets could not be tested, and the hallmark sets alone are not specific to ER.")
    elif signature in moved and direct in moved and signature != direct:
        verdict, strength = "inconclusive", "none"
        reasons.append(f"the hallmark sets went {signature} but the direct ER targets went {direct}.")
    elif signature in moved and direct == signature:
        verdict = moved[signature]
        strength = "global shift" if global_shift else "strong"
        if global_shift:
            reasons.append("many other hallmark sets moved the same way: ER targets changed within a global shift, "
                           "not specifically.")
    elif signature in moved:
        verdict, strength = "inconclusive", "signature only"
        reasons.append("hallmark sets shifted but the direct ER targets did not.")
    elif direct in moved:
        verdict, strength = "inconclusive", "direct targets only"
        reasons.append("the direct ER targets moved but the hallmark estrogen-response sets did not.")
    else:
        verdict, strength = "unchanged", "none"
    er_call = verdict
    if knockdown == "failed":
        reasons.insert(0, f"the knockdown failed, so the ER call '{er_call}' cannot be attributed to it.")
        verdict, strength = "inconclusive", "none"
    elif knockdown == "weak":
        reasons.append("the knockdown was weak.")
    return verdict, er_call, strength, reasons


def decide(
    gsea: pd.DataFrame,
    knockdown: dict[str, Any],
    de_table: pd.DataFrame,
    provenance: list[dict[str, Any]],
    direct: dict[str, Any],
    *,
    fdr: float,
    global_shift_share: float,
    contrast: str,
    de_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decide whether ER targets are suppressed, activated, unchanged, or the data cannot say.

    ``unchanged`` means no significant change was detected at this FDR, not that the targets
    are proven unchanged.

    Parameters
    ----------
    gsea : pandas.DataFrame
        Output of :func:`knockseq.enrichment.run_gsea` (``gene_set``, ``collection``, ``NES``,
        ``fdr`` ...).
    knockdown : dict
        ``results/knockdown/{contrast}.json`` (``status``, ``targets``, ``thresholds``).
    de_table : pandas.DataFrame
        The contrast's DE table, for ESR1's own change.
    provenance : list of dict
        Gene-set provenance (:attr:`knockseq.genesets.GeneSetCollection.provenance`).
    direct : dict
        :func:`direct_target_test`'s result.
    fdr : float
        Significance level of both readouts (hallmark GSEA FDR, CAMERA p of the one
        pre-specified direct-target test).
    global_shift_share : float
        Share of the other tested hallmark sets that, significant in the signature's
        direction, makes a concordant call a ``global shift``.
    contrast : str
        Contrast name.
    de_settings : dict, optional
        ``results/de/{contrast}.json``, recorded as ``de`` (compat mode, design, dispersion
        trend ...) so the verdict states the statistics it rests on.

    Returns
    -------
    dict
        ``verdict``, ``strength``, ``er_call`` (the verdict the ER evidence gives before the
        knockdown check), ``reasons``, ``summary``, ``rule``, ``thresholds``, ``gene_sets``
        (per ER set: GSEA statistics), ``signature``, ``direct_targets``, ``specificity``,
        ``esr1``, ``knockdown``, ``provenance``, ``software`` and ``de``.
    """
    sets = {name: _set_evidence(gsea, name, fdr) for name in ER_SETS}
    signature = _signature_call(sets)
    direct_call = None
    if direct["status"] == "tested":
        direct_call = direct["direction"] if direct["pvalue"] < fdr else "ns"
    direct = {**direct, "call": direct_call}
    specificity = _specificity(gsea, signature, fdr, global_shift_share)
    verdict, er_call, strength, reasons = rule(
        signature, direct_call, knockdown["status"], specificity.get("global_shift", False)
    )
    for entry in provenance:
        if entry.get("status") == "unavailable":
            reasons.append(f"gene-set collection '{entry['name']}' {entry.get('version')} was unavailable.")
    trend = (de_settings or {}).get("dispersion_trend")
    if trend and trend != "parametric":
        reasons.append(f"the DE dispersion trend is '{trend}' (R would use a local fit there).")
    result = {
        "contrast": contrast,
        "verdict": verdict,
        "strength": strength,
        "er_call": er_call,
        "reasons": reasons,
        "rule": RULE,
        "thresholds": {"fdr": fdr, "global_shift_share": global_shift_share},
        "gene_sets": sets,
        "signature": {"call": signature, "sets": [n for n in HALLMARK_ER_SETS if sets[n]["status"] == "tested"]},
        "direct_targets": direct,
        "specificity": specificity,
        "esr1": _esr1_evidence(de_table, knockdown["thresholds"]["alpha"]),
        "knockdown": _knockdown_evidence(knockdown),
        "provenance": provenance,
        "software": software_versions(),
        "de": de_settings,
    }
    result["summary"] = summary_line(result)
    return result


def build_verdict(
    gsea: pd.DataFrame,
    knockdown: dict[str, Any],
    de_table: pd.DataFrame,
    normalized_counts: pd.DataFrame,
    samples: pd.DataFrame,
    de_settings: dict[str, Any],
    provenance: list[dict[str, Any]],
    *,
    fdr: float,
    global_shift_share: float,
    contrast: str,
) -> dict[str, Any]:
    """The verdict of one contrast from its step outputs: the direct-target test, then :func:`decide`.

    Parameters are those of :func:`direct_target_test` and :func:`decide`.
    """
    direct = direct_target_test(de_table, normalized_counts, samples, de_settings)
    return decide(gsea, knockdown, de_table, provenance, direct, fdr=fdr, global_shift_share=global_shift_share,
                  contrast=contrast, de_settings=de_settings)


def summary_line(verdict: dict[str, Any]) -> str:
    """The verdict in one line for people.

    For example ``kd: ER targets SUPPRESSED [strong] (EARLY NES -2.10, FDR 0.001; LATE NES
    -1.90, FDR 0.004; direct ER targets down, CAMERA p 2e-05; ER sets rank 1, 2 of 50, 1 other
    set down); knockdown effective (PPP3CA 27% remaining, PPP3CB 28% remaining); ESR1 mRNA
    unchanged (log2FC -0.05): the targets fell with ESR1 mRNA unchanged, pointing at ERalpha
    protein or activity``. An FDR of 0 (no permutation as extreme as the data) is written ``~0``.
    """
    parts = []
    for name in HALLMARK_ER_SETS:
        info = verdict["gene_sets"][name]
        short = name.removeprefix("HALLMARK_ESTROGEN_RESPONSE_")
        if info["status"] == "tested":
            parts.append(f"{short} NES {info['NES']:.2f}, FDR {_fmt_p(info['fdr'])}")
        else:
            parts.append(f"{short} not tested")
    direct = verdict["direct_targets"]
    if direct["status"] == "tested":
        parts.append(f"direct ER targets {direct['call']}, CAMERA p {_fmt_p(direct['pvalue'])}")
    else:
        parts.append("direct ER targets not tested")
    spec = verdict["specificity"]
    if spec.get("ranks"):
        ranks = ", ".join(str(r) for r in spec["ranks"].values())
        parts.append(f"ER sets rank {ranks} of {spec['n_sets_tested']}, "
                     f"{spec['n_other_same_direction']} other set(s) {spec['direction']}")
    head = f"{verdict['contrast']}: ER targets {verdict['verdict'].upper()} [{verdict['strength']}]"
    if verdict["verdict"] == "inconclusive" and verdict["reasons"]:
        head += f" - {verdict['reasons'][0].rstrip('.')}"
    knockdown = verdict["knockdown"]
    kd = f"knockdown {knockdown['status']}"
    if knockdown["targets"]:
        kd += f" ({_targets_text(knockdown)})"
    return f"{head} ({'; '.join(parts)}); {kd}; {_esr1_text(verdict)}"


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
    """GSEA statistics and call of one ER set, or why it was not tested."""
    rows = gsea[gsea["gene_set"] == name]
    if rows.empty:
        return {"status": "absent", "call": None,
                "note": "not in any loaded gene-set collection (not configured, or unavailable)"}
    row = rows.iloc[0]
    info: dict[str, Any] = {
        "status": "tested", "collection": row["collection"], "set_size": int(row["set_size"]),
        "matched_size": int(row["matched_size"]),
    }
    if pd.isna(row["NES"]) or pd.isna(row["fdr"]):
        info.update(status="not_tested", call=None,
                    note=f"{info['matched_size']} of its {info['set_size']} genes are in the data, outside the "
                         "GSEA set-size limits (gsea.min_size, gsea.max_size)")
        return info
    nes, q = float(row["NES"]), float(row["fdr"])
    call = "ns"
    if q < fdr:
        call = "down" if nes < 0 else "up"
    edge = row["leading_edge"]
    info.update(call=call, NES=nes, ES=float(row["ES"]), pvalue=float(row["pvalue"]), fdr=q,
                leading_edge=edge.split(",") if isinstance(edge, str) and edge else [])
    tested_in_collection = gsea[(gsea["collection"] == row["collection"]) & gsea["NES"].notna()]
    if len(tested_in_collection) == 1:
        info["fdr_note"] = "the only tested set of its collection: its FDR is its nominal p-value"
    return info


def _signature_call(sets: dict[str, dict[str, Any]]) -> str | None:
    """``down``, ``up``, ``ns`` or ``conflict`` from the tested hallmark ER sets; None if none was tested."""
    calls = {sets[n]["call"] for n in HALLMARK_ER_SETS if sets[n]["status"] == "tested"}
    if not calls:
        return None
    significant = calls - {"ns"}
    if len(significant) > 1:
        return "conflict"
    return significant.pop() if significant else "ns"


def _specificity(gsea: pd.DataFrame, signature: str | None, fdr: float, share: float) -> dict[str, Any]:
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
    ranks = {name: int(np.flatnonzero(order["gene_set"].to_numpy() == name)[0]) + 1
             for name in HALLMARK_ER_SETS if name in set(order["gene_set"])}
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


def _gene_evidence(genes: pd.DataFrame, symbol: str) -> dict[str, Any]:
    """One gene's DE numbers from the gene-level table (the id the enrichment used)."""
    if symbol not in genes.index:
        return {"gene": symbol, "in_data": False}
    row = genes.loc[symbol]
    return {
        "gene": symbol, "in_data": True, "gene_id": row["gene_id"], "baseMean": _num(row.get("baseMean")),
        "log2FoldChange": _num(row["log2FoldChange"]), "padj": _num(row.get("padj")), "stat": _num(row["stat"]),
    }


def _esr1_evidence(de_table: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """ESR1's own log2FC, padj, % remaining and call (``down``/``up`` at padj < alpha, else ``unchanged``)."""
    evidence = _gene_evidence(gene_level(de_table), ESR1)
    if not evidence["in_data"]:
        return {**evidence, "call": None}
    lfc, padj = evidence["log2FoldChange"], evidence["padj"]
    call = "unchanged"
    if lfc is not None and padj is not None and padj < alpha:
        call = "down" if lfc < 0 else "up"
    remaining = None if lfc is None else 100 * 2**lfc
    return {**evidence, "percent_remaining": remaining, "call": call, "alpha": alpha}


def _esr1_text(verdict: dict[str, Any]) -> str:
    """ESR1's own change, and what it says about how the ER targets moved."""
    esr1 = verdict["esr1"]
    if not esr1["in_data"]:
        return "ESR1 not in the data"
    text = f"ESR1 mRNA {esr1['call']} (log2FC {esr1['log2FoldChange']:.2f})" if esr1["log2FoldChange"] is not None \
        else "ESR1 mRNA not tested"
    if verdict["verdict"] == "suppressed":
        if esr1["call"] == "down":
            text += ": the targets fell with ESR1 mRNA itself down (as after an ESR1 siRNA or estrogen deprivation)"
        else:
            text += ": the targets fell with ESR1 mRNA not down, pointing at ERalpha protein or activity"
    return text


def _knockdown_evidence(knockdown: dict[str, Any]) -> dict[str, Any]:
    """The knockdown status and per-target numbers, without the per-sample counts."""
    targets = [{k: v for k, v in target.items() if k != "normalized_counts"} for target in knockdown["targets"]]
    return {"status": knockdown["status"], "note": knockdown.get("note"), "targets": targets}


def _targets_text(knockdown: dict[str, Any]) -> str:
    """'PPP3CA 94% remaining, PPP3CB ...' for the reasons."""
    texts = []
    for target in knockdown["targets"]:
        name = target.get("gene_name") or target.get("gene")
        remaining = target.get("percent_remaining")
        detail = f"{remaining:.0f}% remaining" if _is_number(remaining) else target.get("status")
        texts.append(f"{name} {detail}")
    return ", ".join(texts) or "no targets"


def _fmt_p(value: float) -> str:
    """Compact p/FDR text; 0 from a permutation test is below its resolution, hence '~0'."""
    return "~0" if value == 0 else f"{value:.2g}"


def _num(value: Any) -> float | None:
    """A float for JSON, None when missing."""
    return float(value) if _is_number(value) else None


def _is_number(value: Any) -> bool:
    """True for a finite real number."""
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) \
        and math.isfinite(value)
