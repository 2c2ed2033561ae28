"""The verdict: the decision table on synthetic GSEA tables, then real data end to end.

Real-data DE tables come from knockseq's own steps (readers, DE, knockdown check), as the
workflow runs them.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from knockseq.counts import build_counts
from knockseq.de import DEResult, run_contrast
from knockseq.enrichment import run_gsea
from knockseq.knockdown import assess_knockdown
from knockseq.genesets import ER_CORE_SET, GeneSetCollection, load_gene_sets
from knockseq.verdict import EARLY, LATE, decide, summary_line, write_verdict

HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"
TARGETS = ("PPP3CA", "PPP3CB")


# --- reusable real-data helpers ----------------------------------------------------------------

SIMULATED = {"name": "knockdown_vs_control", "variable": "condition", "test": "knockdown", "reference": "control"}


@functools.cache
def _simulated(groups: tuple[tuple[str, ...], tuple[str, ...]] | None) -> tuple[pd.DataFrame, DEResult]:
    """Sheet and knockseq DE result of the simulated knockdown (featureCounts' multi-sample table)."""
    folder = shared_path("data/quantifiers")
    if groups is None:
        samples = pd.read_csv(folder / "samples.tsv", sep="\t", usecols=["sample", "condition"])
    else:
        samples = pd.DataFrame({"sample": [*groups[0], *groups[1]],
                                "condition": ["knockdown"] * len(groups[0]) + ["control"] * len(groups[1])})
    counts, _, _ = build_counts(samples, base_dir=folder, counts=folder / "featurecounts/counts.txt",
                                annotation=folder / "reference/genes.gtf.gz")
    return samples, run_contrast(counts, samples, contrast=SIMULATED)


def simulated_de(groups: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> pd.DataFrame:
    """DE table of the simulated knockdown (true labels, or ``groups`` = (knockdown, control) samples)."""
    return _simulated(groups)[1].table.copy()


def simulated_knockdown(groups: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> dict:
    """results/knockdown/{contrast}.json of the simulated knockdown, config defaults."""
    samples, result = _simulated(groups)
    return assess_knockdown(result.table, result.normalized_counts, samples, SIMULATED, TARGETS)


@functools.cache
def _sets(offline: bool):
    sources = [{"builtin": "er_core"}] if offline else [{"builtin": "er_core"}, {"gmt": str(shared_path(HALLMARK))}]
    return load_gene_sets(sources, cache_dir="unused")


def verdict_for(de: pd.DataFrame, knockdown: dict | None, contrast: str, offline: bool = False) -> dict:
    """GSEA (1000 permutations, seed 42) and the verdict of a DE table."""
    sets = _sets(offline)
    return decide(run_gsea(de, sets), knockdown, de, sets.provenance, contrast=contrast)


# --- decision table on synthetic GSEA tables ---------------------------------------------------

def _gsea(**sets: tuple[float, float]) -> pd.DataFrame:
    """A GSEA table with the given (NES, fdr) per ER set name key: early, late, core; None = untested."""
    names = {"early": EARLY, "late": LATE, "core": ER_CORE_SET}
    rows = []
    for key, value in sets.items():
        nes, q = value if value is not None else (np.nan, np.nan)
        rows.append({"gene_set": names[key], "collection": "er_core" if key == "core" else "h.all", "NES": nes,
                     "ES": np.sign(nes) * 0.5 if value else np.nan, "pvalue": q, "fdr": q,
                     "set_size": 19 if key == "core" else 200, "matched_size": 18 if value else 5,
                     "coverage": 0.9, "leading_edge": "GREB1,PGR" if value else pd.NA})
    rows.append({"gene_set": "HALLMARK_E2F_TARGETS", "collection": "h.all", "NES": -3.0, "ES": -0.7,
                 "pvalue": 0.0, "fdr": 0.0, "set_size": 200, "matched_size": 190, "coverage": 0.95,
                 "leading_edge": "CDK1"})
    return pd.DataFrame(rows)


_DE = pd.DataFrame({"gene_id": ["ENSG1", "ENSG2"], "gene_name": ["GREB1", "PGR"], "baseMean": [100.0, 50.0],
                    "log2FoldChange": [-1.0, -0.5], "lfcSE": [0.2, 0.2], "stat": [-5.0, -2.5],
                    "pvalue": [1e-6, 0.01], "padj": [1e-5, 0.05]})
_EFFECTIVE = {"contrast": "kd", "status": "effective", "targets": []}


@pytest.mark.parametrize(
    ("sets", "verdict", "decided_by"),
    [
        ({"early": (-2.1, 0.001), "late": (-1.9, 0.004), "core": (-2.3, 0.0)}, "suppressed", [EARLY, LATE]),
        ({"early": (-2.1, 0.001), "late": (-0.9, 0.6), "core": (-1.0, 0.3)}, "suppressed", [EARLY, LATE]),
        ({"early": (0.8, 0.7), "late": (-1.8, 0.01)}, "suppressed", [EARLY, LATE]),
        ({"early": (2.0, 0.001), "late": (1.7, 0.02), "core": (2.2, 0.001)}, "activated", [EARLY, LATE]),
        ({"early": (-2.0, 0.001), "late": (1.9, 0.01)}, "inconclusive", [EARLY, LATE]),
        ({"early": (-2.0, 0.001), "late": (-1.0, 0.3), "core": (1.9, 0.01)}, "inconclusive", [EARLY, LATE, ER_CORE_SET]),
        ({"early": (-1.2, 0.2), "late": (1.1, 0.3), "core": (-1.3, 0.2)}, "unchanged", [EARLY, LATE]),
        ({"early": (-1.2, 0.2), "late": (-1.1, 0.3), "core": (-2.0, 0.001)}, "inconclusive", [EARLY, LATE, ER_CORE_SET]),
        ({"early": (-2.0, 0.05), "late": (-2.0, 0.0500001)}, "unchanged", [EARLY, LATE]),  # FDR < fdr is strict
        ({"core": (-2.0, 0.001)}, "suppressed", [ER_CORE_SET]),
        ({"early": None, "late": None, "core": (1.8, 0.01)}, "activated", [ER_CORE_SET]),
        ({"early": None, "late": (-1.7, 0.02), "core": None}, "suppressed", [LATE]),
        ({"core": (-0.5, 0.9)}, "unchanged", [ER_CORE_SET]),
        ({}, "inconclusive", []),
        ({"early": None, "core": None}, "inconclusive", []),
    ],
)
def test_decision_table(sets, verdict, decided_by):
    result = decide(_gsea(**sets), _EFFECTIVE, _DE, [], fdr=0.05)
    assert (result["verdict"], result["er_call"], result["decided_by"]) == (verdict, verdict, decided_by)


def test_reasons_name_what_decided():
    only_core = decide(_gsea(core=(-2.0, 0.001)), _EFFECTIVE, _DE, [])
    assert only_core["reasons"] == ["no hallmark estrogen-response set was tested; the ER core set alone decides."]
    assert only_core["gene_sets"][EARLY] == {
        "status": "absent", "call": None, "note": "not in any loaded gene-set collection (not configured, or unavailable)"
    }
    untested = decide(_gsea(early=None, core=(-2.0, 0.001)), _EFFECTIVE, _DE, [])["gene_sets"][EARLY]
    assert untested["status"] == "not_tested" and untested["note"].startswith("only 5 of its 200 genes are in the data")
    conflict = decide(_gsea(early=(-2.0, 0.001), late=(1.9, 0.01)), _EFFECTIVE, _DE, [])
    assert conflict["reasons"] == [f"ER sets are significant in opposite directions ({EARLY} down, {LATE} up)."]


def test_failed_knockdown_makes_it_inconclusive():
    knockdown = {"contrast": "kd", "status": "failed", "targets": [
        {"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 94.2, "status": "failed",
         "normalized_counts": {"s1": 10.0}}]}
    result = decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.004)), knockdown, _DE, [])
    assert (result["verdict"], result["er_call"]) == ("inconclusive", "suppressed")
    assert result["reasons"][0] == ("the knockdown failed (PPP3CA 94% remaining), so the ER call 'suppressed' cannot "
                                    "be attributed to it.")
    assert result["knockdown"] == {"status": "failed", "targets": [
        {"gene": "PPP3CA", "gene_name": "PPP3CA", "percent_remaining": 94.2, "status": "failed"}]}
    assert result["summary"].startswith("kd: ER targets INCONCLUSIVE - the knockdown failed (PPP3CA 94% remaining)")


def test_weak_knockdown_is_stated_but_keeps_the_call():
    knockdown = {"contrast": "kd", "status": "weak", "targets": [{"gene": "PPP3CA", "percent_remaining": 70.0}]}
    result = decide(_gsea(early=(-2.1, 0.001)), knockdown, _DE, [])
    assert result["verdict"] == "suppressed"
    assert result["reasons"] == ["the knockdown was weak (PPP3CA 70% remaining)."]
    assert result["summary"].endswith("; knockdown weak")


def test_summary_line_and_json(tmp_path):
    provenance = [{"name": "h.all", "version": "2024.1.Hs", "status": "unavailable", "message": "offline"}]
    result = decide(_gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), core=(-2.34, 0.0)), _EFFECTIVE, _DE, provenance,
                    contrast="knockdown_vs_control")
    line = ("knockdown_vs_control: ER targets SUPPRESSED (HALLMARK_ESTROGEN_RESPONSE_EARLY NES -2.10, FDR 0.001; "
            "HALLMARK_ESTROGEN_RESPONSE_LATE NES -1.90, FDR 0.0042; KNOCKSEQ_ER_CORE NES -2.34, FDR ~0); "
            "knockdown effective")
    assert result["summary"] == summary_line(result) == line
    assert result["reasons"] == ["gene-set collection 'h.all' 2024.1.Hs was unavailable."]
    assert result["gene_sets"][EARLY]["leading_edge"] == ["GREB1", "PGR"]
    greb1 = result["er_core_genes"][0]
    assert greb1 == {"gene": "GREB1", "in_data": True, "gene_id": "ENSG1", "baseMean": 100.0,
                     "log2FoldChange": -1.0, "padj": 1e-5, "stat": -5.0}
    assert {"gene": "TFF1", "in_data": False} in result["er_core_genes"]
    assert set(result["software"]) == {"python", "knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy"}
    write_verdict(result, tmp_path / "verdict" / "knockdown_vs_control.json")
    back = json.loads((tmp_path / "verdict" / "knockdown_vs_control.json").read_text())
    assert back["verdict"] == "suppressed" and back["summary"] == line and back["provenance"] == provenance


def test_no_knockdown_record_is_not_assessed():
    result = decide(_gsea(early=(2.1, 0.001)), None, _DE, [], contrast="E2_vs_control")
    assert result["knockdown"] == {"status": "not assessed", "targets": []}
    assert result["summary"].endswith("; knockdown not assessed")


# --- real data ---------------------------------------------------------------------------------

def test_simulated_calcineurin_knockdown_is_suppressed():
    de = simulated_de()
    knockdown = simulated_knockdown()
    assert knockdown["status"] == "effective"  # PPP3CA/B log2FC about -1.9, 27% remaining
    result = verdict_for(de, knockdown, "knockdown_vs_control")
    # Measured (1000 permutations, seed 42): EARLY NES -2.66, LATE -2.45, ER core -2.15, every FDR 0
    # (no permutation as extreme): the 54 programmed ER targets are all down by 0.6-1.5 log2.
    assert result["verdict"] == "suppressed" and result["decided_by"] == [EARLY, LATE]
    for name in (EARLY, LATE, ER_CORE_SET):
        assert result["gene_sets"][name]["NES"] < -2.0 and result["gene_sets"][name]["fdr"] < 0.01
    core = {g["gene"]: g for g in result["er_core_genes"]}
    assert core["GREB1"]["log2FoldChange"] == pytest.approx(-0.60, abs=0.05)  # README: median-of-ratios -0.61
    assert core["PGR"]["log2FoldChange"] == pytest.approx(-0.78, abs=0.05)  # README: -0.78
    assert not core["MYC"]["in_data"]
    assert result["summary"].startswith("knockdown_vs_control: ER targets SUPPRESSED (HALLMARK_ESTROGEN_RESPONSE_EARLY NES -2.")
    assert result["summary"].endswith("; knockdown effective")


def test_simulated_knockdown_offline_uses_the_er_core_set_alone():
    de = simulated_de()
    result = verdict_for(de, simulated_knockdown(), "kd", offline=True)
    assert result["verdict"] == "suppressed" and result["decided_by"] == [ER_CORE_SET]
    assert result["gene_sets"][ER_CORE_SET]["matched_size"] == 18  # all but MYC
    assert result["gene_sets"][EARLY]["status"] == "absent"


# 2 vs 2 leaves PyDESeq2 two residual degrees of freedom, and it warns about its dispersion fits.
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_balanced_label_permutation_is_not_suppressed():
    # Each group holds one control and one knockdown sample, so the true effect cancels.
    groups = (("control_1", "knockdown_1"), ("control_2", "knockdown_2"))
    de = simulated_de(groups)
    # Measured: EARLY NES 0.91 (FDR 0.91), LATE 1.02 (0.82), ER core -0.76 (0.79).
    assert verdict_for(de, None, "permuted")["verdict"] == "unchanged"
    # With the knockdown checked as well, the targets are not down either: inconclusive.
    knockdown = simulated_knockdown(groups)
    assert knockdown["status"] == "failed"
    assert verdict_for(de, knockdown, "permuted")["verdict"] == "inconclusive"


def test_swapped_labels_are_not_suppressed():
    # "knockdown" = 2 controls + 1 knockdown: the true effect now points the other way.
    de = simulated_de((("control_1", "control_2", "knockdown_3"), ("control_3", "knockdown_1", "knockdown_2")))
    result = verdict_for(de, None, "swapped")
    assert result["verdict"] != "suppressed"
    assert result["er_call"] == "activated"  # measured: EARLY NES +2.45, LATE +2.22, ER core +1.52


def test_every_collection_unavailable_is_inconclusive():
    de = simulated_de()
    offline = GeneSetCollection(provenance=[{"name": "h.all", "version": "2024.1.Hs", "status": "unavailable",
                                             "kind": "msigdb", "n_sets": 0, "sha256": None}])
    gsea = run_gsea(de, offline)
    assert gsea.empty
    result = decide(gsea, simulated_knockdown(), de, offline.provenance, contrast="kd")
    assert result["verdict"] == "inconclusive"
    assert result["reasons"] == ["no ER gene set could be tested.", "gene-set collection 'h.all' 2024.1.Hs was unavailable."]
    assert result["summary"] == (
        "kd: ER targets INCONCLUSIVE - no ER gene set could be tested (HALLMARK_ESTROGEN_RESPONSE_EARLY not tested; "
        "HALLMARK_ESTROGEN_RESPONSE_LATE not tested; KNOCKSEQ_ER_CORE not tested); knockdown effective"
    )


@pytest.mark.slow
def test_mcf7_estradiol_activates_er_targets():
    samples = pd.read_csv(shared_path("data/mcf7_e2/samples.tsv"), sep="\t", dtype=str)
    counts, _, _ = build_counts(samples, base_dir=".", counts=shared_path("data/mcf7_e2/1_counts_file.csv"),
                                annotation=shared_path("data/annotation/human_ensembl_gene_names.tsv.gz"))
    contrast = {"name": "E2_vs_control", "variable": "condition", "test": "E2", "reference": "control"}
    de = run_contrast(counts, samples, contrast=contrast).table
    result = verdict_for(de, None, "E2_vs_control")
    # Measured: EARLY NES +3.02, LATE +3.04, ER core +2.56, every FDR 0 (1000 permutations).
    assert result["verdict"] == "activated" and result["decided_by"] == [EARLY, LATE]
    for name in (EARLY, LATE, ER_CORE_SET):
        assert result["gene_sets"][name]["NES"] > 2.0 and result["gene_sets"][name]["fdr"] < 0.01
    core = {g["gene"]: g for g in result["er_core_genes"]}
    assert core["GREB1"]["log2FoldChange"] == pytest.approx(3.03, abs=0.15)  # shared README CPM anchor +3.03
    assert core["PGR"]["log2FoldChange"] == pytest.approx(2.67, abs=0.2)  # anchor +2.67
    assert result["gene_sets"][EARLY]["leading_edge"][:2] == ["GREB1", "TFF1"]
