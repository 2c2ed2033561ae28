"""The verdict in words: one plain sentence, a sentence per reason and the one-line summary.

Every text is built from the verdict dict alone (:func:`knockseq.verdict.decide`), so the JSON, the
summary line printed at the end of a run and the report's first page say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

from knockseq.verdict.direct import ER_MARKERS, ESR1
from knockseq.verdict.evidence import HALLMARK_ER_SETS


def reason_text(code: str, verdict: dict[str, Any]) -> str:
    """The sentence of one reason code (:data:`knockseq.verdict.rule.REASONS`), with its numbers."""
    thresholds = verdict["thresholds"]
    direct = verdict["direct_targets"]
    spec = verdict["specificity"]
    effect = direct.get("effect") or {}
    if code == "no_er_set":
        return (
            "no ER gene set could be tested: the gene names are not human symbols, or too few genes of each set "
            "are in the data."
        )
    if code == "er_not_expressed":
        return f"the ER program is not expressed in the reference samples ({expression_text(verdict)})."
    if code == "signature_not_tested":
        return (
            "no hallmark estrogen-response set was tested (none loaded, or outside the GSEA size limits), and "
            "the direct ER targets alone are not a call."
        )
    if code == "direct_not_tested":
        return (
            f"the direct ER targets could not be tested ({direct.get('note', 'not tested')}), and the hallmark "
            "sets alone are not specific to ER."
        )
    if code == "signature_conflict":
        return "the hallmark estrogen-response sets are significant in opposite directions."
    if code == "readouts_disagree":
        return f"the hallmark sets went {verdict['signature']['call']} but the direct ER targets went {direct['call']}."
    if code == "both_moved":
        return (
            f"both readouts went {direct['call']}: the hallmark estrogen-response sets (GSEA FDR below "
            f"{thresholds['fdr']:g}) and the direct ER targets (CAMERA mean and rank tests, FDR "
            f"{fmt_p(direct['fdr'])})."
        )
    if code == "er_leads":
        return (
            f"an ER set leads the hallmark sets that moved (ER sets rank {_ranks(spec)} of "
            f"{spec['n_sets_tested']}; {spec['n_other_same_direction']} other set(s) moved the same way): the "
            "change is specific to ER."
        )
    if code == "global_shift":
        return (
            f"{spec['n_other_same_direction']} of the {spec['n_sets_tested'] - len(spec['ranks'])} other hallmark "
            "sets moved the same way and no ER set leads them: ER targets changed within a global shift, "
            "not specifically."
        )
    if code == "signature_only":
        return "hallmark sets shifted but the direct ER targets did not."
    if code == "direct_only":
        return "the direct ER targets moved but the hallmark estrogen-response sets did not."
    if code == "direct_carried_by_few":
        return (
            f"the direct targets' mean moved (CAMERA p {fmt_p(direct['camera']['pvalue'])}) but their ranks "
            f"did not (rank test p {fmt_p(direct['camera_ranks']['pvalue'])}): a few genes carry the change."
        )
    if code == "no_change_powered":
        return (
            f"neither readout moved, and the direct targets' mean log2 fold change {_interval(effect)} lies "
            f"within +-{thresholds['min_effect']:g}: a change of the size seen in real ER suppression is "
            "ruled out."
        )
    if code == "underpowered":
        interval = _interval(effect) if effect else "(not estimated)"
        return (
            f"neither readout moved, but the direct targets' mean log2 fold change {interval} does not "
            f"exclude a change of {thresholds['min_effect']:g} log2: the data cannot tell unchanged from a "
            "missed change."
        )
    if code == "knockdown_failed":
        return f"the knockdown failed, so the ER call '{verdict['er_call']}' cannot be attributed to it."
    if code == "knockdown_weak":
        return "the knockdown was weak."
    if code == "collection_unavailable":
        missing = [e for e in verdict["provenance"] if e.get("status") == "unavailable"]
        return "; ".join(f"gene-set collection '{e['name']}' {e.get('version')} was unavailable" for e in missing) + "."
    if code == "dispersion_trend":
        return f"the DE dispersion trend is '{verdict['de']['dispersion_trend']}' (R would use a local fit there)."
    raise ValueError(f"no text for reason code {code!r}")


def plain_sentence(verdict: dict[str, Any]) -> str:
    """One sentence a bench biologist reads: what happened to the ER target genes, or why the data cannot say."""
    test, reference = verdict["test"], verdict["reference"]
    strength, call = verdict["strength"], verdict["verdict"]
    if call in ("suppressed", "activated"):
        verb, way = ("lowered", "down") if call == "suppressed" else ("raised", "up")
        sentence = (
            f"Compared with {reference}, {test} {verb} the ER target genes: the hallmark estrogen-response "
            f"sets and the direct ER targets both went {way}"
        )
        if strength == "global shift":
            sentence += ", but together with many other pathways, so not specifically"
        return sentence + "."
    if call == "unchanged":
        return (
            f"Compared with {reference}, {test} did not change the ER target genes, and the data are precise "
            "enough to rule out a change of the size seen in real ER suppression."
        )
    first = verdict["reason_codes"][0]
    why = {
        "knockdown_failed": "the knockdown did not work, so nothing can be attributed to it",
        "no_er_set": "the ER gene sets could not be tested on these gene names",
        "er_not_expressed": f"the {reference} samples do not express ESR1 and its target genes, so there is no "
        "ER activity to change",
        "signature_not_tested": "only the direct ER targets were tested, and one readout is not enough",
        "direct_not_tested": "the direct ER targets could not be tested, and the broad gene sets alone are not "
        "specific to ER",
        "signature_conflict": "the two hallmark estrogen-response sets moved in opposite directions",
        "readouts_disagree": "the broad estrogen-response gene sets and the direct ER targets moved in opposite "
        "directions",
        "signature_only": "the broad estrogen-response gene sets moved, but the direct ER targets did not",
        "direct_only": "the direct ER targets moved, but the broad estrogen-response gene sets did not",
        "underpowered": "no change was detected, but the experiment could have missed one of the size seen in "
        "real ER suppression",
    }[first]
    return f"The data cannot say whether {test} changed the ER target genes compared with {reference}: {why}."


def expression_text(verdict: dict[str, Any]) -> str:
    """'ESR1 2.3 CPM (needs 10); GREB1 0.9 CPM, PGR 0.3 CPM, TFF1 0 CPM (one of them needs 10)'."""
    program = verdict["er_program"]
    if not program["esr1_in_data"]:
        esr1 = f"{ESR1} not in the data"
    else:
        esr1 = f"{ESR1} {program['esr1_cpm']:.2g} CPM (needs {program['min_esr1_cpm']:g})"
    markers = ", ".join(f"{m} {_cpm(program['markers'][m])}" for m in ER_MARKERS)
    return f"{esr1}; {markers} (one of them needs {program['min_marker_cpm']:g})"


def summary_line(verdict: dict[str, Any]) -> str:
    """The verdict in one line for people.

    For example ``kd: ER targets SUPPRESSED [strong] (EARLY NES -2.10, FDR 0.001; LATE NES -1.90,
    FDR 0.004; direct ER targets down, CAMERA FDR 0.02, mean log2FC -0.85 [-1.21, -0.49]; ER
    sets rank 1, 2 of 50, 1 other set(s) down); knockdown effective (PPP3CA 27% remaining, PPP3CB
    28% remaining); ESR1 mRNA unchanged (log2FC -0.05): the targets fell with ESR1 mRNA not down,
    pointing at ERalpha protein or activity``. An FDR of 0 (no permutation as extreme as the
    data) is written ``~0``. An inconclusive verdict names its first reason after the strength.
    """
    parts = []
    for name in HALLMARK_ER_SETS:
        info = verdict["gene_sets"][name]
        short = name.removeprefix("HALLMARK_ESTROGEN_RESPONSE_")
        if info["status"] == "tested":
            parts.append(f"{short} NES {info['NES']:.2f}, FDR {fmt_p(info['fdr'])}")
        else:
            parts.append(f"{short} not tested")
    direct = verdict["direct_targets"]
    if direct["status"] == "tested":
        parts.append(
            f"direct ER targets {direct['call']}, CAMERA FDR {fmt_p(direct['fdr'])}, "
            f"mean log2FC {_interval(direct['effect'])}"
        )
    else:
        parts.append("direct ER targets not tested")
    spec = verdict["specificity"]
    if spec.get("ranks"):
        parts.append(
            f"ER sets rank {_ranks(spec)} of {spec['n_sets_tested']}, "
            f"{spec['n_other_same_direction']} other set(s) {spec['direction']}"
        )
    head = f"{verdict['contrast']}: ER targets {verdict['verdict'].upper()} [{verdict['strength']}]"
    if verdict["verdict"] == "inconclusive":
        head += f" - {verdict['reasons'][0].rstrip('.')}"
    knockdown = verdict["knockdown"]
    kd = f"knockdown {knockdown['status']}"
    if knockdown["targets"]:
        kd += f" ({_targets_text(knockdown)})"
    return f"{head} ({'; '.join(parts)}); {kd}; {_esr1_text(verdict)}"


def fmt_p(value: float | None) -> str:
    """Compact p/FDR text; 0 from a permutation test is below its resolution, hence '~0'."""
    if value is None:
        return "NA"
    return "~0" if value == 0 else f"{value:.2g}"


def _interval(effect: dict[str, Any]) -> str:
    """'-0.85 [-1.21, -0.49]' (95% interval)."""
    return f"{effect['mean_log2FoldChange']:.2f} [{effect['ci_low']:.2f}, {effect['ci_high']:.2f}]"


def _ranks(spec: dict[str, Any]) -> str:
    return ", ".join(str(r) for r in spec["ranks"].values())


def _cpm(value: float | None) -> str:
    return "not in the data" if value is None else f"{value:.2g} CPM"


def _esr1_text(verdict: dict[str, Any]) -> str:
    """ESR1's own change, and what it says about how the ER targets moved."""
    esr1 = verdict["esr1"]
    if not esr1["in_data"]:
        return "ESR1 not in the data"
    if esr1["log2FoldChange"] is None:
        return "ESR1 mRNA not tested (too few reads for the DE pre-filter)"
    text = f"ESR1 mRNA {esr1['call']} (log2FC {esr1['log2FoldChange']:.2f})"
    if verdict["verdict"] == "suppressed":
        if esr1["call"] == "down":
            text += ": the targets fell with ESR1 mRNA itself down (as after an ESR1 siRNA or estrogen deprivation)"
        else:
            text += ": the targets fell with ESR1 mRNA not down, pointing at ERalpha protein or activity"
    return text


def _targets_text(knockdown: dict[str, Any]) -> str:
    """'PPP3CA 94% remaining, PPP3CB ...' for the summary line."""
    texts = []
    for target in knockdown["targets"]:
        name = target.get("gene_name") or target.get("gene")
        remaining = target.get("percent_remaining")
        detail = (
            f"{remaining:.0f}% remaining"
            if isinstance(remaining, (int, float)) and math.isfinite(remaining)
            else target.get("status")
        )
        texts.append(f"{name} {detail}")
    return ", ".join(texts) or "no targets"
