"""Every quantifier's real output of the simulated calcineurin knockdown, through every step.

Counts (readers + tximport) -> DE (knockseq.de, default R-compatible mode) -> knockdown check ->
GSEA on the real hallmark GMT + ER core set -> verdict. The truth is known: PPP3CA/PPP3CB
log2FC -2, 54 hallmark estrogen-response genes down (shared/data/quantifiers/README.md).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from knockseq.counts import build_counts
from knockseq.de import run_contrast
from knockseq.enrichment import run_gsea
from knockseq.genesets import load_gene_sets
from knockseq.knockdown import assess_knockdown
from knockseq.verdict import decide
from test_counts import TOOLS, sheet

CONTRAST = {"name": "knockdown_vs_control", "variable": "condition", "test": "knockdown", "reference": "control", "where": {}}


@functools.cache
def gene_sets():
    return load_gene_sets(
        [{"builtin": "er_core"}, {"gmt": str(shared_path("data/genesets/h.all.v7.0.symbols.gmt"))}], cache_dir="unused"
    )


@functools.cache
def truth() -> pd.DataFrame:
    return pd.read_csv(shared_path("data/quantifiers/truth.tsv"), sep="\t", index_col="gene_id")


@pytest.mark.slow
@pytest.mark.parametrize("tool", TOOLS)
def test_every_quantifier_gives_suppressed(tool, quantifiers):
    quant, options = TOOLS[tool]
    samples = sheet(quant)
    counts, _, _ = build_counts(
        samples,
        base_dir=quantifiers,
        annotation=quantifiers / "reference/genes.gtf.gz",
        **{key: quantifiers / value for key, value in options.items()},
    )
    result = run_contrast(counts, samples, contrast=CONTRAST, design=[])
    de = result.table
    knockdown = assess_knockdown(de, result.normalized_counts, samples, CONTRAST, ["PPP3CA", "PPP3CB"])
    assert knockdown["status"] == "effective"
    lfc = de.set_index("gene_name")["log2FoldChange"]
    # Truth -2; the realised median-of-ratios fold changes are -1.88 .. -1.90 (README checks).
    assert lfc["PPP3CA"] == pytest.approx(-1.89, abs=0.1)
    assert lfc["PPP3CB"] == pytest.approx(-1.90, abs=0.1)
    # Estimates track the truth: README gives Pearson 0.91 for CPM fold changes, baseline >= 20.
    expressed = truth()[truth()["baseline_mean"] >= 20]
    estimated = de.set_index("gene_id")["log2FoldChange"].reindex(expressed.index)
    assert np.corrcoef(estimated, expressed["true_log2fc"])[0, 1] > 0.88

    gsea = run_gsea(de, gene_sets())
    verdict = decide(gsea, knockdown, de, gene_sets().provenance, contrast=CONTRAST["name"])
    assert verdict["verdict"] == "suppressed"
    early = verdict["gene_sets"]["HALLMARK_ESTROGEN_RESPONSE_EARLY"]
    assert early["NES"] < -2 and early["fdr"] < 1e-3
    # The programmed ER targets lead the suppression.
    assert {"GREB1", "PGR", "TFF1"} <= set(early["leading_edge"])
