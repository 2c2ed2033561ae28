"""A treatment on real data through the whole workflow: MCF-7 estradiol vs control.

The config names no knockdown anywhere and loads the real hallmark GMT from ../shared, so the
path where the hallmark sets and the direct ER targets decide together runs end to end.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import shared_path
from test_workflow import snakemake

from knockseq.verdict import EARLY, LATE


@pytest.fixture(scope="module")
def mcf7_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("mcf7")
    (workdir / "my.yaml").write_text(
        f"samples: {shared_path('data/mcf7_e2/samples.tsv')}\n"
        f"counts: {shared_path('data/mcf7_e2/1_counts_file.csv')}\n"
        f"annotation: {shared_path('data/annotation/human_ensembl_gene_names.tsv.gz')}\n"
        "contrasts:\n"
        "  E2_vs_control: {test: E2, reference: control}\n"
        "gene_sets:\n"
        "  - builtin: er_core\n"
        f"  - gmt: {shared_path('data/genesets/h.all.v7.0.symbols.gmt')}\n"
    )
    return workdir, snakemake(workdir, "--cores", "2", "--configfile", str(workdir / "my.yaml"))


def test_estradiol_is_activated_with_the_knockdown_not_assessed(mcf7_run):
    workdir, run = mcf7_run
    knockdown = json.loads((workdir / "results/knockdown/E2_vs_control.json").read_text())
    assert (knockdown["status"], knockdown["targets"]) == ("not assessed", [])
    verdict = json.loads((workdir / "results/verdict/E2_vs_control.json").read_text())
    assert (verdict["verdict"], verdict["strength"]) == ("activated", "strong")
    assert verdict["signature"] == {"call": "up", "sets": [EARLY, LATE]}
    direct = verdict["direct_targets"]
    # CAMERA's mean test p 1.3e-4, its rank test 0.0038 (measured)
    assert direct["call"] == "up" and direct["camera"]["pvalue"] < 1e-3 and direct["pvalue"] < 0.005
    assert verdict["gene_sets"][EARLY]["collection"] == "h.all" and verdict["gene_sets"][EARLY]["NES"] > 2.5
    # Estradiol represses ESR1 itself (measured log2FC -0.65).
    assert verdict["esr1"]["call"] == "down"
    line = verdict["summary"]
    assert line.startswith("E2_vs_control: ER targets ACTIVATED [strong] (EARLY NES 2.9")
    assert "; knockdown not assessed; ESR1 mRNA down (log2FC -0.6" in line
    assert line in run.stdout
    assert "Summary of every contrast: results/summary/verdicts.tsv" in run.stdout


def test_summary_table_row(mcf7_run):
    workdir, _ = mcf7_run
    table = pd.read_csv(workdir / "results/summary/verdicts.tsv", sep="\t", keep_default_na=False)
    (row,) = table.to_dict(orient="records")
    assert (row["contrast"], row["verdict"], row["knockdown"], row["knockdown_remaining"]) == (
        "E2_vs_control",
        "activated",
        "not assessed",
        "",
    )
    assert row["log2FC_GREB1"] == pytest.approx(3.03, abs=0.2)  # shared README CPM anchor
    values = pd.read_csv(workdir / "results/summary/er_targets_heatmap.tsv", sep="\t", index_col="gene")
    assert values.loc["GREB1", "E2_vs_control"] == pytest.approx(row["log2FC_GREB1"], rel=1e-9)
    assert (workdir / "results/summary/er_targets_heatmap.svg").stat().st_size > 10_000
