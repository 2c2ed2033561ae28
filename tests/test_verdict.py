"""The verdict's decision rule and evidence, on synthetic GSEA tables and DE tables.

Real data (every quantifier's output, estradiol datasets, negatives and borderline cases) is in
tests/test_calibration.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import PROJECT

from knockseq.config import config_defaults
from knockseq.enrichment import GSEA_COLUMNS
from knockseq.genesets import ER_CORE_SET
from knockseq.verdict import EARLY, LATE, decide, rule, summary_line, write_verdict

VERDICT = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["verdict"]

SIGNATURE_ONLY = "hallmark sets shifted but the direct ER targets did not."
DIRECT_ONLY = "the direct ER targets moved but the hallmark estrogen-response sets did not."
NO_HALLMARK = "no hallmark estrogen-response set was tested; the direct ER targets decide alone."
GLOBAL = "many other hallmark sets moved the same way: ER targets changed within a global shift, not specifically."


@pytest.mark.parametrize(
    ("signature", "direct", "knockdown", "shift", "expected"),
    [
        ("down", "down", "effective", False, ("suppressed", "suppressed", "strong", [])),
        ("up", "up", "not assessed", False, ("activated", "activated", "strong", [])),
        ("down", "down", "effective", True, ("suppressed", "suppressed", "global shift", [GLOBAL])),
        ("down", "ns", "effective", False, ("inconclusive", "inconclusive", "signature only", [SIGNATURE_ONLY])),
        ("up", "ns", "not assessed", True, ("inconclusive", "inconclusive", "signature only", [SIGNATURE_ONLY])),
        ("ns", "down", "effective", False, ("inconclusive", "inconclusive", "direct targets only", [DIRECT_ONLY])),
        ("ns", "ns", "effective", False, ("unchanged", "unchanged", "none", [])),
        ("down", "up", "effective", False, ("inconclusive", "inconclusive", "none",
                                            ["the hallmark sets went down but the direct ER targets went up."])),
        ("conflict", "down", "effective", False, (
            "inconclusive", "inconclusive", "none",
            ["the hallmark estrogen-response sets are significant in opposite directions."])),
        (None, "down", "effective", False, ("suppressed", "suppressed", "direct targets only", [NO_HALLMARK])),
        (None, "ns", "effective", False, ("unchanged", "unchanged", "none", [NO_HALLMARK])),
        ("down", None, "effective", False, (
            "inconclusive", "inconclusive", "signature only",
            ["the direct ER targets could not be tested, and the hallmark sets alone are not specific to ER."])),
        (None, None, "effective", False, ("inconclusive", "inconclusive", "none", ["no ER gene set could be tested."])),
        ("down", "down", "failed", False, (
            "inconclusive", "suppressed", "none",
            ["the knockdown failed, so the ER call 'suppressed' cannot be attributed to it."])),
        ("down", "down", "weak", False, ("suppressed", "suppressed", "strong", ["the knockdown was weak."])),
        ("ns", "ns", "failed", False, (
            "inconclusive", "unchanged", "none",
            ["the knockdown failed, so the ER call 'unchanged' cannot be attributed to it."])),
    ],
)
def test_decision_rule(signature, direct, knockdown, shift, expected):
    assert rule(signature, direct, knockdown, shift) == (expected[0], expected[1], expected[2], expected[3])


# --- decide(): evidence on synthetic tables ------------------------------------------------------

def _gsea(early=None, late=None, core=None, others=()) -> pd.DataFrame:
    """A GSEA table: ER sets given as (NES, fdr) or None (absent); ``others`` as (name, NES, fdr)."""
    rows = []
    for name, value, collection in ((EARLY, early, "h.all"), (LATE, late, "h.all"), (ER_CORE_SET, core, "er_core")):
        if value is not None:
            nes, q = value
            rows.append((name, collection, nes, q, "GREB1,PGR"))
    rows += [(name, "h.all", nes, q, "CDK1") for name, nes, q in others]
    return pd.DataFrame([{"gene_set": n, "collection": c, "NES": nes, "ES": np.sign(nes) * 0.5, "pvalue": q / 2,
                          "fdr": q, "set_size": 200, "matched_size": 150, "coverage": 0.75, "leading_edge": edge}
                         for n, c, nes, q, edge in rows], columns=GSEA_COLUMNS)


_DE = pd.DataFrame({
    "gene_id": ["ENSG1", "ENSG2", "ENSG3", "ENSG4"], "gene_name": ["GREB1", "PGR", "ESR1", "ESR1"],
    "baseMean": [100.0, 50.0, 400.0, 2.0], "log2FoldChange": [-1.0, -0.5, -0.05, -3.0], "lfcSE": [0.2] * 4,
    "stat": [-5.0, -2.5, -0.3, -6.0], "pvalue": [1e-6, 0.01, 0.7, 1e-8], "padj": [1e-5, 0.05, 0.8, 1e-7],
})
_EFFECTIVE = {"contrast": "kd", "status": "effective", "note": None, "thresholds": {"alpha": 0.05},
              "targets": [{"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 27.2, "status": "effective",
                           "normalized_counts": {"s1": 10.0}}]}
_DIRECT_DOWN = {"status": "tested", "set": ER_CORE_SET, "direction": "down", "pvalue": 2e-5, "t": -6.1, "genes": []}
_DIRECT_NS = {**_DIRECT_DOWN, "pvalue": 0.4, "t": -0.8}
_OTHERS = [("HALLMARK_E2F_TARGETS", -2.5, 0.001), ("HALLMARK_G2M_CHECKPOINT", -1.2, 0.3),
           ("HALLMARK_MYC_TARGETS_V1", 1.8, 0.01), ("HALLMARK_APOPTOSIS", 0.3, 0.9)]


def _decide(gsea, direct=_DIRECT_DOWN, knockdown=_EFFECTIVE, provenance=(), de_settings=None) -> dict:
    return decide(gsea, knockdown, _DE, list(provenance), direct, contrast="kd", de_settings=de_settings, **VERDICT)


def test_concordant_suppression_with_its_evidence():
    result = _decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), core=(-2.3, 0.0), others=_OTHERS))
    assert (result["verdict"], result["strength"], result["er_call"]) == ("suppressed", "strong", "suppressed")
    assert result["signature"] == {"call": "down", "sets": [EARLY, LATE]}
    assert result["direct_targets"]["call"] == "down"
    # E2F (-2.5) ranks first downwards, then EARLY (-2.1) and LATE (-1.9); one other set is down, one up.
    assert result["specificity"] == {
        "collection": "h.all", "n_sets_tested": 6, "direction": "down",
        "ranks": {EARLY: 2, LATE: 3}, "n_other_same_direction": 1, "n_other_opposite_direction": 1,
        "share_other_same_direction": 0.25, "er_leads": True, "global_shift": False,
    }
    assert result["summary"] == summary_line(result) == (
        "kd: ER targets SUPPRESSED [strong] (EARLY NES -2.10, FDR 0.001; LATE NES -1.90, FDR 0.0042; direct ER "
        "targets down, CAMERA p 2e-05; ER sets rank 2, 3 of 6, 1 other set(s) down); knockdown effective "
        "(PPP3CA 27% remaining); ESR1 mRNA unchanged (log2FC -0.05): the targets fell with ESR1 mRNA not down, "
        "pointing at ERalpha protein or activity"
    )
    # The ER core set is the only tested set of its collection: its FDR is its p-value, and says so.
    assert result["gene_sets"][ER_CORE_SET]["fdr_note"] == (
        "the only tested set of its collection: its FDR is its nominal p-value")
    assert "fdr_note" not in result["gene_sets"][EARLY]


def test_esr1_is_the_most_expressed_id_and_called_by_the_knockdown_alpha():
    esr1 = _decide(_gsea(early=(-2.1, 0.001)))["esr1"]
    # ENSG4 has the larger |stat| but ENSG3 is the most expressed ESR1 id: one rule in every step.
    assert esr1 == {"gene": "ESR1", "in_data": True, "gene_id": "ENSG3", "baseMean": 400.0, "log2FoldChange": -0.05,
                    "padj": 0.8, "stat": -0.3, "percent_remaining": pytest.approx(100 * 2 ** -0.05), "call": "unchanged",
                    "alpha": 0.05}


def test_esr1_down_points_at_its_own_mrna():
    de = _DE.assign(padj=[1e-5, 0.05, 0.001, 1e-7], log2FoldChange=[-1.0, -0.5, -1.2, -3.0])
    result = decide(_gsea(early=(-2.1, 0.001)), _EFFECTIVE, de, [], _DIRECT_DOWN, contrast="kd", **VERDICT)
    assert result["esr1"]["call"] == "down"
    assert result["summary"].endswith(
        "ESR1 mRNA down (log2FC -1.20): the targets fell with ESR1 mRNA itself down (as after an ESR1 siRNA or "
        "estrogen deprivation)")


def test_a_global_shift_that_ER_does_not_lead():
    others = [(f"HALLMARK_SET_{i}", -2.5 - i / 10, 0.001) for i in range(6)] + [("HALLMARK_FLAT", 0.1, 0.9)]
    result = _decide(_gsea(early=(-1.6, 0.01), late=(-1.5, 0.02), others=others))
    spec = result["specificity"]
    # 6 of 7 other sets fell, all further than EARLY (rank 7) and LATE (rank 8) of the 8 sets that moved.
    assert (spec["ranks"], spec["n_other_same_direction"], spec["er_leads"]) == ({EARLY: 7, LATE: 8}, 6, False)
    assert spec["share_other_same_direction"] == pytest.approx(6 / 7)
    assert (result["verdict"], result["strength"]) == ("suppressed", "global shift")
    assert result["reasons"] == [GLOBAL]
    # The same breadth led by an ER set (estradiol drives proliferation sets itself) is not a global shift.
    led = _decide(_gsea(early=(-3.5, 0.001), late=(-1.5, 0.02), others=others))
    assert (led["specificity"]["er_leads"], led["strength"]) == (True, "strong")


def test_signature_without_direct_targets_is_not_suppressed():
    result = _decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.004)), direct=_DIRECT_NS)
    assert (result["verdict"], result["strength"]) == ("inconclusive", "signature only")
    assert result["summary"].startswith(
        "kd: ER targets INCONCLUSIVE [signature only] - hallmark sets shifted but the direct ER targets did not (")


def test_treatment_failed_knockdown_and_untestable_direct_set():
    treatment = {"contrast": "E2", "status": "not assessed", "thresholds": {"alpha": 0.05}, "targets": [],
                 "note": "the contrast names no knockdown targets (a treatment): knockdown not assessed."}
    result = _decide(_gsea(early=(2.1, 0.001)), direct={**_DIRECT_DOWN, "direction": "up"}, knockdown=treatment)
    assert (result["verdict"], result["knockdown"]["status"]) == ("activated", "not assessed")
    assert "; knockdown not assessed; ESR1" in result["summary"]

    failed = {**_EFFECTIVE, "status": "failed",
              "targets": [{"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 94.2, "status": "failed",
                           "normalized_counts": {"s1": 10.0}}]}
    result = _decide(_gsea(early=(-2.1, 0.001)), knockdown=failed)
    assert (result["verdict"], result["er_call"], result["strength"]) == ("inconclusive", "suppressed", "none")
    assert result["knockdown"]["targets"] == [
        {"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 94.2, "status": "failed"}]
    assert result["summary"].startswith(
        "kd: ER targets INCONCLUSIVE [none] - the knockdown failed, so the ER call 'suppressed' cannot be "
        "attributed to it (")
    assert "; knockdown failed (PPP3CA 94% remaining); " in result["summary"]

    untested = {"status": "not_tested", "set": ER_CORE_SET, "genes": [], "note": "only 2 of the 14 ER core genes"}
    result = _decide(_gsea(), direct=untested)
    assert (result["verdict"], result["reasons"]) == ("inconclusive", ["no ER gene set could be tested."])
    assert result["specificity"] == {"note": "no hallmark estrogen-response set was tested."}
    assert result["summary"] == (
        "kd: ER targets INCONCLUSIVE [none] - no ER gene set could be tested (EARLY not tested; LATE not tested; "
        "direct ER targets not tested); knockdown effective (PPP3CA 27% remaining); ESR1 mRNA unchanged "
        "(log2FC -0.05)")


def test_unavailable_collection_and_trend_fallback_are_stated(tmp_path):
    provenance = [{"name": "h.all", "version": "2024.1.Hs", "status": "unavailable", "message": "offline"}]
    result = _decide(_gsea(core=(-2.3, 0.0)), provenance=provenance,
                     de_settings={"dispersion_trend": "mean (parametric fit failed)"})
    assert result["verdict"] == "suppressed" and result["strength"] == "direct targets only"
    assert result["reasons"] == [
        NO_HALLMARK,
        "gene-set collection 'h.all' 2024.1.Hs was unavailable.",
        "the DE dispersion trend is 'mean (parametric fit failed)' (R would use a local fit there).",
    ]
    assert set(result["software"]) == {"python", "knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy"}
    write_verdict(result, tmp_path / "verdict" / "kd.json")
    back = json.loads((tmp_path / "verdict" / "kd.json").read_text())
    assert back["verdict"] == "suppressed" and back["summary"] == result["summary"]
    assert back["provenance"] == provenance
