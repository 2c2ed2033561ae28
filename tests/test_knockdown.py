"""Knockdown efficiency: status rules, target matching, and the simulated PPP3CA/PPP3CB knockdown."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import PROJECT
from test_de import star_counts

from knockseq.config import config_defaults
from knockseq.de import run_contrast
from knockseq.errors import InputError
from knockseq.io import write_json
from knockseq.knockdown import assess_knockdown, check_targets, target_status

#: The thresholds a run uses when the config sets none (from the schema, their only home).
LIMITS = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["knockdown"]

KD = {"name": "kd", "variable": "condition", "test": "knockdown", "reference": "control"}
SAMPLES = ["c1", "c2", "k1", "k2"]


def toy(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """DE table, normalised counts and sheet from (gene_id, gene_name, baseMean, lfc, pvalue, padj, counts)."""
    de = pd.DataFrame(
        [r[:6] for r in rows], columns=["gene_id", "gene_name", "baseMean", "log2FoldChange", "pvalue", "padj"]
    )
    counts = pd.DataFrame([(r[0], r[1], *r[6]) for r in rows], columns=["gene_id", "gene_name", *SAMPLES])
    sheet = pd.DataFrame({"sample": SAMPLES, "condition": ["control"] * 2 + ["knockdown"] * 2})
    return de, counts, sheet


TOY = toy(
    [
        ("G1", "PPP3CA", 100.0, -2.0, 1e-7, 1e-6, (160.0, 160.0, 40.0, 40.0)),
        ("G2", "PPP3CB", 50.0, -0.2, 1e-4, 1e-3, (60.0, 60.0, 52.0, 52.0)),
        ("G3", "GAPDH", 900.0, 0.0, 0.8, 0.9, (900.0, 900.0, 900.0, 900.0)),
        ("G4", "DUP", 5.0, -3.0, 0.3, None, (8.0, 8.0, 1.0, 1.0)),
        ("G5", "DUP", 50.0, -1.5, 0.1, 0.2, (80.0, 80.0, 20.0, 20.0)),
        ("G6", None, 0.0, None, None, None, (0.0, 0.0, 0.0, 0.0)),
        # A weakly expressed target: a clear drop (p 0.004) that the transcriptome-wide padj
        # leaves empty (independent filtering) or above 0.05.
        ("G7", "LOWTGT", 12.0, -1.6, 0.004, None, (16.0, 16.0, 5.3, 5.3)),
        ("G8", "MIDTGT", 40.0, -1.2, 0.01, 0.09, (50.0, 50.0, 21.8, 21.8)),
    ]
)


@pytest.mark.parametrize(
    ("remaining", "pvalue", "status"),
    [
        (25.0, 1e-10, "effective"),
        (50.0, 0.049, "effective"),  # both limits inclusive/exclusive as documented
        (50.0, 0.05, "weak"),  # large drop, not significant
        (30.0, None, "weak"),  # large drop, not tested
        (70.0, 1e-4, "weak"),  # modest but real drop
        (80.0, 1e-4, "weak"),
        (81.0, 1e-4, "failed"),  # significant but too small to matter
        (70.0, 0.3, "failed"),  # modest and not significant: no evidence
        (120.0, 1e-4, "failed"),
        (None, None, "failed"),
    ],
)
def test_target_status(remaining, pvalue, status):
    assert target_status(remaining, pvalue, LIMITS) == status


def test_a_target_is_judged_by_its_own_pvalue_not_the_transcriptome_wide_padj():
    de, counts, sheet = TOY
    report = assess_knockdown(de, counts, sheet, KD, ["LOWTGT", "MIDTGT"], LIMITS)
    assert [(t["status"], t["pvalue"], t["padj"]) for t in report["targets"]] == [
        ("effective", 0.004, None),
        ("effective", 0.01, 0.09),
    ]
    assert report["test"] == (
        "each target is one pre-named hypothesis: its own Wald p-value (pvalue < alpha), not the transcriptome-wide "
        "padj; the contrast takes its worst target's status, so no correction across targets is needed"
    )


def test_overall_status_is_the_worst_target():
    de, counts, sheet = TOY
    report = assess_knockdown(de, counts, sheet, KD, ["PPP3CA", "PPP3CB"], LIMITS)
    assert [t["status"] for t in report["targets"]] == ["effective", "failed"]
    assert report["status"] == "failed"
    assert assess_knockdown(de, counts, sheet, KD, ["PPP3CA"], LIMITS)["status"] == "effective"


def test_target_report_fields():
    de, counts, sheet = TOY
    report = assess_knockdown(de, counts, sheet, KD, ["G1"], {**LIMITS, "alpha": 0.01})
    assert report["contrast"] == "kd"
    assert report["thresholds"] == {
        "effective_max_remaining": 50.0,
        "weak_max_remaining": 80.0,
        "alpha": 0.01,
    }
    (target,) = report["targets"]
    assert target == {
        "gene": "G1",
        "gene_id": "G1",
        "gene_name": "PPP3CA",
        "log2FoldChange": -2.0,
        "pvalue": 1e-7,
        "padj": 1e-6,
        "percent_remaining": 25.0,
        "percent_remaining_counts": 25.0,
        "mean_normalized_test": 40.0,
        "mean_normalized_reference": 160.0,
        "status": "effective",
        "normalized_counts": {"c1": 160.0, "c2": 160.0, "k1": 40.0, "k2": 40.0},
        "note": None,
    }


def test_shared_symbol_uses_the_most_expressed_gene():
    de, counts, sheet = TOY
    (target,) = assess_knockdown(de, counts, sheet, KD, ["DUP"], LIMITS)["targets"]
    assert target["gene_id"] == "G5" and target["status"] == "weak"
    assert target["note"] == "'DUP' matches 2 gene ids; used the most expressed, G5 (others: G4)"


def test_target_without_fold_change_failed():
    de, counts, sheet = TOY
    (target,) = assess_knockdown(de, counts, sheet, KD, ["G6"], LIMITS)["targets"]
    assert target["status"] == "failed" and target["percent_remaining"] is None
    assert target["percent_remaining_counts"] is None
    assert target["note"] == "no fold change (gene has no counts or was removed by the DE pre-filter)"


def test_absent_target_lists_close_matches():
    de, counts, sheet = TOY
    with pytest.raises(InputError) as excinfo:
        assess_knockdown(de, counts, sheet, KD, ["ppp3ca"], LIMITS)
    assert str(excinfo.value) == (
        "column 'contrasts.kd.targets': knockdown target 'ppp3ca' of contrast 'kd' is neither a gene id nor a "
        "gene name of the DE results. Close gene names: PPP3CA. Fix: give the target's symbol exactly as the "
        "data name it (case matters) or its gene id, in the contrast's targets (or knockdown.targets)."
    )
    with pytest.raises(InputError, match="'PPP3CC' of contrast 'kd' is neither .* Close gene names: PPP3CB, PPP3CA"):
        assess_knockdown(de, counts, sheet, KD, ["PPP3CC"], LIMITS)


def test_targets_are_checked_against_the_count_table():
    _, counts, _ = TOY
    found = check_targets(counts, {"kd": ["PPP3CA", "G2"], "drug": []}, "counts.tsv")
    assert found.values.tolist() == [["kd", "PPP3CA", "G1", "PPP3CA"], ["kd", "G2", "G2", "PPP3CB"]]
    with pytest.raises(InputError) as excinfo:
        check_targets(counts, {"kd": ["PPP3CA"], "si2": ["XYZ"]}, "counts.tsv")
    assert str(excinfo.value) == (
        "column 'contrasts.si2.targets': knockdown target 'XYZ' of contrast 'si2' is neither a gene id nor a "
        f"gene name of counts.tsv. The data's gene names look like gene symbols (e.g. {', '.join(counts['gene_name'][:3])})."
        " Fix: give the target's symbol exactly as the data name it (case matters) or its gene id, in the "
        "contrast's targets (or knockdown.targets)."
    )


def test_a_contrast_without_targets_is_a_treatment():
    de, counts, sheet = TOY
    report = assess_knockdown(de, counts, sheet, KD, [], LIMITS)
    assert report["status"] == "not assessed"
    assert report["targets"] == []
    assert report["note"] == "the contrast names no knockdown targets (a treatment): knockdown not assessed."


def test_simulated_knockdown_is_effective(quantifiers, tmp_path):
    counts, sheet = star_counts(quantifiers)
    de = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["de"]
    result = run_contrast(counts, sheet, contrast=KD, design=[], **{**de, "compat": "pydeseq2"})
    report = assess_knockdown(result.table, result.normalized_counts, sheet, KD, ["PPP3CA", "ENSGSIM00000068"], LIMITS)
    assert report["status"] == "effective"
    ppp3ca, ppp3cb = report["targets"]
    assert ppp3cb["gene_name"] == "PPP3CB" and ppp3cb["gene"] == "ENSGSIM00000068"
    for target in (ppp3ca, ppp3cb):
        # truth: log2FC -2, i.e. 25% remaining; median-of-ratios gives about -1.89 (27%)
        assert 20 < target["percent_remaining"] < 33
        assert target["percent_remaining_counts"] == pytest.approx(target["percent_remaining"], rel=0.1)
        assert target["pvalue"] < 1e-8
        assert list(target["normalized_counts"]) == sheet["sample"].tolist()
    write_json(report, tmp_path / "kd.json")
    assert json.loads((tmp_path / "kd.json").read_text())["targets"][1]["note"] is None
