"""The figures draw what the tables say: PCA scores, volcano points, labels, GSEA running scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from docutils.core import publish_parts

from knockseq import report
from knockseq.enrichment import gsea_ranking, one_id_per_symbol, run_prerank
from knockseq.genesets import ER_CORE_SET, er_core_genes
from knockseq.io import read_table
from knockseq.plots import de as de_plots
from knockseq.plots import gsea as gsea_plots
from knockseq.plots import qc as qc_plots
from knockseq.plots.style import _plain_text, level_colours
from knockseq.verdict import EARLY, ESR1, LATE


def de_table(n_genes: int = 800, seed: int = 1) -> pd.DataFrame:
    """A DE table: random genes plus ESR1, the ER core genes (two missing), two targets, a
    duplicated symbol and an untested gene; integer stats so the ranking has ties."""
    rng = np.random.default_rng(seed)
    core = er_core_genes()[:-2]
    names = [f"G{i}" for i in range(n_genes)] + core + [ESR1, "PPP3CA", "PPP3CB", "PGR", "UNTESTED"]
    n = len(names)
    table = pd.DataFrame(
        {
            "gene_id": [f"ENSG{i:05d}" for i in range(n)],
            "gene_name": names,
            "baseMean": rng.lognormal(5, 2, n),
            "log2FoldChange": rng.normal(0, 1, n),
            "lfcSE": 0.3,
            "stat": np.round(rng.normal(0, 2.5, n)),
        }
    )
    table["pvalue"] = rng.uniform(1e-12, 1, n)
    table["padj"] = np.minimum(table["pvalue"] * 5, 1)
    # A second, less expressed id of PGR: the symbol's most expressed id is labelled.
    table.loc[table.index[table["gene_name"] == "PGR"][-1], "baseMean"] = 1.0
    last = table.index[-1]
    table.loc[last, ["log2FoldChange", "stat", "pvalue", "padj"]] = np.nan
    return table


KNOCKDOWN = {
    "targets": [
        {"gene": "PPP3CA", "gene_id": None, "gene_name": "PPP3CA"},  # filled in below
        {"gene": "PPP3CB", "gene_id": None, "gene_name": "PPP3CB"},
        {"gene": "ABSENT1", "gene_id": None, "gene_name": None},
    ]
}


def knockdown_of(table: pd.DataFrame) -> dict:
    ids = table.drop_duplicates("gene_name", keep="first").set_index("gene_name")["gene_id"]
    targets = [dict(t, gene_id=ids[t["gene"]]) if t["gene"] in ids else t for t in KNOCKDOWN["targets"]]
    return {"targets": targets}


def test_labels_are_targets_esr1_and_er_core_genes_present():
    table = de_table()
    labels = de_plots.label_genes(table, knockdown_of(table))
    core_present = [g for g in er_core_genes()[:-2] if g != "PGR"]
    pgr = table[table["gene_name"] == "PGR"]
    assert len(pgr) == 2
    pgr_id = pgr.sort_values("baseMean")["gene_id"].iloc[-1]
    expected = [("PPP3CA", "knockdown target"), ("PPP3CB", "knockdown target"), (ESR1, "ESR1")] + [
        (g, "ER core") for g in er_core_genes()[:-2]
    ]
    assert list(zip(labels["label"], labels["kind"])) == expected
    assert labels.set_index("label").at["PGR", "gene_id"] == pgr_id
    assert set(core_present) < set(labels["label"])
    assert not set(er_core_genes()[-2:]) & set(labels["label"])


def test_volcano_points_equal_the_de_table_and_labels_do_not_overlap():
    table = de_table()
    labels = de_plots.label_genes(table, knockdown_of(table))
    fig, values = de_plots.volcano(table, labels, alpha=0.1, title="kd")
    tested = table[table["pvalue"].notna()]
    assert len(values) == len(tested) == len(table) - 1
    drawn = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    expected = np.column_stack([tested["log2FoldChange"], -np.log10(tested["pvalue"])])
    order = np.lexsort(drawn.T)
    np.testing.assert_array_equal(drawn[order], expected[np.lexsort(expected.T)])
    # Labelled genes are drawn once, on top: the labelled points are exactly the label table.
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(labels["label"])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]
    assert overlaps == []
    classes = values.set_index("gene_id")["class"]
    down = tested[(tested["padj"] < 0.1) & (tested["log2FoldChange"] < 0)]["gene_id"]
    assert (classes[down] == "down").all() and (classes == "down").sum() == len(down)


def vst_table(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    samples = [f"s{i}" for i in range(6)]
    data = rng.normal(8, 1, (700, 6)) * rng.uniform(0.2, 2, (700, 1))
    data[:, 3:] += rng.normal(0, 1.5, (700, 1))
    vst = pd.DataFrame(data, columns=samples)
    vst.insert(0, "gene_name", [f"G{i}" for i in range(700)])
    vst.insert(0, "gene_id", [f"ENSG{i:05d}" for i in range(700)])
    sheet = pd.DataFrame({"sample": samples, "condition": ["ctrl"] * 3 + ["kd"] * 3, "batch": list("ababab")})
    return vst, sheet


def test_pca_coordinates_equal_a_recomputation_from_the_vst():
    vst, sheet = vst_table()
    _, values = qc_plots.pca(vst, sheet, "condition", "batch")
    data = vst.iloc[:, 2:].to_numpy()
    top = data[np.argsort(-data.var(axis=1, ddof=1))[:500]]
    centred = top - top.mean(axis=1, keepdims=True)
    # Independent route: eigenvectors of the samples' Gram matrix give the PC scores.
    gram = centred.T @ centred
    eigval, eigvec = np.linalg.eigh(gram)
    eigval, eigvec = eigval[::-1], eigvec[:, ::-1]
    for k, column in enumerate(["PC1", "PC2"]):
        expected = eigvec[:, k] * np.sqrt(eigval[k])
        got = values[column].to_numpy()
        sign = np.sign(got @ expected)
        np.testing.assert_allclose(got, sign * expected, rtol=0, atol=1e-9)
        assert values[f"{column}_percent_variance"].iloc[0] == pytest.approx(100 * eigval[k] / eigval.sum(), abs=1e-9)
    assert list(values["condition"]) == list(sheet["condition"]) and list(values["batch"]) == list(sheet["batch"])


def test_sample_distances_are_euclidean_on_the_vst():
    vst, _ = vst_table()
    _, values = qc_plots.sample_distances(vst)
    matrix = values.set_index("sample")
    data = vst.set_index("gene_id").iloc[:, 1:]
    for a in ("s0", "s4"):
        for b in ("s1", "s5"):
            assert matrix.at[a, b] == pytest.approx(np.sqrt(((data[a] - data[b]) ** 2).sum()), rel=1e-12)
    assert sorted(matrix.index[:3]) == ["s0", "s1", "s2"] or sorted(matrix.index[3:]) == ["s0", "s1", "s2"]


@pytest.mark.parametrize("ranking", ["stat", "signed_log10_pvalue"])
def test_running_score_extreme_is_gseapy_es(ranking):
    table = de_table(n_genes=1500, seed=7)
    rng = np.random.default_rng(11)
    ranks = gsea_ranking(table, ranking)
    names = list(ranks.index)
    # One set skewed to the top, one to the bottom, the ER core set as it is (ties in the metric included).
    sets = {
        EARLY: list(ranks.index[rng.choice(300, 40, replace=False)]),
        LATE: list(ranks.index[len(names) - 1 - rng.choice(300, 40, replace=False)]),
        ER_CORE_SET: er_core_genes(),
    }
    gsea = run_prerank(ranks, sets, permutations=20, min_size=5, max_size=500, seed=42, method="permutation")
    _, values = gsea_plots.gsea_curves(table, sets, gsea, ranking, "kd")
    assert sorted(set(values["gene_set"])) == sorted(sets)
    for name, es in gsea.set_index("gene_set")["ES"].items():
        curve = values[values["gene_set"] == name]["running_score"].to_numpy()
        assert gsea_plots.enrichment_score(curve) == pytest.approx(es, abs=1e-9)
        assert curve[-1] == pytest.approx(0, abs=1e-9)  # hits and misses each sum to 1
    assert gsea.set_index("gene_set").at[EARLY, "ES"] > 0 > gsea.set_index("gene_set").at[LATE, "ES"]


def test_verdict_page_escapes_names_and_states_every_contrast():
    verdict = {
        "contrast": "kd_vs_ctrl",
        "verdict": "suppressed",
        "strength": "strong",
        "reasons": ["ER sets moved."],
        "sentence": "Compared with ctrl_1, kd_2 lowered the ER target genes.",
        "strength_meaning": "both readouts moved.",
        "summary": "kd_vs_ctrl: ER targets SUPPRESSED [strong] (*one line*)",
        "knockdown": {
            "status": "effective",
            "targets": [{"gene": "PPP3CA", "gene_name": "PPP3CA", "status": "effective", "percent_remaining": 28.17}],
        },
        "provenance": [
            {
                "name": "hallmark_v7",
                "version": "7.0",
                "status": "loaded",
                "n_sets": 50,
                "source": "h.all.gmt",
                "sha256": "ab" * 32,
            }
        ],
    }
    text = report.verdict_rst([verdict]).replace("\\", "")
    # Rendered, the names and the summary read as written: no emphasis, no broken references.
    body = publish_parts(report.verdict_rst([verdict]), writer="html")["body"]
    assert "kd_vs_ctrl: ER targets SUPPRESSED [strong] (*one line*)" in body
    assert "<em>" not in body and "problematic" not in body
    assert "Compared with ctrl_1, kd_2 lowered the ER target genes." in body
    for part in (
        "kd_vs_ctrl: SUPPRESSED",
        "(strength: strong)",
        "- strength 'strong': both readouts moved.",
        "- reason: ER sets moved.",
        "- knockdown: effective",
        "- PPP3CA: effective, 28.2% of control expression remaining",
        "- hallmark_v7 version 7.0: loaded, 50 set(s), from h.all.gmt, sha256 abababababab...",
    ):
        assert part in text


def simulated_counts(n_genes: int = 300, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Negative-binomial counts, 3 control + 3 knockdown samples, two all-zero genes and eight
    highly expressed genes with dispersion 1 (dispersion outliers)."""
    rng = np.random.default_rng(seed)
    mean = rng.lognormal(4, 1.5, n_genes)
    mean[:2] = 0
    mean[2:10] = 2000
    samples = [f"c{i}" for i in range(3)] + [f"k{i}" for i in range(3)]
    shape = 1 / (0.05 + 1 / np.maximum(mean, 1e-9))
    shape[2:10] = 1.0
    data = {s: rng.poisson(rng.gamma(shape, mean * rng.uniform(0.6, 1.4) / shape)) for s in samples}
    counts = pd.DataFrame(
        {"gene_id": [f"ENSG{i:05d}" for i in range(n_genes)], "gene_name": [f"G{i}" for i in range(n_genes)], **data}
    )
    sheet = pd.DataFrame({"sample": samples, "condition": ["control"] * 3 + ["knockdown"] * 3})
    return counts, sheet


@pytest.fixture(scope="module")
def fit():
    from knockseq.de import fit_design
    from knockseq.fits import fit_spec

    counts, sheet = simulated_counts()
    contrast = {"name": "kd", "variable": "condition", "test": "knockdown", "reference": "control"}
    return fit_design(
        counts,
        sheet,
        fit_spec(contrast, sheet, [], {"min_count": 0, "compat": "pydeseq2", "engine": "batched", "cooks": True}),
    )


def test_dispersion_and_size_factor_values_are_the_fits_arrays(fit, tmp_path):
    qc_plots.write_fit_plots(fit, tmp_path)
    var = fit.dds.var
    shown = var[var["_normed_means"] > 0]
    assert len(shown) == len(var) - 2 and shown["_outlier_genes"].any()
    _, values = qc_plots.dispersion_estimates(var, fit.gene_names, "fit")
    written = read_table(tmp_path / "dispersions.tsv")
    assert list(written.columns) == ["gene_id", "gene_name", *qc_plots.DISPERSION_COLUMNS.values()]
    assert list(written["gene_id"]) == list(shown.index) and list(written["gene_name"]) == list(
        fit.gene_names[shown.index]
    )
    for source, column in qc_plots.DISPERSION_COLUMNS.items():
        np.testing.assert_array_equal(values[column].to_numpy(), shown[source].to_numpy())
        # The TSV holds 10 significant digits (knockseq.io.FLOAT_FORMAT).
        np.testing.assert_allclose(
            written[column].to_numpy(dtype=float), shown[source].to_numpy(dtype=float), rtol=5e-10, atol=0
        )
    factors = read_table(tmp_path / "size_factors.tsv")
    assert list(factors["sample"]) == list(fit.dds.obs_names)
    assert list(factors["group"]) == ["control"] * 3 + ["knockdown"] * 3
    np.testing.assert_allclose(factors["size_factor"], fit.dds.obs["size_factors"].to_numpy(), rtol=5e-10, atol=0)
    assert list(factors["total_count"]) == list(fit.counts.sum(axis=0))
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{s}.{k}" for s in ("dispersions", "size_factors") for k in ("png", "svg", "tsv")
    }


def gsea_table(tested: dict[str, str]) -> pd.DataFrame:
    """GSEA rows of the ER sets: those in ``tested`` (name -> leading edge) have an NES."""
    return pd.DataFrame(
        [
            {"gene_set": s, "NES": 1.5 if s in tested else np.nan, "leading_edge": tested.get(s, pd.NA)}
            for s in (EARLY, LATE, ER_CORE_SET)
        ]
    )


def test_leading_edge_heatmap_is_row_z_scores_of_the_vst(tmp_path):
    table = de_table()
    core = er_core_genes()[:-2]
    early, esr_core = ["G3", "G7", core[0], "PGR", "NOT_IN_TABLE"], [core[0], core[1], ESR1]
    gsea = gsea_table({EARLY: ",".join(early), ER_CORE_SET: ",".join(esr_core)})
    rng = np.random.default_rng(2)
    samples = ["k1", "c1", "x1", "c2", "k2", "c3", "k3"]
    vst = table[["gene_id", "gene_name"]].assign(**{s: rng.normal(8, 2, len(table)) for s in samples})
    vst.loc[vst["gene_name"] == "G7", samples] = 5.0  # no spread: no z-score
    sheet = pd.DataFrame({"sample": samples, "condition": ["kd", "ctrl", "other", "ctrl", "kd", "ctrl", "kd"]})
    meta = {
        "contrast": "kd_vs_ctrl",
        "variable": "condition",
        "reference": "ctrl",
        "test": "kd",
        "samples": ["k1", "c1", "c2", "k2", "c3", "k3"],
    }
    gsea_plots.write_leading_edge_plot(table, gsea, vst, meta, sheet, tmp_path / "er_leading_edge")
    values = read_table(tmp_path / "er_leading_edge.tsv")
    ids = one_id_per_symbol(table)["gene_id"]
    genes = list(dict.fromkeys(early[:-1] + esr_core))
    assert sorted(set(values["gene_name"])) == sorted(genes)
    assert values.drop_duplicates("gene_name").set_index("gene_name").at["PGR", "gene_id"] == ids["PGR"]
    assert values.drop_duplicates("gene_name").set_index("gene_name").at[core[0], "source"] == f"{EARLY},{ER_CORE_SET}"
    lfc = values.drop_duplicates("gene_name")["log2FoldChange"].to_numpy()
    assert (np.diff(lfc) <= 0).all()
    order = ["c1", "c2", "c3", "k1", "k2", "k3"]
    for gene, part in values.groupby("gene_name", sort=False):
        assert list(part["sample"]) == order and list(part["group"]) == ["ctrl"] * 3 + ["kd"] * 3
        row = vst.set_index("gene_id").loc[ids[gene], order].to_numpy(dtype=float)
        np.testing.assert_allclose(part["vst"], row, rtol=5e-10, atol=0)
        if gene == "G7":
            assert part["z_score"].isna().all()
        else:
            z = (row - row.mean()) / np.sqrt(((row - row.mean()) ** 2).sum() / (len(row) - 1))
            np.testing.assert_allclose(part["z_score"], z, rtol=0, atol=5e-9)


def test_leading_edge_falls_back_to_the_er_core_genes_present():
    table = de_table()
    genes = gsea_plots.leading_edge_genes(table, gsea_table({ER_CORE_SET: "PGR"}))
    assert sorted(genes["gene_name"]) == sorted(er_core_genes()[:-2])
    assert set(genes["source"]) == {"ER core genes present"}


def test_a_screen_heatmap_draws_its_contrasts_samples_in_their_own_colours_and_at_most_50_genes(tmp_path):
    table = de_table()
    edge = [f"G{i}" for i in range(80)]
    gsea = gsea_table({EARLY: ",".join(edge)})
    levels = ["NTC", *(f"si{k}" for k in range(10))]
    samples = [f"{level}_{b}" for b in range(3) for level in levels]  # 33 samples, batch by batch
    sheet = pd.DataFrame({"sample": samples, "sirna": [s.rsplit("_", 1)[0] for s in samples]})
    vst = table[["gene_id", "gene_name"]].assign(**{s: np.arange(len(table)) % 7 + i for i, s in enumerate(samples)})
    meta = {"contrast": "si7_vs_NTC", "variable": "sirna", "reference": "NTC", "test": "si7", "samples": samples}
    gsea_plots.write_leading_edge_plot(table, gsea, vst, meta, sheet, tmp_path / "er_leading_edge")
    values = read_table(tmp_path / "er_leading_edge.tsv")
    # The fit holds every siRNA; the figure draws the contrast's reference, then its test.
    assert list(dict.fromkeys(values["sample"])) == ["NTC_0", "NTC_1", "NTC_2", "si7_0", "si7_1", "si7_2"]
    # 80 leading-edge genes, of which the 50 with the largest |log2 fold change| are drawn.
    lfc = table.set_index("gene_name").loc[edge, "log2FoldChange"].abs()
    assert sorted(set(values["gene_name"])) == sorted(lfc.nlargest(50).index)
    # Colours come from every level of the column: NTC and si7 keep theirs in every figure.
    palette = level_colours(sheet["sirna"])
    assert len(set(palette.values())) == 11 and palette["NTC"] == "#0072B2"
    svg = (tmp_path / "er_leading_edge.svg").read_text().lower()
    assert palette["si7"].lower() in svg and palette["NTC"].lower() in svg
    assert palette["si0"].lower() not in svg


def test_level_colours_never_repeat_within_a_figure():
    for n in (2, 8, 9, 28, 29, 120):
        colours = list(level_colours([f"level{i}" for i in range(n)]).values())
        assert len(colours) == len(set(colours)) == n


def test_a_treatments_figure_shows_esr1_and_its_markers():
    table = de_table()
    normalized = table[["gene_id", "gene_name"]].assign(a=1.0, b=2.0)
    genes, what = de_plots.plotted_genes(normalized, {"targets": []})
    assert [name for _, name in genes] == [ESR1, "GREB1", "PGR", "TFF1"]
    assert what == "ESR1 and its marker targets (no knockdown target)"
    genes, what = de_plots.plotted_genes(normalized, knockdown_of(table))
    assert [name for _, name in genes] == ["PPP3CA", "PPP3CB"] and what == "knockdown targets"


def test_log_axes_are_labelled_in_plain_text_as_matplotlib_places_them():
    # No mathtext (its parser costs each plot job 0.5 s): 10³, 3×10⁴ as plain text.
    table = de_table()
    fig, _ = de_plots.ma_plot(table, de_plots.label_genes(table, knockdown_of(table)), alpha=0.1, title="kd")
    fig.canvas.draw()
    ax = fig.axes[0]
    superscript = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    decades = [f"10{str(round(np.log10(tick))).translate(superscript)}" for tick in ax.get_xticks()]
    assert [t.get_text() for t in ax.get_xticklabels()] == decades and len(decades) >= 5
    assert _plain_text(r"$\mathdefault{3\times10^{-4}}$") == "3×10⁻⁴"
    assert _plain_text(r"$\mathdefault{1}$") == "1" and _plain_text("12") == "12"
