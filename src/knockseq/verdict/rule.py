"""The decision rule of the verdict: preconditions first, then the direction of two readouts.

:data:`RULE` is the rule's one prose statement; the README, the configuration page and every
verdict JSON quote it from here. :func:`decide_call` applies it to the calls of the evidence
(:mod:`knockseq.verdict.evidence`, :mod:`knockseq.verdict.direct`) and returns reason codes;
:mod:`knockseq.verdict.text` turns them into sentences with the numbers behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("suppressed", "activated", "unchanged", "inconclusive")

#: How much the evidence behind a verdict holds, and what each value means.
STRENGTHS = {
    "strong": "both readouts moved the same way and an ER set leads the hallmark sets that moved.",
    "global shift": "both readouts moved the same way, but within a broad shift of many other hallmark sets: "
    "ER targets changed, not specifically.",
    "signature only": "only the hallmark estrogen-response sets moved; the direct ER targets did not.",
    "direct targets only": "only the direct ER targets moved; the hallmark estrogen-response sets did not.",
    "powered": "neither readout moved, and the direct targets' 95% interval rules out a change of the size "
    "seen in real ER suppression (verdict.min_effect).",
    "underpowered": "neither readout moved, but the direct targets' 95% interval cannot rule out a change of "
    "the size seen in real ER suppression (verdict.min_effect).",
    "ER not expressed": "the reference samples do not express ESR1 and its marker targets: there is no ER "
    "program to suppress or activate.",
    "signature not tested": "no hallmark estrogen-response set was tested (none loaded, or too few of its "
    "genes in the data): the direct ER targets alone are not a call.",
    "none": "nothing can be concluded: no ER gene set could be tested, the readouts contradict each other, "
    "or the knockdown failed.",
}

RULE = (
    "Preconditions, in order, each giving 'inconclusive' when it fails: an ER gene set can be tested; "
    "the reference samples express the ER program (ESR1 at least verdict.min_esr1_cpm CPM, and GREB1, PGR "
    "or TFF1 at least verdict.min_marker_cpm CPM in the reference or test samples) -> else 'ER not "
    "expressed'; a hallmark estrogen-response set was tested -> else 'signature not tested'; the direct "
    "ER targets were tested. Then the two readouts: the hallmark signature is 'down' or 'up' when "
    "EARLY and/or LATE has GSEA FDR < verdict.fdr in that direction (both directions: a conflict); the "
    "direct ER targets are 'down' or 'up' when CAMERA's mean test and its rank test agree on the "
    "direction and the larger of their p-values, adjusted across the run's contrasts (BH), is below "
    "verdict.fdr. Both the same way -> suppressed/activated (strength 'global shift' when at least "
    "verdict.global_shift_share of the other hallmark sets moved the same way and no ER set ranks in "
    "the top half of the sets that moved, else 'strong'). One of the two -> inconclusive ('signature "
    "only' / 'direct targets only'). Opposite directions -> inconclusive. Neither -> unchanged "
    "('powered') when the 95% interval of the direct targets' mean log2 fold change lies within "
    "+-verdict.min_effect, else inconclusive ('underpowered'). Finally a failed knockdown turns any "
    "call into inconclusive: the change cannot be attributed to it."
)

#: Reason codes, in the order of :func:`decide_call`'s checks; :mod:`knockseq.verdict.text`
#: writes each as a sentence.
REASONS = (
    "no_er_set",
    "er_not_expressed",
    "signature_not_tested",
    "direct_not_tested",
    "signature_conflict",
    "readouts_disagree",
    "both_moved",
    "er_leads",
    "global_shift",
    "signature_only",
    "direct_only",
    "direct_carried_by_few",
    "no_change_powered",
    "underpowered",
    "knockdown_failed",
    "knockdown_weak",
    "collection_unavailable",
    "dispersion_trend",
)


@dataclass(frozen=True)
class Calls:
    """What the evidence says, as the rule reads it.

    Attributes
    ----------
    signature : {"down", "up", "ns", "conflict"} or None
        The hallmark estrogen-response sets; None when none was tested.
    direct : {"down", "up", "ns"} or None
        The direct ER targets; None when they could not be tested.
    knockdown : str
        ``effective``, ``weak``, ``failed`` or ``not assessed``.
    global_shift : bool
        At least ``global_shift_share`` of the other hallmark sets moved with the signature
        and no ER set leads them.
    er_expressed : bool
        The reference samples express the ER program.
    powered : bool
        The direct targets' 95% interval lies within +-``min_effect``.
    direct_carried_by_few : bool
        CAMERA's mean test was significant but its rank test was not (or pointed the other way).
    """

    signature: str | None
    direct: str | None
    knockdown: str
    global_shift: bool = False
    er_expressed: bool = True
    powered: bool = False
    direct_carried_by_few: bool = False


@dataclass(frozen=True)
class Decision:
    """The rule's answer: ``verdict``, ``er_call`` (before the knockdown check), ``strength`` and
    ``reasons`` (codes of :data:`REASONS`, most important first)."""

    verdict: str
    er_call: str
    strength: str
    reasons: tuple[str, ...]


def decide_call(calls: Calls) -> Decision:
    """Apply :data:`RULE` to the calls of one contrast.

    Parameters
    ----------
    calls : Calls

    Returns
    -------
    Decision
    """
    reasons: list[str] = []
    moved = {"down": "suppressed", "up": "activated"}
    signature, direct = calls.signature, calls.direct
    if signature is None and direct is None:
        verdict, strength = "inconclusive", "none"
        reasons.append("no_er_set")
    elif not calls.er_expressed:
        verdict, strength = "inconclusive", "ER not expressed"
        reasons.append("er_not_expressed")
    elif signature is None:
        verdict, strength = "inconclusive", "signature not tested"
        reasons.append("signature_not_tested")
    elif direct is None:
        verdict, strength = "inconclusive", "signature only" if signature in moved else "none"
        reasons.append("direct_not_tested")
    elif signature == "conflict":
        verdict, strength = "inconclusive", "none"
        reasons.append("signature_conflict")
    elif signature in moved and direct in moved and signature != direct:
        verdict, strength = "inconclusive", "none"
        reasons.append("readouts_disagree")
    elif signature in moved and direct == signature:
        verdict = moved[signature]
        strength = "global shift" if calls.global_shift else "strong"
        reasons += ["both_moved", "global_shift" if calls.global_shift else "er_leads"]
    elif signature in moved:
        verdict, strength = "inconclusive", "signature only"
        reasons.append("signature_only")
    elif direct in moved:
        verdict, strength = "inconclusive", "direct targets only"
        reasons.append("direct_only")
    elif calls.powered:
        verdict, strength = "unchanged", "powered"
        reasons.append("no_change_powered")
    else:
        verdict, strength = "inconclusive", "underpowered"
        reasons.append("underpowered")
    if calls.direct_carried_by_few and direct == "ns":
        reasons.append("direct_carried_by_few")
    er_call = verdict
    if calls.knockdown == "failed":
        reasons.insert(0, "knockdown_failed")
        verdict, strength = "inconclusive", "none"
    elif calls.knockdown == "weak":
        reasons.append("knockdown_weak")
    return Decision(verdict, er_call, strength, tuple(reasons))
