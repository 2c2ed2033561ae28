"""The verdict's decision rule and evidence, on synthetic GSEA tables and DE tables.

Real data (every quantifier's output, estradiol datasets, negatives and borderline cases) is in
tests/test_calibration.py.
"""

from __future__ import annotations

import json

import docgen
import numpy as np
import pandas as pd
import pytest
import verdict_docs
from conftest import PROJECT, check_verdict
from scipy import stats

from knockseq.config import config_defaults
from knockseq.enrichment import GSEA_COLUMNS
from knockseq.genesets import ER_CORE_SET
from knockseq.verdict import (
    EARLY,
    LATE,
    REASONS,
    STRENGTHS,
    adjust_across_contrasts,
    decide,
    summary_line,
    write_verdict,
)
from knockseq.verdict.direct import er_program, mean_effect
from knockseq.verdict.rule import Calls, Decision, decide_call
from knockseq.verdict.text import reason_text

VERDICT = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["verdict"]


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        (Calls("down", "down", "effective"), ("suppressed", "suppressed", "strong", ("both_moved", "er_leads"))),
        (Calls("up", "up", "not assessed"), ("activated", "activated", "strong", ("both_moved", "er_leads"))),
        (
            Calls("down", "down", "effective", global_shift=True),
            ("suppressed", "suppressed", "global shift", ("both_moved", "global_shift")),
        ),
        (Calls("down", "ns", "effective"), ("inconclusive", "inconclusive", "signature only", ("signature_only",))),
        (
            Calls("up", "ns", "not assessed", global_shift=True),
            ("inconclusive", "inconclusive", "signature only", ("signature_only",)),
        ),
        (
            Calls("down", "ns", "effective", direct_carried_by_few=True),
            ("inconclusive", "inconclusive", "signature only", ("signature_only", "direct_carried_by_few")),
        ),
        (Calls("ns", "down", "effective"), ("inconclusive", "inconclusive", "direct targets only", ("direct_only",))),
        (Calls("ns", "ns", "effective", powered=True), ("unchanged", "unchanged", "powered", ("no_change_powered",))),
        (Calls("ns", "ns", "effective"), ("inconclusive", "inconclusive", "underpowered", ("underpowered",))),
        (Calls("down", "up", "effective"), ("inconclusive", "inconclusive", "none", ("readouts_disagree",))),
        (Calls("conflict", "down", "effective"), ("inconclusive", "inconclusive", "none", ("signature_conflict",))),
        # Missing evidence never gives a stronger call than weak evidence: no hallmark set is no call.
        (
            Calls(None, "down", "effective"),
            ("inconclusive", "inconclusive", "signature not tested", ("signature_not_tested",)),
        ),
        (
            Calls(None, "ns", "effective", powered=True),
            ("inconclusive", "inconclusive", "signature not tested", ("signature_not_tested",)),
        ),
        (Calls("down", None, "effective"), ("inconclusive", "inconclusive", "signature only", ("direct_not_tested",))),
        (Calls("ns", None, "effective"), ("inconclusive", "inconclusive", "none", ("direct_not_tested",))),
        (Calls(None, None, "effective"), ("inconclusive", "inconclusive", "none", ("no_er_set",))),
        # No ER program: nothing to suppress, whatever the readouts say.
        (
            Calls("down", "down", "effective", er_expressed=False),
            ("inconclusive", "inconclusive", "ER not expressed", ("er_not_expressed",)),
        ),
        (
            Calls("ns", "ns", "effective", er_expressed=False, powered=True),
            ("inconclusive", "inconclusive", "ER not expressed", ("er_not_expressed",)),
        ),
        (
            Calls("down", "down", "failed"),
            ("inconclusive", "suppressed", "none", ("knockdown_failed", "both_moved", "er_leads")),
        ),
        (
            Calls("down", "down", "weak"),
            ("suppressed", "suppressed", "strong", ("both_moved", "er_leads", "knockdown_weak")),
        ),
        (
            Calls("ns", "ns", "failed", powered=True),
            ("inconclusive", "unchanged", "none", ("knockdown_failed", "no_change_powered")),
        ),
    ],
)
def test_decision_rule(calls, expected):
    assert decide_call(calls) == Decision(*expected)


def test_every_strength_and_reason_is_explained():
    assert set(STRENGTHS) == {
        "strong",
        "global shift",
        "signature only",
        "direct targets only",
        "powered",
        "underpowered",
        "ER not expressed",
        "signature not tested",
        "none",
    }
    assert all(STRENGTHS[s].endswith(".") and len(STRENGTHS[s]) > 40 for s in STRENGTHS)
    verdict = _decide(
        _gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), others=_OTHERS),
        provenance=[{"name": "h", "version": "1", "status": "unavailable", "kind": "msigdb"}],
        de_settings={**_DE_SETTINGS, "dispersion_trend": "mean"},
    )
    verdict["direct_targets"]["call"], verdict["er_call"] = "down", "suppressed"
    for code in REASONS:
        assert reason_text(code, verdict).endswith("."), code


# --- decide(): evidence on synthetic tables ------------------------------------------------------


def _gsea(early=None, late=None, core=None, others=()) -> pd.DataFrame:
    """A GSEA table: ER sets given as (NES, fdr) or None (absent); ``others`` as (name, NES, fdr)."""
    rows = []
    for name, value, collection in ((EARLY, early, "h.all"), (LATE, late, "h.all"), (ER_CORE_SET, core, "er_core")):
        if value is not None:
            nes, q = value
            rows.append((name, collection, nes, q, "GREB1,PGR"))
    rows += [(name, "h.all", nes, q, "CDK1") for name, nes, q in others]
    return pd.DataFrame(
        [
            {
                "gene_set": n,
                "collection": c,
                "NES": nes,
                "ES": np.sign(nes) * 0.5,
                "pvalue": q / 2,
                "fdr": q,
                "set_size": 200,
                "matched_size": 150,
                "coverage": 0.75,
                "leading_edge": edge,
            }
            for n, c, nes, q, edge in rows
        ],
        columns=GSEA_COLUMNS,
    )


_DE = pd.DataFrame(
    {
        "gene_id": ["ENSG1", "ENSG2", "ENSG3", "ENSG4"],
        "gene_name": ["GREB1", "PGR", "ESR1", "ESR1"],
        "baseMean": [100.0, 50.0, 400.0, 2.0],
        "log2FoldChange": [-1.0, -0.5, -0.05, -3.0],
        "lfcSE": [0.2] * 4,
        "stat": [-5.0, -2.5, -0.3, -6.0],
        "pvalue": [1e-6, 0.01, 0.7, 1e-8],
        "padj": [1e-5, 0.05, 0.8, 1e-7],
    }
)
_DE_SETTINGS = {"contrast": "kd", "test": "knockdown", "reference": "control", "dispersion_trend": "parametric"}
_EFFECTIVE = {
    "contrast": "kd",
    "status": "effective",
    "note": None,
    "thresholds": {"alpha": 0.05},
    "targets": [
        {
            "gene": "PPP3CA",
            "gene_name": "PPP3CA",
            "percent_remaining": 27.2,
            "status": "effective",
            "normalized_counts": {"s1": 10.0},
        }
    ],
}
#: MCF-7-like levels (CPM): ESR1 and the markers expressed.
_EXPRESSED = {
    "unit": "CPM",
    "n_samples": {"reference": 3, "test": 3},
    "genes": {
        "ESR1": {"reference": 730.0, "test": 700.0},
        "GREB1": {"reference": 140.0, "test": 60.0},
        "PGR": {"reference": 11.0, "test": 4.0},
        "TFF1": {"reference": 1007.0, "test": 500.0},
    },
}


def _camera(p: float, t: float, use_ranks: bool) -> dict:
    return {
        "n_genes": 12,
        "n_background": 15000,
        "mean_stat": t / 2,
        "correlation": 0.05,
        "vif": 1.55,
        "t": t,
        "df": 4,
        "pvalue": p,
        "direction": "down" if t < 0 else "up",
        "use_ranks": use_ranks,
    }


def _direct(p_mean=2e-5, p_rank=3e-4, t=-6.1, mean=-0.9, ci=(-1.2, -0.6), expression=_EXPRESSED) -> dict:
    """A direct-target step's result (results/direct_targets/{contrast}.json)."""
    rank_t = t if p_rank < 0.5 else -t
    direction = "down" if t < 0 else "up"
    return {
        "contrast": "kd",
        "set": ER_CORE_SET,
        "status": "tested",
        "genes": [],
        "expression": expression,
        "camera": _camera(p_mean, t, False),
        "camera_ranks": _camera(p_rank, rank_t, True),
        "pvalue": max(p_mean, p_rank),
        "direction": direction if (rank_t < 0) == (t < 0) else "mixed",
        "effect": {
            "mean_log2FoldChange": mean,
            "se": 0.1,
            "df": 11,
            "vif": 1.55,
            "level": 0.95,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "n_genes": 12,
        },
    }


_DIRECT_DOWN = _direct()
_DIRECT_NS = _direct(p_mean=0.4, p_rank=0.45, t=-0.8, mean=-0.05, ci=(-0.3, 0.2))
_OTHERS = [
    ("HALLMARK_E2F_TARGETS", -2.5, 0.001),
    ("HALLMARK_G2M_CHECKPOINT", -1.2, 0.3),
    ("HALLMARK_MYC_TARGETS_V1", 1.8, 0.01),
    ("HALLMARK_APOPTOSIS", 0.3, 0.9),
]


def _decide(
    gsea, direct=_DIRECT_DOWN, knockdown=_EFFECTIVE, provenance=(), de_settings=_DE_SETTINGS, de_table=_DE
) -> dict:
    """decide() on synthetic inputs, the direct p-value as the FDR of a run of one contrast; schema-checked."""
    fdr = direct["pvalue"] if direct["status"] == "tested" else None
    verdict = decide(
        gsea,
        knockdown,
        de_table,
        list(provenance),
        direct,
        direct_fdr=fdr,
        n_adjusted=int(fdr is not None),
        thresholds=VERDICT,
        de_settings=de_settings,
    )
    check_verdict(verdict)
    return verdict


def test_concordant_suppression_with_its_evidence():
    result = _decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), core=(-2.3, 0.0), others=_OTHERS))
    assert (result["verdict"], result["strength"], result["er_call"]) == ("suppressed", "strong", "suppressed")
    assert result["signature"] == {"call": "down", "sets": [EARLY, LATE]}
    assert result["direct_targets"]["call"] == "down" and result["direct_targets"]["fdr"] == 3e-4
    # E2F (-2.5) ranks first downwards, then EARLY (-2.1) and LATE (-1.9); one other set is down, one up.
    assert result["specificity"] == {
        "collection": "h.all",
        "n_sets_tested": 6,
        "direction": "down",
        "ranks": {EARLY: 2, LATE: 3},
        "n_other_same_direction": 1,
        "n_other_opposite_direction": 1,
        "share_other_same_direction": 0.25,
        "er_leads": True,
        "global_shift": False,
    }
    assert result["reasons"] == [
        "both readouts went down: the hallmark estrogen-response sets (GSEA FDR below 0.05) and the direct ER "
        "targets (CAMERA mean and rank tests, FDR 0.0003).",
        "an ER set leads the hallmark sets that moved (ER sets rank 2, 3 of 6; 1 other set(s) moved the same way): "
        "the change is specific to ER.",
    ]
    assert result["sentence"] == (
        "Compared with control, knockdown lowered the ER target genes: the hallmark estrogen-response sets and the "
        "direct ER targets both went down."
    )
    assert result["strength_meaning"] == STRENGTHS["strong"]
    assert (
        result["summary"]
        == summary_line(result)
        == (
            "kd: ER targets SUPPRESSED [strong] (EARLY NES -2.10, FDR 0.001; LATE NES -1.90, FDR 0.0042; direct ER "
            "targets down, CAMERA FDR 0.0003, mean log2FC -0.90 [-1.20, -0.60]; ER sets rank 2, 3 of 6, 1 other set(s) "
            "down); knockdown effective (PPP3CA 27% remaining); ESR1 mRNA unchanged (log2FC -0.05): the targets fell "
            "with ESR1 mRNA not down, pointing at ERalpha protein or activity"
        )
    )
    # The ER core set is the only tested set of its collection: its FDR is its p-value, and says so.
    assert result["gene_sets"][ER_CORE_SET]["fdr_note"] == (
        "the only tested set of its collection: its FDR is its nominal p-value"
    )
    assert "fdr_note" not in result["gene_sets"][EARLY]


def test_the_direct_call_needs_the_mean_and_the_rank_test_and_uses_the_adjusted_value():
    gsea = _gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), others=_OTHERS)
    # Two extreme genes: the mean test is significant, the ranks are not.
    carried = _decide(gsea, direct=_direct(p_mean=0.004, p_rank=0.3))
    assert (carried["verdict"], carried["strength"]) == ("inconclusive", "signature only")
    assert carried["reason_codes"] == ["signature_only", "direct_carried_by_few"]
    assert carried["reasons"][1] == (
        "the direct targets' mean moved (CAMERA p 0.004) but their ranks did not "
        "(rank test p 0.3): a few genes carry the change."
    )
    # Both tests significant alone (p 0.02, 0.03) but not after adjusting across a 10-contrast run.
    direct = _direct(p_mean=0.02, p_rank=0.03)
    adjusted = decide(
        gsea, _EFFECTIVE, _DE, [], direct, direct_fdr=0.21, n_adjusted=10, thresholds=VERDICT, de_settings=_DE_SETTINGS
    )
    check_verdict(adjusted)
    assert (adjusted["direct_targets"]["pvalue"], adjusted["direct_targets"]["fdr"]) == (0.03, 0.21)
    assert adjusted["direct_targets"]["call"] == "ns" and adjusted["verdict"] == "inconclusive"
    assert adjusted["direct_targets"]["n_contrasts_adjusted"] == 10
    # Tests pointing different ways are no call, however small their p-values.
    mixed = _decide(gsea, direct=_direct(p_mean=0.001, p_rank=0.6))
    assert mixed["direct_targets"]["direction"] == "mixed" and mixed["direct_targets"]["call"] == "ns"


def test_bh_across_contrasts_equals_r_p_adjust():
    # p.adjust(c(0.01, 0.04, 0.03, 0.2), "BH") = 0.04 0.0533 0.0533 0.2; not tested: no value, not counted
    evidence = {name: {"status": "tested", "pvalue": p} for name, p in zip("abcd", (0.01, 0.04, 0.03, 0.2))}
    evidence["e"] = {"status": "not_tested"}
    assert adjust_across_contrasts(evidence) == pytest.approx(
        {"a": 0.04, "b": 0.04 * 4 / 3, "c": 0.04 * 4 / 3, "d": 0.2, "e": None}
    )


def test_unchanged_needs_an_interval_that_excludes_a_real_change():
    gsea = _gsea(early=(-0.5, 0.6), late=(0.4, 0.7), others=_OTHERS)
    narrow = _decide(gsea, direct=_direct(p_mean=0.4, p_rank=0.5, t=-0.8, mean=-0.05, ci=(-0.3, 0.2)))
    assert (narrow["verdict"], narrow["strength"], narrow["direct_targets"]["powered"]) == (
        "unchanged",
        "powered",
        True,
    )
    assert narrow["reasons"] == [
        "neither readout moved, and the direct targets' mean log2 fold change -0.05 [-0.30, 0.20] lies within "
        "+-0.5: a change of the size seen in real ER suppression is ruled out."
    ]
    wide = _decide(gsea, direct=_direct(p_mean=0.2, p_rank=0.3, t=-1.3, mean=-0.4, ci=(-1.1, 0.3)))
    assert (wide["verdict"], wide["strength"], wide["direct_targets"]["powered"]) == (
        "inconclusive",
        "underpowered",
        False,
    )
    assert wide["sentence"] == (
        "The data cannot say whether knockdown changed the ER target genes compared with control: no change was "
        "detected, but the experiment could have missed one of the size seen in real ER suppression."
    )


def test_no_er_program_in_the_reference_is_inconclusive_with_its_levels():
    airway = {
        "unit": "CPM",
        "n_samples": {"reference": 4, "test": 4},
        "genes": {
            "ESR1": {"reference": 2.3, "test": 0.9},
            "GREB1": {"reference": 0.9, "test": 0.4},
            "PGR": {"reference": 0.3, "test": 0.2},
            "TFF1": None,
        },
    }
    result = _decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), others=_OTHERS), direct=_direct(expression=airway))
    assert (result["verdict"], result["strength"]) == ("inconclusive", "ER not expressed")
    assert result["reasons"] == [
        "the ER program is not expressed in the reference samples (ESR1 2.3 CPM (needs 10); GREB1 0.9 CPM, "
        "PGR 0.3 CPM, TFF1 not in the data (one of them needs 10))."
    ]
    assert result["summary"].startswith(
        "kd: ER targets INCONCLUSIVE [ER not expressed] - the ER program is not expressed in the reference samples "
        "(ESR1 2.3 CPM (needs 10); "
    )


def test_the_er_program_is_judged_by_esr1_in_the_reference_and_a_marker_in_either_group():
    def levels(esr1, greb1):
        return {
            "genes": {
                "ESR1": {"reference": esr1[0], "test": esr1[1]},
                "GREB1": {"reference": greb1[0], "test": greb1[1]},
                "PGR": None,
                "TFF1": None,
            }
        }

    # siESR1: ESR1 gone in the knockdown samples, present in its controls.
    assert er_program(levels((300.0, 20.0), (150.0, 15.0)), 10, 10)["expressed"]
    # estradiol on hormone-starved cells: GREB1 low in the vehicle reference, induced in the test group.
    starved = er_program(levels((120.0, 100.0), (4.0, 160.0)), 10, 10)
    assert starved["expressed"] and starved["markers"] == {"GREB1": 160.0, "PGR": None, "TFF1": None}
    assert not er_program(levels((9.9, 300.0), (150.0, 150.0)), 10, 10)["expressed"]
    assert not er_program(levels((300.0, 300.0), (9.9, 9.0)), 10, 10)["expressed"]
    absent = er_program({"genes": {"ESR1": None, "GREB1": None, "PGR": None, "TFF1": None}}, 10, 10)
    assert (absent["expressed"], absent["esr1_cpm"], absent["esr1_in_data"], absent["best_marker"]) == (
        False,
        0.0,
        False,
        None,
    )


def test_mean_effect_is_a_t_interval_inflated_by_the_correlation():
    lfc = pd.Series([-1.2, -0.8, -0.5, -1.0, -0.3, -0.9])
    plain = stats.t.interval(0.95, 5, loc=lfc.mean(), scale=lfc.std(ddof=1) / np.sqrt(6))
    effect = mean_effect(lfc, None)
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx(plain, rel=1e-12)
    # correlation 0.2 among 6 genes: VIF 2, the standard error times sqrt(2); a negative one counts as 0
    inflated = mean_effect(lfc, 0.2)
    assert inflated["vif"] == pytest.approx(2.0) and inflated["se"] == pytest.approx(effect["se"] * np.sqrt(2))
    assert mean_effect(lfc, -0.1) == effect


def test_esr1_is_the_most_expressed_id_and_called_by_the_knockdown_alpha():
    esr1 = _decide(_gsea(early=(-2.1, 0.001)))["esr1"]
    # ENSG4 has the larger |stat| but ENSG3 is the most expressed ESR1 id: one rule in every step.
    assert esr1 == {
        "gene": "ESR1",
        "in_data": True,
        "gene_id": "ENSG3",
        "baseMean": 400.0,
        "log2FoldChange": -0.05,
        "lfcSE": 0.2,
        "stat": -0.3,
        "pvalue": 0.7,
        "padj": 0.8,
        "percent_remaining": pytest.approx(100 * 2**-0.05),
        "call": "unchanged",
        "alpha": 0.05,
    }


def test_esr1_down_points_at_its_own_mrna():
    de = _DE.assign(padj=[1e-5, 0.05, 0.001, 1e-7], log2FoldChange=[-1.0, -0.5, -1.2, -3.0])
    result = _decide(_gsea(early=(-2.1, 0.001)), de_table=de)
    assert result["esr1"]["call"] == "down"
    assert result["summary"].endswith(
        "ESR1 mRNA down (log2FC -1.20): the targets fell with ESR1 mRNA itself down (as after an ESR1 siRNA or "
        "estrogen deprivation)"
    )


def test_a_global_shift_that_ER_does_not_lead():
    others = [(f"HALLMARK_SET_{i}", -2.5 - i / 10, 0.001) for i in range(6)] + [("HALLMARK_FLAT", 0.1, 0.9)]
    result = _decide(_gsea(early=(-1.6, 0.01), late=(-1.5, 0.02), others=others))
    spec = result["specificity"]
    # 6 of 7 other sets fell, all further than EARLY (rank 7) and LATE (rank 8) of the 8 sets that moved.
    assert (spec["ranks"], spec["n_other_same_direction"], spec["er_leads"]) == ({EARLY: 7, LATE: 8}, 6, False)
    assert spec["share_other_same_direction"] == pytest.approx(6 / 7)
    assert (result["verdict"], result["strength"]) == ("suppressed", "global shift")
    assert result["reasons"][1] == (
        "6 of the 7 other hallmark sets moved the same way and no ER set leads them: ER targets changed within a "
        "global shift, not specifically."
    )
    # The same breadth led by an ER set (estradiol drives proliferation sets itself) is not a global shift.
    led = _decide(_gsea(early=(-3.5, 0.001), late=(-1.5, 0.02), others=others))
    assert (led["specificity"]["er_leads"], led["strength"]) == (True, "strong")


def test_signature_without_direct_targets_is_not_suppressed():
    result = _decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.004)), direct=_DIRECT_NS)
    assert (result["verdict"], result["strength"]) == ("inconclusive", "signature only")
    assert result["summary"].startswith(
        "kd: ER targets INCONCLUSIVE [signature only] - hallmark sets shifted but the direct ER targets did not ("
    )


def test_treatment_failed_knockdown_and_untestable_direct_set():
    treatment = {
        "contrast": "E2",
        "status": "not assessed",
        "thresholds": {"alpha": 0.05},
        "targets": [],
        "note": "the contrast names no knockdown targets (a treatment): knockdown not assessed.",
    }
    result = _decide(_gsea(early=(2.1, 0.001)), direct=_direct(t=6.1, mean=0.9, ci=(0.6, 1.2)), knockdown=treatment)
    assert (result["verdict"], result["knockdown"]["status"]) == ("activated", "not assessed")
    assert "; knockdown not assessed; ESR1" in result["summary"]

    failed = {
        **_EFFECTIVE,
        "status": "failed",
        "targets": [
            {
                "gene": "PPP3CA",
                "gene_name": "PPP3CA",
                "percent_remaining": 94.2,
                "status": "failed",
                "normalized_counts": {"s1": 10.0},
            }
        ],
    }
    result = _decide(_gsea(early=(-2.1, 0.001)), knockdown=failed)
    assert (result["verdict"], result["er_call"], result["strength"]) == ("inconclusive", "suppressed", "none")
    assert result["knockdown"]["targets"] == [
        {"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 94.2, "status": "failed"}
    ]
    assert result["summary"].startswith(
        "kd: ER targets INCONCLUSIVE [none] - the knockdown failed, so the ER call 'suppressed' cannot be "
        "attributed to it ("
    )
    assert "; knockdown failed (PPP3CA 94% remaining); " in result["summary"]
    assert result["sentence"] == (
        "The data cannot say whether knockdown changed the ER target genes compared with control: the knockdown did "
        "not work, so nothing can be attributed to it."
    )

    untested = {
        "contrast": "kd",
        "status": "not_tested",
        "set": ER_CORE_SET,
        "genes": [],
        "expression": _EXPRESSED,
        "note": "only 2 of the 14 ER core genes",
    }
    result = _decide(_gsea(), direct=untested)
    assert (result["verdict"], result["reason_codes"]) == ("inconclusive", ["no_er_set"])
    assert result["specificity"] == {"note": "no hallmark estrogen-response set was tested."}
    assert result["summary"] == (
        "kd: ER targets INCONCLUSIVE [none] - no ER gene set could be tested: the gene names are not human symbols, "
        "or too few genes of each set are in the data (EARLY not tested; LATE not tested; direct ER targets not "
        "tested); knockdown effective (PPP3CA 27% remaining); ESR1 mRNA unchanged (log2FC -0.05)"
    )


def test_no_hallmark_set_unavailable_collection_and_trend_fallback_are_stated(tmp_path):
    provenance = [
        {"name": "h.all", "version": "2024.1.Hs", "status": "unavailable", "message": "offline", "kind": "msigdb"}
    ]
    result = _decide(
        _gsea(core=(-2.3, 0.0)),
        provenance=provenance,
        de_settings={**_DE_SETTINGS, "dispersion_trend": "mean (parametric fit failed)"},
    )
    # The direct targets went down, but alone they are not a call.
    assert (result["verdict"], result["strength"]) == ("inconclusive", "signature not tested")
    assert result["reasons"] == [
        "no hallmark estrogen-response set was tested (none loaded, or outside the GSEA size limits), and the "
        "direct ER targets alone are not a call.",
        "gene-set collection 'h.all' 2024.1.Hs was unavailable.",
        "the DE dispersion trend is 'mean (parametric fit failed)' (R would use a local fit there).",
    ]
    assert set(result["software"]) == {"python", "knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy"}
    write_verdict(result, tmp_path / "results" / "verdict" / "kd.json")
    back = json.loads((tmp_path / "results" / "verdict" / "kd.json").read_text())
    assert back["verdict"] == "inconclusive" and back["summary"] == result["summary"]
    assert back["provenance"] == provenance


def test_the_docs_state_the_rule_and_strengths_of_the_code():
    doc = verdict_docs.DOC.read_text()
    name, script = "verdict rule", verdict_docs.SCRIPT
    assert docgen.current(doc, name, script) == docgen.wrapped(verdict_docs.rule_section(), name, script), (
        f"run: python {script} --write"
    )
