"""A screen of ten siRNAs against one control: one DESeq2 fit, ten Wald tests.

The synthetic screen (``tests/screen.py``: 3 batches x (10 siRNAs + NTC) = 33 samples x 2,000
genes, seed :data:`SEED`) is fitted once per module, ``~ batch + sirna_target``; each contrast is tested on
that fit. A contrast's results must not depend on whether its fit is shared.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PROJECT
from screen import CONTROL, make_screen, sirna_name, target_name
from test_workflow import planned, snakemake

from knockseq.config import config_defaults
from knockseq.de import contrast_results, fit_design, read_fit, run_contrast, write_de, write_fit
from knockseq.de.backend import select_backend
from knockseq.engine import shrink
from knockseq.engine.trend import PARAMETRIC_FIT_FAILED
from knockseq.fits import FitSpec, fit_groups, fit_spec
from knockseq.genesets import er_core_genes
from knockseq.io import read_json, read_table, write_tsv
from knockseq.knockdown import assess_knockdown
from knockseq.verdict.direct import direct_target_evidence, write_direct_targets

DE = {"compat": "r", "engine": "batched", "min_count": 10, "cooks": True}
#: The screen simulated; with it the ten targets' log2FC are -2.20 to -1.90 (seed 0: -2.16 to -1.66).
SEED = 1
CONTRASTS = [
    {"name": f"{sirna_name(k)}_vs_NTC", "variable": "sirna_target", "test": sirna_name(k), "reference": CONTROL}
    for k in range(10)
]
NAMES = [c["name"] for c in CONTRASTS]
KNOCKDOWN = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["knockdown"]


@pytest.fixture(scope="module")
def screen() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_screen(seed=SEED)


@pytest.fixture(scope="module")
def shared_fit(screen, tmp_path_factory):
    """The screen's one fit, written and read back as the workflow's jobs do."""
    counts, sheet = screen
    spec = fit_spec(CONTRASTS[0], sheet, ["batch"], DE)
    path = tmp_path_factory.mktemp("fits") / f"{spec.fit_id}.pkl"
    write_fit(fit_design(counts, sheet, spec, contrasts=NAMES), path)
    return read_fit(path)


def test_the_screen_shares_one_fit(screen):
    _, sheet = screen
    groups = fit_groups(CONTRASTS, sheet, ["batch"], DE)
    assert list(groups.values()) == [NAMES]
    fit_id = next(iter(groups))
    assert re.fullmatch(r"sirna_target-NTC-[0-9a-f]{8}", fit_id)
    # the id does not depend on which or how many contrasts share the fit
    assert fit_groups(CONTRASTS[3:5], sheet, ["batch"], DE) == {fit_id: NAMES[3:5]}
    # alpha and shrink act after the fit; the tested variable listed in design is not a covariate
    assert fit_groups(CONTRASTS, sheet, ["batch", "sirna_target"], {**DE, "alpha": 0.05, "shrink": False}) == groups


def test_fits_differ_when_samples_reference_covariates_or_options_do(screen):
    _, sheet = screen
    base = fit_spec(CONTRASTS[0], sheet, ["batch"], DE)
    assert len(base.samples) == 33 and base.covariates == ("batch",)
    all_batches = {**CONTRASTS[0], "where": {"batch": ["b1", "b2", "b3"]}}
    assert fit_spec(all_batches, sheet, ["batch"], DE) == base  # same samples, whatever the filter
    others = [
        fit_spec({**CONTRASTS[0], "where": {"batch": ["b1", "b2"]}}, sheet, ["batch"], DE),
        fit_spec({**CONTRASTS[1], "reference": sirna_name(0), "test": CONTROL}, sheet, ["batch"], DE),
        fit_spec(CONTRASTS[0], sheet, [], DE),
        fit_spec(CONTRASTS[0], sheet, ["batch"], {**DE, "min_count": 0}),
        fit_spec(CONTRASTS[0], sheet, ["batch"], {**DE, "compat": "pydeseq2"}),
        fit_spec(CONTRASTS[0], sheet, ["batch"], {**DE, "cooks": False}),
        fit_spec(CONTRASTS[0], sheet, ["batch"], {**DE, "engine": "pydeseq2"}),
    ]
    assert len({spec.fit_id for spec in [base, *others]}) == 8
    assert others[1].fit_id.startswith("sirna_target-siTGT01-")
    assert FitSpec.from_dict(json.loads(json.dumps(base.as_dict()))) == base


def test_each_contrast_finds_its_own_target(shared_fit):
    assert shared_fit.metadata["formula"] == "~ `batch` + `sirna_target`"
    assert shared_fit.metadata["dispersion_trend"] == "parametric"
    for k, contrast in enumerate(CONTRASTS):
        result = contrast_results(shared_fit, contrast, alpha=0.1, shrink=False)
        table = result.table.set_index("gene_id")
        target = table.loc[f"G{k + 1:05d}"]
        # truth -2 for each siRNA's own target; measured -2.20 to -1.90
        assert target["log2FoldChange"] == pytest.approx(-2, abs=0.3), contrast["name"]
        assert target["padj"] < 1e-10, contrast["name"]
        # and it is the contrast's strongest signal
        assert table["pvalue"].idxmin() == target.name, contrast["name"]
        meta = result.metadata
        assert meta["fit"] == {"id": shared_fit.fit_id}
        assert (meta["test"], meta["reference"], meta["coefficient"]) == (
            sirna_name(k),
            CONTROL,
            f"sirna_target[T.{sirna_name(k)}]",
        )
        assert meta["dispersion_trend"] == "parametric" and len(meta["samples"]) == 33


def test_a_shared_fit_gives_the_same_results_as_a_fit_of_its_own(screen, shared_fit):
    counts, sheet = screen
    contrast = CONTRASTS[4]
    shared = contrast_results(shared_fit, contrast, alpha=0.1, shrink=True)
    alone = run_contrast(counts, sheet, contrast=contrast, design=["batch"], alpha=0.1, shrink=True, **DE)
    # the fit is deterministic and the test reads it only: equal to the last bit (measured)
    pd.testing.assert_frame_equal(shared.table, alone.table, check_exact=True)
    pd.testing.assert_frame_equal(shared.normalized_counts, alone.normalized_counts, check_exact=True)
    pd.testing.assert_series_equal(shared.size_factors, alone.size_factors, check_exact=True)
    assert alone.metadata["fit"] == {"id": shared_fit.fit_id}
    assert {**shared.metadata, "fit": None} == {**alone.metadata, "fit": None}
    assert shared.table["log2FoldChange_shrunk"].notna().sum() == alone.metadata["n_genes_fitted"]


def test_a_contrast_writes_its_own_samples_normalized_counts_and_tests_direct_targets_on_the_fit(
    screen, shared_fit, tmp_path
):
    counts, sheet = screen
    contrast = {**CONTRASTS[2], "targets": [target_name(2)]}
    result = contrast_results(shared_fit, contrast, alpha=0.1, shrink=False)
    paths = {key: tmp_path / key for key in ("table", "normalized_counts", "size_factors", "metadata")}
    write_de(result, paths)
    written = read_table(paths["normalized_counts"])
    own = sheet.loc[sheet["sirna_target"].isin([CONTROL, sirna_name(2)]), "sample"].tolist()
    assert len(own) == 6 and list(written.columns) == ["gene_id", "gene_name", *own]
    np.testing.assert_allclose(written[own], result.normalized_counts[own], rtol=1e-9)
    # the knockdown check reads the file: the target's counts are the contrast's six samples'
    report = assess_knockdown(result.table, written, sheet, contrast, contrast["targets"], KNOCKDOWN)
    assert list(report["targets"][0]["normalized_counts"]) == own
    # the direct-target test estimates the inter-gene correlation from all 33 samples' residuals
    # (untargeted genes renamed as the ER core genes give it a set to test)
    names = dict(zip(counts["gene_id"][10:24], er_core_genes(), strict=True))
    result = replace(
        result,
        table=result.table.assign(gene_name=result.table["gene_id"].map(names).fillna(result.table["gene_name"])),
        normalized_counts=result.normalized_counts.assign(
            gene_name=result.normalized_counts["gene_id"].map(names).fillna(result.normalized_counts["gene_name"])
        ),
    )
    write_direct_targets(result, shared_fit.sheet, tmp_path / "direct.json")
    direct = read_json(tmp_path / "direct.json")
    expected = direct_target_evidence(result.table, result.normalized_counts, sheet, result.metadata)
    assert direct["status"] == expected["status"] == "tested"
    assert direct["camera"]["correlation"] == pytest.approx(expected["camera"]["correlation"], rel=1e-12)
    narrow = direct_target_evidence(
        result.table, result.normalized_counts[["gene_id", "gene_name", *own]], sheet, result.metadata
    )
    assert narrow["camera"]["correlation"] != pytest.approx(expected["camera"]["correlation"], rel=1e-3)


def test_the_shrinkage_proves_most_genes_single_mode_from_the_fits_mle(shared_fit, monkeypatch):
    dds = shared_fit.dds
    coefficient = f"sirna_target[T.{sirna_name(4)}]"
    vector = (dds.obsm["design_matrix"].columns == coefficient).astype(float)
    proofs: list[np.ndarray] = []  # what each shrinkage proved, recorded on the way
    single_mode = shrink._single_mode

    def recorded(*args):
        proofs.append(single_mode(*args))
        return proofs[-1]

    monkeypatch.setattr("knockseq.engine.shrink._single_mode", recorded)
    shrunk = []
    for mle in ("fit", None):
        stats = select_backend("r", "batched").new_stats(dds, contrast=vector, alpha=0.1, quiet=True, n_cpus=1)
        np.testing.assert_array_equal(stats.inference.mle, dds.varm["LFC"].to_numpy()[dds.non_zero_idx])
        if mle is None:
            stats.inference.mle = None
        stats.run_wald_test()  # the prior scale comes from the MLE and its standard errors
        stats.lfc_shrink(coeff=coefficient)
        shrunk.append((stats.LFC[coefficient], stats.SE))
    # measured: 1,862 of 1,976 genes proven single mode (94%); nothing is proven without the MLE
    assert len(proofs) == 1 and proofs[0].sum() >= 0.9 * len(proofs[0])
    # the proof spares searches: the same modes, reached from another start (measured: 5.6e-5
    # natural log, standard errors 1.3e-3 relative)
    (lfc, se), (searched_lfc, searched_se) = shrunk
    assert np.abs(lfc - searched_lfc).max() < 2e-4
    np.testing.assert_allclose(se, searched_se, rtol=5e-3)


def test_a_contrast_of_another_fit_is_refused(shared_fit):
    contrast = {**CONTRASTS[0], "where": {"batch": ["b1", "b2"]}}
    with pytest.raises(
        ValueError, match=rf"contrast 'siTGT01_vs_NTC' needs fit sirna_target-NTC-\w{{8}}, not {shared_fit.fit_id}"
    ):
        contrast_results(shared_fit, contrast, alpha=0.1, shrink=False)


def test_a_failed_parametric_trend_is_recorded():
    # dispersions that rise with the mean: no a0 + a1 / mean curve fits them (a1 < 0)
    rng = np.random.default_rng(1)
    mean = np.exp(rng.uniform(np.log(20), np.log(5000), 200))
    size = 1 / (0.002 * np.sqrt(mean))[:, None]
    values = rng.negative_binomial(size, size / (size + mean[:, None]), (200, 6))
    samples = [f"s{i}" for i in range(6)]
    counts = pd.DataFrame(values, columns=samples)
    counts.insert(0, "gene_name", [f"g{i}" for i in range(200)])
    counts.insert(0, "gene_id", counts["gene_name"])
    sheet = pd.DataFrame({"sample": samples, "condition": ["a"] * 3 + ["b"] * 3})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_contrast(
            counts,
            sheet,
            contrast={"name": "x", "variable": "condition", "test": "b", "reference": "a"},
            design=[],
            alpha=0.1,
            shrink=False,
            **DE,
        )
    assert PARAMETRIC_FIT_FAILED in [str(w.message) for w in caught]
    assert result.metadata["dispersion_trend"] == "mean (parametric fit failed)"


def test_workflow_fits_a_screen_once_and_keeps_the_fit_when_a_contrast_is_added(tmp_path):
    counts, sheet = make_screen(n_genes=300, seed=SEED)
    write_tsv(counts, tmp_path / "counts.tsv")
    write_tsv(sheet, tmp_path / "samples.tsv")
    config = {
        "samples": "samples.tsv",
        "counts": "counts.tsv",
        "design": ["batch"],
        "contrasts": {c["name"]: {k: c[k] for k in ("variable", "test", "reference")} for c in CONTRASTS},
    }
    (tmp_path / "screen.yaml").write_text(yaml.safe_dump(config))
    plan = planned(tmp_path, "--configfile", str(tmp_path / "screen.yaml"))
    # One verdict job decides every contrast (their direct-target p-values are adjusted together).
    assert (plan["fit"], plan["de"], plan["verdict"], plan["plots_contrast"]) == (1, 10, 1, 10)
    # Without per-contrast figures a screen still gets every table, verdict and summary figure.
    (tmp_path / "no_figures.yaml").write_text(yaml.safe_dump({**config, "plots": {"contrasts": False}}))
    lean = planned(tmp_path, "--configfile", str(tmp_path / "no_figures.yaml"))
    assert lean == {rule: n for rule, n in plan.items() if rule != "plots_contrast"}

    fit_id = next(iter(fit_groups(CONTRASTS, sheet, ["batch"], DE)))
    snakemake(tmp_path, f"results/de/fits/{fit_id}.pkl", "--cores", "2", "--configfile", str(tmp_path / "screen.yaml"))
    log = (tmp_path / f"logs/de/fit_{fit_id}.log").read_text()
    fitted = int(((counts[sheet["sample"]] >= 10).sum(axis=1) >= 3).sum())  # pre-filter: 295 of 300
    assert re.findall(r"INFO: (fitting .*)", log) == [
        f"fitting ~ `batch` + `sirna_target` on 33 samples x {fitted} genes for contrasts: {', '.join(NAMES)}"
    ]
    # a new contrast on the same samples and reference reuses the fit on disk
    config["contrasts"]["siTGT01_again"] = config["contrasts"][NAMES[0]]
    (tmp_path / "more.yaml").write_text(yaml.safe_dump(config))
    plan = planned(tmp_path, "--configfile", str(tmp_path / "more.yaml"))
    assert "fit" not in plan and plan["de"] == 11
