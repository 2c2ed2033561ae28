"""GSEA and ORA: the ranking recipe and gseapy against R's fgsea reference, then behaviour on real DE."""

from __future__ import annotations

import hashlib
import socket

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from scipy import stats
from test_verdict import simulated_de

from knockseq.enrichment import GSEA_COLUMNS, ORA_COLUMNS, gene_level, gsea_ranking, run_gsea, run_ora, run_prerank
from knockseq.errors import InputError
from knockseq.genesets import ER_CORE_SET, builtin_path, load_gene_sets, read_gmt, sha256_file

HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"
EARLY, LATE = "HALLMARK_ESTROGEN_RESPONSE_EARLY", "HALLMARK_ESTROGEN_RESPONSE_LATE"


# md5 of the R reference files, from shared/reference/README.md.
REFERENCE_MD5 = {
    "airway_cell_dex.deseq2.tsv": "d14517f4d817a265a513c584d2f9e3eb",
    "airway_cell_dex.fgsea_hallmark.ranks.tsv": "c12390bc9b285851cc96c8581db0070e",
    "airway_cell_dex.fgsea_hallmark.tsv": "8c1c05e25ce2d21fd59c4dfa978335ab",
}


def reference(name: str):
    """Path of an R reference file, checked against its md5."""
    path = shared_path(f"reference/{name}")
    assert hashlib.md5(path.read_bytes()).hexdigest() == REFERENCE_MD5[name], f"{path} changed"
    return path


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def fgsea():
    """R's fgsea result, its exact ranking and the hallmark sets (shared/reference)."""
    ref = pd.read_csv(reference("airway_cell_dex.fgsea_hallmark.tsv"), sep="\t").set_index("pathway")
    ranks = pd.read_csv(reference("airway_cell_dex.fgsea_hallmark.ranks.tsv"), sep="\t",
                        keep_default_na=False, na_values=[])
    return ref, pd.Series(ranks["stat"].to_numpy(), index=ranks["symbol"].to_numpy()), read_gmt(shared_path(HALLMARK))


@pytest.fixture(scope="module")
def sets():
    return load_gene_sets([{"builtin": "er_core"}, {"gmt": str(shared_path(HALLMARK))}], cache_dir="unused")


@pytest.fixture(scope="module")
def sim():
    return simulated_de()


def test_ranking_recipe_reproduces_the_fgsea_reference_ranks(fgsea):
    de = pd.read_csv(reference("airway_cell_dex.deseq2.tsv"), sep="\t")
    names = pd.read_csv(shared_path("data/annotation/human_ensembl_gene_names.tsv.gz"), sep="\t",
                        usecols=["gene_id", "gene_name"])
    ranks = gsea_ranking(de.merge(names, on="gene_id", how="left"))
    expected = fgsea[1]
    # Same 32,902 symbols in the same order (ties included) with the same values.
    assert ranks.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(ranks.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_gsea_permutation_agrees_with_fgsea(fgsea):
    ref, ranks, hallmark = fgsea
    ours = run_prerank(ranks, hallmark, permutations=1000, seed=42).set_index("gene_set").reindex(ref.index)
    assert (ref["size"] == ours["matched_size"]).all()
    # Measured, seed 42: Pearson 0.99995, max |dNES| 0.030 (seeds 1 and 7: 0.034, 0.038).
    assert np.corrcoef(ours["NES"], ref["NES"])[0, 1] > 0.9995
    assert (ours["NES"] - ref["NES"]).abs().max() < 0.08
    # Significant sets (fgsea padj < 0.05: 21 sets). gseapy's FDR is GSEA's permutation
    # q-value, computed per NES sign, not Benjamini-Hochberg: it calls 18 sets, Jaccard 0.696.
    # Only in fgsea: five negative sets (E2F_TARGETS, P53_PATHWAY, EMT, IFN_ALPHA, MTORC1; padj
    # 0.006-0.036, q 0.054-0.082: few sets are negative here, so the negative-side q is
    # conservative); only in gseapy: BILE_ACID and MYC_TARGETS_V2 (padj 0.0505, q 0.046/0.032).
    # BH on gseapy's nominal p-values gives 21 sets, Jaccard 0.909.
    fgsea_sig = set(ref.index[ref["padj"] < 0.05])
    assert len(fgsea_sig) == 21
    assert _jaccard(fgsea_sig, set(ours.index[ours["fdr"] < 0.05])) >= 0.6
    bh = pd.Series(stats.false_discovery_control(ours["pvalue"]), index=ours.index)
    assert _jaccard(fgsea_sig, set(bh.index[bh < 0.05])) >= 0.85


def test_gsea_multilevel_agrees_with_fgsea_closely(fgsea):
    ref, ranks, hallmark = fgsea
    ours = run_prerank(ranks, hallmark, seed=42, method="multilevel").set_index("gene_set").reindex(ref.index)
    # Measured, seed 42: Pearson 0.99997, max |dNES| 0.027, Jaccard 0.955 (BILE_ACID_METABOLISM,
    # fgsea padj 0.0505, is the one difference); log10 p-values correlate 0.997. About 1.3 s.
    assert np.corrcoef(ours["NES"], ref["NES"])[0, 1] > 0.9999
    assert (ours["NES"] - ref["NES"]).abs().max() < 0.06
    assert _jaccard(set(ref.index[ref["padj"] < 0.05]), set(ours.index[ours["fdr"] < 0.05])) >= 0.9
    assert ours.loc["HALLMARK_ADIPOGENESIS", "pvalue"] < 1e-6  # fgsea: 6.2e-9; no 1/permutations floor


def test_run_gsea_on_the_simulated_knockdown(sim, sets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def no_network(*args, **kwargs):
        raise AssertionError("GSEA must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    table = run_gsea(sim, sets, permutations=1000, seed=42)
    assert list(tmp_path.iterdir()) == []  # gseapy wrote nothing
    assert table.columns.tolist() == GSEA_COLUMNS and len(table) == 51
    top = table.head(3).set_index("gene_set")
    assert set(top.index) == {EARLY, LATE, ER_CORE_SET}
    assert (top["NES"] < -2).all() and (top["fdr"] < 0.01).all()
    assert top.loc[ER_CORE_SET, "collection"] == "er_core" and top.loc[EARLY, "collection"] == "h.all"
    # 351 simulated genes: each hallmark set is only partly present, and the table says how much.
    # 55 EARLY genes are in the data; HES1 (baseMean 1.4) falls to the DE pre-filter, unranked.
    assert top.loc[EARLY, ["set_size", "matched_size"]].tolist() == [200, 54]
    assert top.loc[EARLY, "coverage"] == pytest.approx(54 / 200)
    assert top.loc[ER_CORE_SET, ["set_size", "matched_size"]].tolist() == [19, 18]
    edge = top.loc[ER_CORE_SET, "leading_edge"].split(",")
    assert set(edge) <= set(sets.sets[ER_CORE_SET]) and len(edge) >= 10
    # Sets with fewer than min_size genes in the data are listed, untested.
    small = table[table["matched_size"] < 15]
    assert len(small) > 0 and small[["NES", "pvalue", "fdr"]].isna().all().all() and small["leading_edge"].isna().all()
    assert table["pvalue"].dropna().is_monotonic_increasing and table["pvalue"].notna().sum() == 51 - len(small)
    # Seeded: the same call gives the same table.
    pd.testing.assert_frame_equal(table, run_gsea(sim, sets, permutations=1000, seed=42))


@pytest.mark.parametrize("ranking", ["signed_log10_pvalue", "shrunk_lfc"])
def test_other_rankings_see_the_same_suppression(sim, sets, ranking):
    de = sim.assign(log2FoldChange_shrunk=sim["log2FoldChange"] * 0.8)
    table = run_gsea(de, sets, ranking=ranking, permutations=200).set_index("gene_set")
    assert (table.loc[[EARLY, LATE, ER_CORE_SET], "NES"] < -1.5).all()


def test_shrunk_ranking_needs_shrunk_lfcs(sim, sets):
    unshrunk = sim.assign(log2FoldChange_shrunk=np.nan)  # as written with de: {shrink: false}
    with pytest.raises(InputError, match="Fix: set de: {shrink: true}, or use ranking: stat."):
        run_gsea(unshrunk, sets, ranking="shrunk_lfc")
    with pytest.raises(InputError, match="unknown GSEA ranking 'rank'"):
        run_gsea(sim, sets, ranking="rank")


def test_plain_mapping_is_one_collection_and_size_limits_apply(sim):
    table = run_gsea(sim, {"ONE": ["GREB1", "PGR"], "TWO": sim["gene_name"].dropna().tolist()[:40]},
                     min_size=15, max_size=30, permutations=100)
    assert set(table["collection"]) == {"gene_sets"}
    assert table["NES"].isna().all()  # 2 genes < min_size, 40 genes > max_size
    assert table.set_index("gene_set")["matched_size"].to_dict() == {"ONE": 2, "TWO": 40}


def test_gene_level_collapses_duplicate_symbols_by_largest_abs_stat():
    de = pd.DataFrame({
        "gene_id": ["E5", "E4", "E3", "E2", "E1", "E6"],
        "gene_name": ["A", "A", "B", "B", None, " "],
        "stat": [1.0, -3.0, 2.0, -2.0, 9.0, 8.0],
    })
    genes = gene_level(de)
    assert genes.index.tolist() == ["A", "B"]  # unnamed and blank-named genes dropped
    assert genes["gene_id"].tolist() == ["E4", "E2"]  # tie |2| = |-2|: the smaller gene_id, as R's merge + order
    ranks = gsea_ranking(de)
    assert ranks.to_dict() == {"B": -2.0, "A": -3.0}


def test_ora_on_the_simulated_knockdown(sim, sets):
    table = run_ora(sim, sets, alpha=0.05)
    assert table.columns.tolist() == ORA_COLUMNS and len(table) == 2 * 51
    background = gene_level(sim[sim["padj"].notna()])
    down = table[table["direction"] == "down"].set_index("gene_set")
    n_down = int(((background["padj"] < 0.05) & (background["log2FoldChange"] < 0)).sum())
    assert (down["n_significant"] == n_down).all() and (down["background"] == len(background)).all()
    assert down.index[:3].tolist() == [EARLY, LATE, ER_CORE_SET]
    early = down.loc[EARLY]
    in_set = background.loc[background.index.isin(sets.sets[EARLY])]
    hits = in_set[(in_set["padj"] < 0.05) & (in_set["log2FoldChange"] < 0)]
    assert (early["overlap"], early["set_size"]) == (len(hits), len(in_set))
    assert early["pvalue"] == pytest.approx(stats.hypergeom.sf(len(hits) - 1, len(background), len(in_set), n_down))
    assert early["genes"].split(",") == hits.index.tolist()  # strongest first
    assert early["fdr"] < 1e-10
    up = table[table["direction"] == "up"].set_index("gene_set")
    assert (up.loc[[EARLY, LATE, ER_CORE_SET], "overlap"] == 0).all()
    assert (up.loc[[EARLY, LATE, ER_CORE_SET], "pvalue"] == 1).all()


def test_ora_fold_change_threshold(sim, sets):
    loose = run_ora(sim, sets, alpha=0.05).set_index(["direction", "gene_set"])
    strict = run_ora(sim, sets, alpha=0.05, min_abs_lfc=1.0).set_index(["direction", "gene_set"])
    assert strict.loc[("down", EARLY), "n_significant"] < loose.loc[("down", EARLY), "n_significant"]
    hits = strict.loc[("down", ER_CORE_SET), "genes"].split(",")
    lfc = sim.drop_duplicates("gene_name").set_index("gene_name").loc[hits, "log2FoldChange"]
    assert (lfc < -1.0).all()


def test_tables_carry_the_collection_provenance(sim, sets):
    hallmark_sha256 = "4803c09aae50bbd96d53fc681bd5545a4c89278993c15145dd7b7c994f893516"  # shared/README.md
    for table in (run_gsea(sim, sets, permutations=100), run_ora(sim, sets)):
        provenance = table.groupby("collection")[["collection_version", "collection_sha256"]].agg(set)
        assert provenance.loc["h.all", "collection_version"] == {"7.0"}
        assert provenance.loc["h.all", "collection_sha256"] == {hallmark_sha256}
        assert provenance.loc["er_core", "collection_sha256"] == {sha256_file(builtin_path("er_core"))}
