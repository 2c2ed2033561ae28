"""The cross-contrast summary: table, heatmap values, byte-stable figures."""

from __future__ import annotations

import pandas as pd
import pytest
from test_verdict import _DE_SETTINGS, _DIRECT_DOWN, _OTHERS, _decide, _direct, _gsea

from knockseq.summary import SUMMARY_COLUMNS, summarise, write_summary
from knockseq.verdict import EARLY


def _verdicts() -> list[dict]:
    genes = [{"gene": "GREB1", "in_data": True, "log2FoldChange": -1.0}, {"gene": "PGR", "in_data": False}]
    knockdown = _decide(
        _gsea(early=(-2.1, 0.001), late=(-1.9, 0.0042), others=_OTHERS), direct={**_DIRECT_DOWN, "genes": genes}
    )
    treatment = {"contrast": "E2", "status": "not assessed", "thresholds": {"alpha": 0.05}, "targets": [], "note": "x"}
    e2 = _decide(
        _gsea(early=(2.5, 0.001)),
        knockdown=treatment,
        direct={**_direct(t=7.0, mean=1.1, ci=(0.8, 1.4)), "genes": genes},
        de_settings={**_DE_SETTINGS, "contrast": "E2_vs_vehicle", "test": "E2", "reference": "vehicle"},
    )
    return [knockdown, e2]


def test_summary_table_and_heatmap_values():
    table, log2fc = summarise(_verdicts())
    assert list(table.columns) == SUMMARY_COLUMNS + ["log2FC_GREB1", "log2FC_PGR"]
    first, second = table.to_dict(orient="records")
    assert (first["contrast"], first["verdict"], first["strength"], first["knockdown"]) == (
        "kd",
        "suppressed",
        "strong",
        "effective",
    )
    assert first["knockdown_remaining"] == "PPP3CA:27.2"
    assert (first["EARLY_NES"], first["EARLY_FDR"], first["er_sets_rank"]) == (-2.1, 0.001, "2,3")
    assert (first["ESR1_log2FC"], first["ESR1_call"]) == (-0.05, "unchanged")
    assert (first["direct_pvalue"], first["direct_fdr"], first["direct_t"]) == (3e-4, 3e-4, -6.1)
    assert (first["direct_mean_log2FC"], first["direct_ci_low"], first["direct_ci_high"]) == (-0.9, -1.2, -0.6)
    assert (first["er_expressed"], first["ESR1_CPM"]) == (True, 730.0)
    assert first["sentence"].startswith("Compared with control, knockdown lowered the ER target genes")
    assert (second["verdict"], second["knockdown"], second["knockdown_remaining"]) == ("activated", "not assessed", "")
    assert pd.isna(second["LATE_NES"])
    assert list(log2fc.index) == ["GREB1", "PGR", "ESR1"]
    assert list(log2fc.columns) == ["kd", "E2_vs_vehicle"]
    assert log2fc.loc["GREB1", "kd"] == -1.0 and pd.isna(log2fc.loc["PGR", "kd"])
    assert log2fc.loc["ESR1", "E2_vs_vehicle"] == pytest.approx(-0.05)


def test_written_summary_is_byte_stable(tmp_path):
    for run in ("a", "b"):
        write_summary(_verdicts(), tmp_path / run)
    names = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert names == [f"{stem}.{ext}" for stem in ("er_targets_heatmap", "forest") for ext in ("png", "svg", "tsv")] + [
        "verdicts.tsv"
    ]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    paths = {
        "a": {
            "table": tmp_path / "a/verdicts.tsv",
            "values": tmp_path / "a/er_targets_heatmap.tsv",
            "png": tmp_path / "a/er_targets_heatmap.png",
            "svg": tmp_path / "a/er_targets_heatmap.svg",
        }
    }
    assert paths["a"]["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths["a"]["svg"].read_text()
    assert "GREB1" in svg and "E2_vs_vehicle" in svg and EARLY not in svg
    values = pd.read_csv(paths["a"]["values"], sep="\t")
    assert values.columns.tolist() == ["gene", "kd", "E2_vs_vehicle"]
