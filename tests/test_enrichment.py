"""GSEA and ORA: the ranking recipe and gseapy against R's fgsea reference, then behaviour on real DE."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys

import calibration_panel
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT, shared_path
from scipy import stats

from knockseq.config import config_defaults
from knockseq.enrichment import (
    GSEA_COLUMNS,
    ORA_COLUMNS,
    gene_level,
    gsea_ranking,
    one_id_per_symbol,
    run_gsea,
    run_ora,
    run_prerank,
)
from knockseq.errors import InputError
from knockseq.genesets import ER_CORE_SET, builtin_path, load_gene_sets, read_gmt, sha256_file

HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"
EARLY, LATE = "HALLMARK_ESTROGEN_RESPONSE_EARLY", "HALLMARK_ESTROGEN_RESPONSE_LATE"

#: The options a run uses when the config sets none (from the schema, their only home).
DEFAULTS = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")
GSEA = DEFAULTS["gsea"]
ORA = {
    "alpha": DEFAULTS["ora"]["padj"],
    "min_abs_lfc": DEFAULTS["ora"]["min_abs_lfc"],
    "min_size": GSEA["min_size"],
    "max_size": GSEA["max_size"],
}  # as workflow/scripts/ora.py maps them
#: fgsea_ref.R's arguments (nPermSimple, minSize, maxSize, set.seed), for like-for-like engine runs.
FGSEA_CALL = {"permutations": 1000, "min_size": 15, "max_size": 500, "seed": 42}


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


def r_ranking(de: pd.DataFrame) -> pd.Series:
    """fgsea_ref.R's ranking: stat, NA dropped, merged by gene_id (sorts by it), largest |stat| per symbol.

    ``res[order(-abs(stat))][!duplicated(symbol)]`` then ``sort(decreasing = TRUE)``: R's order
    and its radix sort are stable, as mergesort is here.
    """
    table = de[de["stat"].notna() & de["gene_name"].notna() & (de["gene_name"] != "")].sort_values(
        "gene_id", kind="mergesort"
    )
    table = table.iloc[np.argsort(-table["stat"].abs().to_numpy(), kind="mergesort")].drop_duplicates("gene_name")
    ranks = pd.Series(table["stat"].to_numpy(), index=table["gene_name"].to_numpy())
    return ranks.iloc[np.argsort(-ranks.to_numpy(), kind="mergesort")]


@pytest.fixture(scope="module")
def airway_de() -> pd.DataFrame:
    """R's airway ~ cell + dex results with the annotation's symbols (as fgsea_ref.R mapped them)."""
    de = pd.read_csv(reference("airway_cell_dex.deseq2.tsv"), sep="\t")
    names = pd.read_csv(
        shared_path("data/annotation/human_ensembl_gene_names.tsv.gz"), sep="\t", usecols=["gene_id", "gene_name"]
    )
    return de.merge(names, on="gene_id", how="left")


@pytest.fixture(scope="module")
def fgsea(airway_de):
    """R's fgsea result, R's ranking rebuilt from its DE table and the hallmark sets (shared/reference)."""
    ref = pd.read_csv(reference("airway_cell_dex.fgsea_hallmark.tsv"), sep="\t").set_index("pathway")
    ranks = pd.read_csv(
        reference("airway_cell_dex.fgsea_hallmark.ranks.tsv"), sep="\t", keep_default_na=False, na_values=[]
    )
    rebuilt = r_ranking(airway_de)
    # Same 32,902 symbols in the same order (ties included) with the same values as R wrote.
    assert rebuilt.index.tolist() == ranks["symbol"].tolist()
    np.testing.assert_allclose(rebuilt.to_numpy(), ranks["stat"].to_numpy(), rtol=1e-12)
    return ref, rebuilt, read_gmt(shared_path(HALLMARK))


@pytest.fixture(scope="module")
def sets():
    return load_gene_sets([{"builtin": "er_core"}, {"gmt": str(shared_path(HALLMARK))}], cache_dir="unused")


@pytest.fixture(scope="module")
def sim():
    """DE table of the simulated knockdown (featureCounts' multi-sample table), default options."""
    return calibration_panel.quantifier("featurecounts_table").de


def test_ranking_differs_from_the_fgsea_reference_only_in_duplicate_symbols(fgsea, airway_de):
    ranks = gsea_ranking(airway_de, "stat")
    expected = fgsea[1]
    assert sorted(ranks.index) == sorted(expected.index)
    # R kept a duplicated symbol's id with the largest |stat|, knockseq keeps its most expressed id:
    # 90 of 32,902 symbols take another id's stat (none of them in a hallmark set).
    differ = expected.index[ranks.reindex(expected.index).to_numpy() != expected.to_numpy()]
    assert len(differ) == 90
    assert (airway_de["gene_name"].value_counts()[differ] >= 2).all()  # each is a duplicated symbol
    hallmark_genes = {gene for genes in fgsea[2].values() for gene in genes}
    assert not set(differ) & hallmark_genes


def test_gsea_permutation_agrees_with_fgsea(fgsea):
    ref, ranks, hallmark = fgsea
    ours = run_prerank(ranks, hallmark, **FGSEA_CALL, method="permutation").set_index("gene_set").reindex(ref.index)
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
    ours = run_prerank(ranks, hallmark, **FGSEA_CALL, method="multilevel").set_index("gene_set").reindex(ref.index)
    # Measured, seed 42: Pearson 0.99997, max |dNES| 0.027, Jaccard 0.955 (BILE_ACID_METABOLISM,
    # fgsea padj 0.0505, is the one difference); log10 p-values correlate 0.997. About 1.3 s.
    assert np.corrcoef(ours["NES"], ref["NES"])[0, 1] > 0.9999
    assert (ours["NES"] - ref["NES"]).abs().max() < 0.06
    assert _jaccard(set(ref.index[ref["padj"] < 0.05]), set(ours.index[ours["fdr"] < 0.05])) >= 0.9
    assert ours.loc["HALLMARK_ADIPOGENESIS", "pvalue"] < 1e-6  # fgsea: 6.2e-9; no 1/permutations floor


@pytest.mark.parametrize("method", ["multilevel", "permutation"])
def test_gseapy_core_gives_what_gseapy_prerank_gives(fgsea, method):
    # run_prerank calls gseapy's compiled core without gseapy.prerank's table building: every
    # number and leading edge must stay what the public call reports for the same input, and
    # the workflow's 2 threads must give what 1 gives (gseapy.prerank caps threads at CPUs - 1).
    import gseapy

    _, ranks, hallmark = fgsea
    call = {**FGSEA_CALL, "permutations": 200}
    ours = run_prerank(ranks, hallmark, **call, method=method, threads=2).set_index("gene_set")
    ordered = ranks.iloc[np.argsort(-ranks.to_numpy(), kind="mergesort")]
    present = set(ordered.index)
    public = (
        gseapy.prerank(
            rnk=pd.Series(ordered.to_numpy(), index=np.asarray(ordered.index, dtype=object)),
            gene_sets={name: [g for g in genes if g in present] for name, genes in hallmark.items()},
            outdir=None,
            min_size=call["min_size"],
            max_size=call["max_size"],
            permutation_num=call["permutations"],
            ascending=None,
            threads=1,
            seed=call["seed"],
            no_plot=True,
            verbose=False,
            method=method,
        )
        .res2d.set_index("Term")
        .reindex(ours.index)
    )
    assert len(ours) == 50
    for mine, theirs in [("ES", "ES"), ("NES", "NES"), ("pvalue", "NOM p-val"), ("fdr", "FDR q-val")]:
        assert ours[mine].to_numpy() == pytest.approx(public[theirs].to_numpy(dtype=float), rel=1e-12, abs=0)
    assert ours["leading_edge"].tolist() == public["Lead_genes"].str.replace(";", ",").tolist()


def test_knockseq_ranking_agrees_with_fgsea(fgsea, airway_de):
    ref, _, hallmark = fgsea
    ours = run_prerank(gsea_ranking(airway_de, "stat"), hallmark, **FGSEA_CALL, method="multilevel")
    ours = ours.set_index("gene_set").reindex(ref.index)
    # Measured, seed 42: Pearson 0.999968, max |dNES| 0.026 (REACTIVE_OXYGEN_SPECIES_PATHWAY),
    # Jaccard 0.864: 19 common significant sets; BILE_ACID_METABOLISM (fgsea padj 0.0505, FDR 0.045)
    # only here, PROTEIN_SECRETION and REACTIVE_OXYGEN_SPECIES (padj 0.040, 0.044; FDR 0.055, 0.052)
    # only in fgsea. The 90 re-chosen symbols are in no set: they only shift ranks around them.
    assert np.corrcoef(ours["NES"], ref["NES"])[0, 1] > 0.9999
    assert (ours["NES"] - ref["NES"]).abs().max() < 0.06
    assert _jaccard(set(ref.index[ref["padj"] < 0.05]), set(ours.index[ours["fdr"] < 0.05])) >= 0.85


def test_run_gsea_on_the_simulated_knockdown(sim, sets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def no_network(*args, **kwargs):
        raise AssertionError("GSEA must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    table = run_gsea(sim, sets, **GSEA)
    assert list(tmp_path.iterdir()) == []  # gseapy wrote nothing
    assert table.columns.tolist() == GSEA_COLUMNS and len(table) == 51
    top = table.head(2).set_index("gene_set")
    assert set(top.index) == {EARLY, LATE}
    assert (top["NES"] < -2).all() and (top["fdr"] < 0.01).all()
    assert top.loc[EARLY, "collection"] == "h.all"
    # 351 simulated genes: each hallmark set is only partly present, and the table says how much.
    # 55 EARLY genes are in the data; HES1 (baseMean 1.4) falls to the DE pre-filter, unranked.
    assert top.loc[EARLY, ["set_size", "matched_size"]].tolist() == [200, 54]
    assert top.loc[EARLY, "coverage"] == pytest.approx(54 / 200)
    edge = top.loc[EARLY, "leading_edge"].split(",")
    assert set(edge) <= set(sets.sets[EARLY]) and {"GREB1", "PGR", "TFF1"} <= set(edge)
    # The 14-gene ER core set (all in the data) is below gsea.min_size (15): listed, untested by
    # GSEA; the verdict tests it with CAMERA.
    core = table.set_index("gene_set").loc[ER_CORE_SET]
    assert (core["collection"], core["set_size"], core["matched_size"]) == ("er_core", 14, 14)
    assert pd.isna(core["NES"])
    # Sets with fewer than min_size genes in the data are listed, untested.
    small = table[table["matched_size"] < 15]
    assert len(small) > 0 and small[["NES", "pvalue", "fdr"]].isna().all().all() and small["leading_edge"].isna().all()
    assert table["pvalue"].dropna().is_monotonic_increasing and table["pvalue"].notna().sum() == 51 - len(small)
    # Seeded: the same call gives the same table.
    pd.testing.assert_frame_equal(table, run_gsea(sim, sets, **GSEA))


@pytest.mark.parametrize("ranking", ["signed_log10_pvalue", "shrunk_lfc"])
def test_other_rankings_see_the_same_suppression(sim, sets, ranking):
    de = sim.assign(log2FoldChange_shrunk=sim["log2FoldChange"] * 0.8)
    table = run_gsea(de, sets, **{**GSEA, "ranking": ranking, "permutations": 200}).set_index("gene_set")
    assert (table.loc[[EARLY, LATE], "NES"] < -1.5).all()


def test_shrunk_ranking_needs_shrunk_lfcs(sim, sets):
    unshrunk = sim.assign(log2FoldChange_shrunk=np.nan)  # as written with de: {shrink: false}
    with pytest.raises(InputError, match="Fix: set de: {shrink: true}, or use ranking: stat."):
        run_gsea(unshrunk, sets, **{**GSEA, "ranking": "shrunk_lfc"})
    with pytest.raises(InputError, match="unknown GSEA ranking 'rank'"):
        run_gsea(sim, sets, **{**GSEA, "ranking": "rank"})


def test_plain_mapping_is_one_collection_and_size_limits_apply(sim):
    table = run_gsea(
        sim,
        {"ONE": ["GREB1", "PGR"], "TWO": sim["gene_name"].dropna().tolist()[:40]},
        **{**GSEA, "min_size": 15, "max_size": 30, "permutations": 100},
    )
    assert set(table["collection"]) == {"gene_sets"}
    assert table["NES"].isna().all()  # 2 genes < min_size, 40 genes > max_size
    assert table.set_index("gene_set")["matched_size"].to_dict() == {"ONE": 2, "TWO": 40}


def test_a_duplicate_symbol_is_its_most_expressed_gene():
    de = pd.DataFrame(
        {
            "gene_id": ["E5", "E4", "E3", "E2", "E1", "E6", "E7", "E8", "E9"],
            "gene_name": ["A", "A", "B", "B", None, " ", "C", "C", "D"],
            "baseMean": [50.0, 10.0, 20.0, 20.0, 90.0, 80.0, 100.0, 5.0, np.nan],
            "stat": [1.0, -3.0, 2.0, -2.0, 9.0, 8.0, np.nan, 4.0, 0.5],
        }
    )
    chosen = one_id_per_symbol(de)
    # Unnamed and blank-named genes dropped; A: the larger baseMean, not the larger |stat|;
    # B: tie in baseMean, the smaller gene_id; C: its most expressed id even without a stat.
    assert chosen["gene_id"].to_dict() == {"A": "E5", "B": "E2", "C": "E7", "D": "E9"}
    genes = gene_level(de)
    assert genes["gene_id"].to_dict() == {"B": "E2", "A": "E5", "D": "E9"}  # C has no stat; by |stat|
    assert gsea_ranking(de, "stat").to_dict() == {"A": 1.0, "D": 0.5, "B": -2.0}


def test_ora_on_the_simulated_knockdown(sim, sets):
    table = run_ora(sim, sets, **ORA)
    assert table.columns.tolist() == ORA_COLUMNS and len(table) == 2 * 51
    background = gene_level(sim)
    background = background[background["padj"].notna()]
    alpha = ORA["alpha"]
    down = table[table["direction"] == "down"].set_index("gene_set")
    n_down = int(((background["padj"] < alpha) & (background["log2FoldChange"] < 0)).sum())
    assert (down["n_significant"] == n_down).all() and (down["background"] == len(background)).all()
    # The 14-gene ER core set is below ORA's min_size (gsea.min_size, 15): listed, untested.
    assert down.index[:2].tolist() == [EARLY, LATE] and pd.isna(down.loc[ER_CORE_SET, "pvalue"])
    early = down.loc[EARLY]
    in_set = background.loc[background.index.isin(sets.sets[EARLY])]
    hits = in_set[(in_set["padj"] < alpha) & (in_set["log2FoldChange"] < 0)]
    assert (early["overlap"], early["set_size"]) == (len(hits), len(in_set))
    assert early["pvalue"] == pytest.approx(stats.hypergeom.sf(len(hits) - 1, len(background), len(in_set), n_down))
    assert early["genes"].split(",") == hits.index.tolist()  # strongest first
    assert early["fdr"] < 1e-10
    up = table[table["direction"] == "up"].set_index("gene_set")
    assert (up.loc[[EARLY, LATE, ER_CORE_SET], "overlap"] == 0).all()
    assert (up.loc[[EARLY, LATE], "pvalue"] == 1).all()


def test_ora_fold_change_threshold(sim, sets):
    loose = run_ora(sim, sets, **ORA).set_index(["direction", "gene_set"])
    strict = run_ora(sim, sets, **{**ORA, "min_abs_lfc": 1.0}).set_index(["direction", "gene_set"])
    assert strict.loc[("down", EARLY), "n_significant"] < loose.loc[("down", EARLY), "n_significant"]
    hits = strict.loc[("down", ER_CORE_SET), "genes"].split(",")
    lfc = sim.drop_duplicates("gene_name").set_index("gene_name").loc[hits, "log2FoldChange"]
    assert (lfc < -1.0).all()


def test_tables_carry_the_collection_provenance(sim, sets):
    hallmark_sha256 = "4803c09aae50bbd96d53fc681bd5545a4c89278993c15145dd7b7c994f893516"  # shared/README.md
    for table in (run_gsea(sim, sets, **{**GSEA, "permutations": 100}), run_ora(sim, sets, **ORA)):
        provenance = table.groupby("collection")[["collection_version", "collection_sha256"]].agg(set)
        assert provenance.loc["h.all", "collection_version"] == {"7.0"}
        assert provenance.loc["h.all", "collection_sha256"] == {hallmark_sha256}
        assert provenance.loc["er_core", "collection_sha256"] == {sha256_file(builtin_path("er_core"))}


def test_gseapy_core_loads_without_gseapys_package():
    # gseapy/__init__ imports pyplot, scipy.stats and requests: 1.2 s a GSEA job does not need.
    code = (
        "import sys; from knockseq.enrichment import gseapy_core; core = gseapy_core(); "
        "print(callable(core.fgsea_rs), callable(core.prerank_rs), "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('gseapy', 'matplotlib', 'requests')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True True []"
