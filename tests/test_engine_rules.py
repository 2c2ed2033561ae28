"""knockseq's R DESeq2 rules (``knockseq.engine``, ``compat: r``) against R DESeq2 1.38.3.

R's results are ``shared/reference``, made by deseq2_ref.R. The building blocks (``lowess``, BH
and independent filtering, the parametric trend, R's random numbers and the simulated prior
variance) are checked on their own against R, then ``RDeseqDataSet`` / ``RDeseqStats`` on small
data (trend failure, Cook's rule, outlier refit, Wald test) and on the three reference runs.

The slow tests fit the three reference runs exactly as R did: no pre-filtering, DESeq2
defaults, ``results(alpha = 0.1)``, ``lfcShrink(type = "apeglm")``.
"""

from __future__ import annotations

import inspect
import warnings
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd
import pydeseq2
import pytest
from conftest import PROJECT, SHA256, shared_path
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats

from knockseq.engine.filtering import lowess, r_independent_filtering
from knockseq.engine.inference import BatchedRInference
from knockseq.engine.prior import _simulated_prior_var
from knockseq.engine.rdeseq import RDeseqDataSet, RDeseqStats
from knockseq.engine.trend import PARAMETRIC_FIT_FAILED, parametric_dispersion_fit
from knockseq.errors import InputError
from knockseq.multitest import p_adjust_bh

# name -> (data set, design, contrast, R's trend coefficients, prior variance, filter threshold)
RUNS = {
    "airway_cell_dex": ("airway", "~cell + dex", ["dex", "trt", "untrt"], (0.009522, 3.6001), 0.5285, 4.503),
    "airway_dex": ("airway", "~dex", ["dex", "trt", "untrt"], (0.027739, 3.3802), 0.9206, 3.591),
    "pasilla_type_condition": (
        "pasilla",
        "~type + condition",
        ["condition", "treated", "untreated"],
        (0.007984, 2.5686),
        0.2552,
        3.898,
    ),
}


def reference(name: str, kind: str) -> pd.DataFrame:
    """One of R's result tables, indexed by gene."""
    return pd.read_csv(shared_path(f"reference/{name}.{kind}.tsv"), sep="\t", index_col=0)


# ---------------------------------------------------------------------------------------------
# The PyDESeq2 internals knockseq.engine overrides or reads
# ---------------------------------------------------------------------------------------------


def _source(obj: object) -> str:
    return inspect.getsource(obj)


PINNED = [
    # (what, check) -- each check is True when PyDESeq2 still works the way knockseq.engine assumes
    (
        "DeseqDataSet.deseq2 calls fit_dispersion_trend/prior/MAP and cooks_outlier",
        lambda: all(
            f"self.{m}()" in _source(DeseqDataSet.deseq2)
            for m in (
                "fit_genewise_dispersions",
                "fit_dispersion_trend",
                "fit_dispersion_prior",
                "fit_MAP_dispersions",
                "calculate_cooks",
                "cooks_outlier",
            )
        ),
    ),
    (
        "DeseqDataSet.fit_dispersion_trend calls _fit_parametric_dispersion_trend(vst)",
        lambda: "self._fit_parametric_dispersion_trend(vst)" in _source(DeseqDataSet.fit_dispersion_trend),
    ),
    (
        "DeseqDataSet._fit_mean_dispersion_trend(vst) exists (parametric fallback)",
        lambda: list(inspect.signature(DeseqDataSet._fit_mean_dispersion_trend).parameters) == ["self", "vst"],
    ),
    (
        "DeseqDataSet.fit_genewise_dispersions passes _MoM_dispersions and _mu_hat to alpha_mle",
        lambda: all(
            s in _source(DeseqDataSet.fit_genewise_dispersions)
            for s in ("self.inference.alpha_mle(", '"_MoM_dispersions"', '"_mu_hat"', "mu_param_name")
        ),
    ),
    (
        "DeseqDataSet.fit_MAP_dispersions reads uns['prior_disp_var'] and sets var['dispersions']",
        lambda: all(
            s in _source(DeseqDataSet.fit_MAP_dispersions)
            for s in ('"prior_disp_var"', '"_squared_logres"', 'self.var["dispersions"]')
        ),
    ),
    (
        "DeseqDataSet.disp_function reads uns['trend_coeffs'] / uns['disp_function_type']",
        lambda: (
            '"trend_coeffs"' in _source(DeseqDataSet.disp_function)
            and '"disp_function_type"' in _source(DeseqDataSet.disp_function)
        ),
    ),
    (
        "DeseqDataSet._refit_without_outliers reuses self.inference, trend and prior",
        lambda: all(
            s in _source(DeseqDataSet._refit_without_outliers)
            for s in ("inference=self.inference", 'self.uns["prior_disp_var"]', "sub_dds.disp_function(")
        ),
    ),
    (
        "DeseqDataSet._replace_outliers sets obs['replaceable'] and var['replaced']",
        lambda: all(
            s in _source(DeseqDataSet._replace_outliers) for s in ('self.obs["replaceable"]', 'self.var["replaced"]')
        ),
    ),
    (
        "DeseqDataSet.cooks_outlier caches var['_pvalue_cooks_outlier']",
        lambda: '"_pvalue_cooks_outlier"' in _source(DeseqDataSet.cooks_outlier),
    ),
    (
        "DefaultInference.alpha_mle signature",
        lambda: (
            list(inspect.signature(DefaultInference.alpha_mle).parameters)
            == [
                "self",
                "counts",
                "design_matrix",
                "mu",
                "alpha_hat",
                "min_disp",
                "max_disp",
                "prior_disp_var",
                "cr_reg",
                "prior_reg",
                "optimizer",
            ]
        ),
    ),
    (
        "DefaultInference.wald_test signature",
        lambda: (
            list(inspect.signature(DefaultInference.wald_test).parameters)
            == ["self", "design_matrix", "disp", "lfc", "mu", "ridge_factor", "contrast", "lfc_null", "alt_hypothesis"]
        ),
    ),
    (
        "DeseqStats.run_wald_test calls self.inference.wald_test",
        lambda: "self.inference.wald_test(" in _source(DeseqStats.run_wald_test),
    ),
    (
        "DeseqStats.lfc_shrink reads entry (k, k) of each inverse Hessian only",
        lambda: (
            _source(DeseqStats.lfc_shrink).count("inv_hess") == 4
            and "inv_hess[coeff_idx, coeff_idx]" in _source(DeseqStats.lfc_shrink)
        ),
    ),
    (
        "DeseqStats.summary calls _independent_filtering and _cooks_filtering",
        lambda: (
            "self._independent_filtering()" in _source(DeseqStats.summary)
            and "self._cooks_filtering()" in _source(DeseqStats.summary)
        ),
    ),
    (
        "DeseqStats._cooks_filtering uses dds.cooks_outlier()",
        lambda: "self.dds.cooks_outlier()" in _source(DeseqStats._cooks_filtering),
    ),
    (
        "DeseqStats.__init__ takes alpha, inference, n_cpus",
        lambda: {"alpha", "inference", "n_cpus"} <= set(inspect.signature(DeseqStats.__init__).parameters),
    ),
]


def test_pydeseq2_is_the_pinned_version() -> None:
    assert pydeseq2.__version__ == "0.5.4", (
        f"knockseq.engine overrides PyDESeq2 0.5.4 internals, found {pydeseq2.__version__}: "
        "re-check every item of PINNED in tests/test_engine_rules.py"
    )


@pytest.mark.parametrize(("what", "check"), PINNED, ids=[p[0].split()[0] for p in PINNED])
def test_pydeseq2_internals_the_engine_relies_on(what: str, check) -> None:
    assert check(), f"PyDESeq2 changed: no longer true that {what}"


# ---------------------------------------------------------------------------------------------
# Building blocks, checked against R
# ---------------------------------------------------------------------------------------------


def test_lowess_is_exact_on_a_line() -> None:
    x = np.arange(10.0)
    np.testing.assert_allclose(lowess(x, 2 * x + 1, f=0.5), 2 * x + 1, rtol=1e-13)


def test_lowess_downweights_an_outlier_as_r() -> None:
    # R: lowess(1:10, c(2, 4, 3, 8, 10, 30, 14, 16, 15, 20), f = 0.5)$y
    y = np.array([2, 4, 3, 8, 10, 30, 14, 16, 15, 20], dtype=float)
    r = [2.089824765, 3.448886924, 5.005328769, 7.211665470, 10.0, 12.0, 14.0, 15.257112430, 17.341860588, 19.314609732]
    np.testing.assert_allclose(lowess(np.arange(1.0, 11.0), y, f=0.5), r, rtol=1e-9)


def test_lowess_matches_r_on_cars() -> None:
    # R: lowess(cars)$y (ties in x, delta interpolation, 3 robustness iterations)
    speed = [
        4,
        4,
        7,
        7,
        8,
        9,
        10,
        10,
        10,
        11,
        11,
        12,
        12,
        12,
        12,
        13,
        13,
        13,
        13,
        14,
        14,
        14,
        14,
        15,
        15,
        15,
        16,
        16,
        17,
        17,
        17,
        18,
        18,
        18,
        18,
        19,
        19,
        19,
        20,
        20,
        20,
        20,
        20,
        22,
        23,
        24,
        24,
        24,
        24,
        25,
    ]
    dist = [
        2,
        10,
        4,
        22,
        16,
        10,
        18,
        26,
        34,
        17,
        28,
        14,
        20,
        24,
        28,
        26,
        34,
        34,
        46,
        26,
        36,
        60,
        80,
        20,
        26,
        54,
        32,
        40,
        32,
        40,
        50,
        42,
        56,
        76,
        84,
        36,
        46,
        68,
        32,
        48,
        52,
        56,
        64,
        66,
        54,
        70,
        92,
        93,
        120,
        85,
    ]
    fitted = lowess(np.array(speed, float), np.array(dist, float))
    r_head = [4.965459277, 4.965459277, 13.124495040, 13.124495040, 15.858633382, 18.579690514]
    np.testing.assert_allclose(fitted[:6], r_head, rtol=1e-9)
    r_tail = [73.079695269] + [78.643163554] * 4 + [84.328698097]
    np.testing.assert_allclose(fitted[-6:], r_tail, rtol=1e-9)


def test_bh_ignores_missing_p_values_as_p_adjust() -> None:
    # p.adjust(c(0.01, 0.04, NA, 0.03), "BH"): n = 3 tested values
    np.testing.assert_allclose(p_adjust_bh(np.array([0.01, 0.04, np.nan, 0.03])), [0.03, 0.04, np.nan, 0.04])


@pytest.mark.parametrize("name", list(RUNS))
def test_independent_filtering_reproduces_r_padj(name: str) -> None:
    res = reference(name, "deseq2")
    padj, threshold = r_independent_filtering(res["baseMean"].to_numpy(), res["pvalue"].to_numpy())
    assert np.array_equal(np.isnan(padj), res["padj"].isna().to_numpy())
    np.testing.assert_allclose(padj[~np.isnan(padj)], res["padj"].dropna(), rtol=1e-12)
    assert threshold == pytest.approx(RUNS[name][5], abs=5e-4)


def test_no_filtering_when_no_filter_rejects_more_than_10() -> None:
    rng = np.random.default_rng(0)
    base_mean = np.concatenate([np.zeros(100), rng.gamma(1.0, 50.0, 900)])
    pvalue = np.where(base_mean > 0, rng.uniform(size=1000), np.nan)
    padj, threshold = r_independent_filtering(base_mean, pvalue)
    assert threshold == np.quantile(base_mean, 0.1)  # theta[1] = share of zero means
    np.testing.assert_allclose(padj[100:], p_adjust_bh(pvalue[100:]))


@pytest.mark.parametrize("name", list(RUNS))
def test_parametric_trend_reproduces_r_from_r_gene_estimates(name: str) -> None:
    disp = reference(name, "dispersions").dropna()
    base_mean = reference(name, "deseq2").loc[disp.index, "baseMean"].to_numpy()
    use = disp["dispGeneEst"].to_numpy() > 1e-6
    coeffs = parametric_dispersion_fit(base_mean[use], disp["dispGeneEst"].to_numpy()[use])
    np.testing.assert_allclose(coeffs, RUNS[name][3], rtol=2e-4)
    fitted = coeffs[0] + coeffs[1] / base_mean
    np.testing.assert_allclose(fitted, disp["dispFit"], rtol=1e-10)


PRIOR_REFERENCE = PROJECT / "tests/data/prior_var/reference.tsv"


@pytest.mark.parametrize(
    "row", pd.read_csv(PRIOR_REFERENCE, sep="\t").to_dict("records"), ids=lambda row: f"df{row['df']}"
)
def test_simulated_prior_variance_is_r_value_at_each_df(row) -> None:
    # R DESeq2 1.38.3's estimateDispersionsPriorVar on airway subsets (tests/data/prior_var/
    # make_reference.R); the values lie on the 1000-point grid, so equal means the same point
    counts = pd.read_csv(shared_path("data/airway/counts.tsv.gz"), sep="\t", index_col=0)
    samples = row["samples"].split(",")
    metadata = pd.read_csv(shared_path("data/airway/samples.tsv"), sep="\t", index_col=0).loc[samples]
    counts = counts[samples]
    dds = RDeseqDataSet(
        counts=counts[counts.sum(axis=1) > 0].T, metadata=metadata, design=row["design"].replace("~", "~ "), quiet=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds.fit_size_factors()
        dds.fit_genewise_dispersions()
        dds.fit_dispersion_trend()
        dds.fit_dispersion_prior()
    assert dds.obsm["design_matrix"].shape[0] - dds.obsm["design_matrix"].shape[1] == row["df"]
    assert float(dds.uns["prior_disp_var"]) == pytest.approx(row["prior_var"], abs=1e-9)


def test_simulated_prior_variance_is_r_value() -> None:
    # estimateDispersionsPriorVar on R's own airway ~cell+dex residuals (3 residual df)
    disp = reference("airway_cell_dex", "dispersions").dropna()
    residuals = np.log(disp["dispGeneEst"]) - np.log(disp["dispFit"])
    residuals = residuals[disp["dispGeneEst"] >= 1e-6].to_numpy()
    assert _simulated_prior_var(residuals, 3) == pytest.approx(66 * 8 / 999)  # R: 0.5285285


# ---------------------------------------------------------------------------------------------
# RDeseqDataSet behaviour on small data
# ---------------------------------------------------------------------------------------------


def small_dataset(design: str = "~condition", samples: int = 6, genes: int = 40, **kwargs) -> RDeseqDataSet:
    """A tiny dataset (no fitting done) with two conditions and two batches."""
    rng = np.random.default_rng(1)
    counts = pd.DataFrame(
        rng.negative_binomial(5, 0.05, size=(samples, genes)),
        index=[f"s{i}" for i in range(samples)],
        columns=[f"g{j}" for j in range(genes)],
    )
    metadata = pd.DataFrame(
        {"condition": ["A", "B"] * (samples // 2), "batch": ["x"] * (samples // 2) + ["y"] * (samples - samples // 2)},
        index=counts.index,
    )
    return RDeseqDataSet(counts=counts, metadata=metadata, design=design, quiet=True, n_cpus=1, **kwargs)


def test_failed_parametric_trend_warns_as_r_and_uses_the_mean() -> None:
    dds = small_dataset()
    dds.var["non_zero"] = True
    dds.var["_normed_means"] = np.linspace(1, 1000, dds.n_vars)
    # dispersion rising with the mean: a0 + a1 / mean cannot fit it with a1 > 0
    dds.var["genewise_dispersions"] = dds.var["_normed_means"] / 100
    with pytest.warns(UserWarning, match="the parametric fit of dispersion estimates"):
        dds.fit_dispersion_trend()
    assert dds.uns["disp_function_type"] == "mean"
    assert PARAMETRIC_FIT_FAILED.startswith("the parametric fit of dispersion estimates over")
    np.testing.assert_allclose(dds.var["fitted_dispersions"], dds.uns["mean_disp"])


def test_trend_needs_dispersions_above_the_floor() -> None:
    dds = small_dataset()
    dds.var["non_zero"] = True
    dds.var["_normed_means"] = 10.0
    dds.var["genewise_dispersions"] = 1e-8
    with pytest.raises(InputError, match="2 orders of magnitude"):
        dds.fit_dispersion_trend()


def test_design_without_replicates_is_an_input_error() -> None:
    dds = small_dataset(design="~condition", samples=2)
    with pytest.raises(InputError, match="no replicates"):
        dds.fit_genewise_dispersions()


def test_only_r_inference_is_accepted() -> None:
    with pytest.raises(TypeError, match="RInference"):
        small_dataset(inference=DefaultInference(n_cpus=1))


@pytest.mark.parametrize(("design", "spared"), [("~condition", True), ("~batch + condition", False)])
def test_cooks_three_larger_counts_rule_only_for_one_two_level_factor(design: str, spared: bool) -> None:
    dds = small_dataset(design=design, samples=12, genes=2, refit_cooks=False)
    dds.X[:, 0] = [5, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 1]
    dds.X[:, 1] = [1, 2, 3, 500, 4, 5, 6, 7, 8, 9, 10, 11]
    cooks = np.zeros((12, 2))
    cooks[0, 0] = 100.0  # sample 0 is an outlier of gene 0, yet 10 counts are larger
    cooks[3, 1] = 100.0
    dds.layers["cooks"] = cooks
    outlier = dds.cooks_outlier().to_numpy()
    # R results(): the heuristic only for a design with a single two-level factor
    assert outlier[0] == (not spared)
    assert outlier[1]  # gene 1's outlier count is the largest: never spared


def test_outliers_are_replaced_and_refitted_with_r_dispersions() -> None:
    # 7 replicates per group: R replaces counts with extreme Cook's distance and refits
    rng = np.random.default_rng(3)
    mean = rng.gamma(2, 100, 300)
    counts = rng.negative_binomial(10, 10 / (10 + mean), size=(14, 300))
    counts[0, :5] = 5000
    counts = pd.DataFrame(counts, index=[f"s{i}" for i in range(14)], columns=[f"g{j}" for j in range(300)])
    metadata = pd.DataFrame({"condition": ["A"] * 7 + ["B"] * 7}, index=counts.index)
    dds = RDeseqDataSet(counts=counts, metadata=metadata, design="~condition", quiet=True, n_cpus=1)
    dds.deseq2()
    stats = RDeseqStats(dds, contrast=["condition", "B", "A"], quiet=True, n_cpus=1)
    stats.summary()
    assert list(dds.var_names[dds.var["refitted"]]) == ["g0", "g1", "g2", "g3", "g4"]
    # every sample replaceable: R records no maximum Cook's distance, so no p-value is dropped
    assert stats.results_df["pvalue"].notna().all()
    # baseMean comes from the counts after replacement, as in R
    original = (counts.to_numpy() / dds.obs["size_factors"].to_numpy()[:, None]).mean(axis=0)
    assert (stats.results_df["baseMean"].to_numpy()[:5] < original[:5] - 100).all()
    # their coefficients are of the replaced counts, which the shrinkage does not see: the batched
    # shrinkage may not prove anything from them
    inference = BatchedRInference(n_cpus=1)
    inference.use_fit(dds)
    unknown = np.isnan(inference.mle).any(axis=1)
    assert list(dds.var_names[dds.non_zero_idx][unknown]) == ["g0", "g1", "g2", "g3", "g4"]
    fitted = dds.varm["LFC"].to_numpy()[dds.non_zero_idx]
    np.testing.assert_array_equal(inference.mle[~unknown], fitted[~unknown])


def test_vectorised_wald_test_is_pydeseq2_per_gene_test_to_rounding() -> None:
    dds = small_dataset("~batch + condition", samples=12, genes=300)
    dds.X[:, :20] //= 150  # expected counts below the 0.5 floor in some samples
    with pytest.warns(UserWarning, match="the parametric fit of dispersion estimates"):
        dds.deseq2()  # the trend's fit is not what is tested here
    stats = RDeseqStats(dds, contrast=["condition", "B", "A"], quiet=True, n_cpus=1)
    stats.run_wald_test()
    mu = np.exp(stats.design_matrix @ stats.LFC.T).multiply(dds.obs["size_factors"], 0).values
    assert (mu[:, :20] < dds.min_mu).any()
    pvals, wald_stats, se = DefaultInference(n_cpus=1).wald_test(
        design_matrix=stats.design_matrix.values,
        disp=dds.var["dispersions"].values,
        lfc=stats.LFC.values,
        mu=np.maximum(mu, dds.min_mu),
        ridge_factor=np.diag(np.repeat(1e-6, 3)),
        contrast=stats.contrast_vector,
        lfc_null=0.0,
    )
    # a Cholesky solve instead of an inverse: rounding only (measured: 6e-15 relative)
    np.testing.assert_allclose(stats.p_values, pvals, rtol=1e-12, atol=0)
    np.testing.assert_allclose(stats.statistics, wald_stats, rtol=1e-12, atol=0)
    np.testing.assert_allclose(stats.SE, se, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------------------------
# The three reference runs
# ---------------------------------------------------------------------------------------------


def test_every_reference_file_is_checked_by_sha256() -> None:
    folder = shared_path("reference")
    files = sorted(str(p.relative_to(folder.parent)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(k for k in SHA256 if k.startswith("reference/"))
    for relative in files:
        shared_path(relative)


class Claims(NamedTuple):
    """What README.md's "Statistics: agreement with R's DESeq2" states for one run in `r` mode.

    Numbers are kept as printed and checked to their last digit (:func:`last_digit`): a difference
    or 1 - Pearson may exceed the claim by one unit of that digit, other values may be one unit off
    either way.
    """

    disp_fit: str  # dispFit median relative difference
    dispersion: str  # final dispersion median relative difference
    prior_var: str  # log-dispersion prior variance, the same as R's
    lfc: str  # 1 - Pearson of log2FoldChange over the genes with padj
    stat: str  # 1 - Pearson of the Wald stat over the genes with padj
    apeglm: str  # Pearson of the apeGLM-shrunk log2FC
    apeglm_max: str  # largest single-gene difference of the shrunk log2FC (README: "0.011-0.041")
    threshold: str  # independent-filtering threshold, baseMean
    genewise_off: int  # genes whose dispGeneEst is more than 1% from R's


README_CLAIMS = {
    "airway_cell_dex": Claims("2.4e-6", "9.5e-7", "0.5285", "6e-13", "1e-13", "0.999998", "0.011", "4.5034", 17),
    "airway_dex": Claims("2.6e-11", "7.3e-12", "0.9206", "2e-13", "1e-14", "0.999997", "0.041", "3.5906", 2),
    "pasilla_type_condition": Claims("4.7e-9", "3.8e-9", "0.2552", "2e-12", "1e-13", "0.99999", "0.024", "3.8978", 3),
}

# Of the genes whose dispGeneEst is more than 1% from R's, those where either estimate is at least
# 100 * minDisp (1e-6), the cut below which a gene stays out of the trend fit. All the others have
# both estimates below 3e-8, next to the 1e-8 floor, and baseMean below 23.
GENEWISE_OFF_ABOVE_FLOOR = {
    "airway_cell_dex": {"ENSG00000077264", "ENSG00000124440"},  # baseMean 82 and 197, both 10.8%
    "airway_dex": set(),
    "pasilla_type_condition": set(),
}

# Relative difference from R, (median, max) over the genes where R has a value, measured with
# PyDESeq2 0.5.4 and asserted with 10% headroom. The largest log2FoldChange/stat/pvalue differences
# are genes with baseMean < 3 and no padj (pasilla FBgn0003938: 0.47 vs R -0.79), whose
# coefficients PyDESeq2's IRLS fits elsewhere than R; over the genes with padj they stay below
# 0.12 (airway_dex, an LFC near 0) and 0.004 otherwise.
MEASURED = {
    "airway_cell_dex": {
        "dispGeneEst": (0.0, 0.88),
        "dispFit": (2.4e-6, 2.4e-6),
        "dispersion": (9.5e-7, 4.6e-5),
        "log2FoldChange": (1.1e-6, 0.053),
        "lfcSE": (5.0e-7, 8.7e-5),
        "stat": (1.0e-6, 0.053),
        "pvalue": (1.1e-6, 3.6e-3),
        "padj": (7.1e-7, 9.0e-4),
    },
    "airway_dex": {
        "dispGeneEst": (2.9e-16, 0.41),
        "dispFit": (2.6e-11, 5.5e-11),
        "dispersion": (7.3e-12, 5.5e-7),
        "log2FoldChange": (1.2e-6, 0.12),
        "lfcSE": (3.1e-7, 8.1e-6),
        "stat": (7.1e-7, 0.12),
        "pvalue": (6.9e-7, 4.6e-5),
        "padj": (6.4e-7, 4.6e-5),
    },
    "pasilla_type_condition": {
        "dispGeneEst": (9.7e-16, 1.4),
        "dispFit": (4.7e-9, 5.5e-9),
        "dispersion": (3.8e-9, 3.9e-6),
        "log2FoldChange": (6.1e-7, 1.6),
        "lfcSE": (3.2e-8, 2.6e-3),
        "stat": (5.7e-7, 1.6),
        "pvalue": (5.9e-7, 0.13),
        "padj": (5.6e-7, 2.4e-4),
    },
}

# R's mcols(dds) column -> ours in dds.var; the other compared columns are results() columns.
DISPERSION_COLUMNS = {
    "dispGeneEst": "genewise_dispersions",
    "dispFit": "fitted_dispersions",
    "dispersion": "dispersions",
}


def last_digit(claim: str) -> float:
    """One unit of the last digit of a number as printed: "9.5e-7" -> 1e-8, "0.5285" -> 1e-4."""
    return 10.0 ** Decimal(claim).as_tuple().exponent


def at_most(claim: str) -> float:
    """Upper bound for a difference the README states as ``claim``: one unit of its last digit."""
    return float(claim) + last_digit(claim)


def load_run(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    data, design, contrast = RUNS[name][:3]
    counts = pd.read_csv(shared_path(f"data/{data}/counts.tsv.gz"), sep="\t", index_col=0)
    metadata = pd.read_csv(shared_path(f"data/{data}/samples.tsv"), sep="\t", index_col=0)
    metadata = metadata.loc[counts.columns]
    for column in design.lstrip("~").replace(" ", "").split("+"):
        # R: factor levels sorted, the tested factor relevelled to the contrast's reference
        levels = sorted(metadata[column].unique())
        if column == contrast[0]:
            levels.remove(contrast[2])
            levels.insert(0, contrast[2])
        metadata[column] = pd.Categorical(metadata[column], categories=levels)
    return counts.T, metadata, design, contrast


@pytest.fixture(scope="module", params=list(RUNS))
def fitted(request) -> dict:
    """One reference run fitted in R mode: dataset, stats, shrunk LFCs, R's tables."""
    name = request.param
    counts, metadata, design, contrast = load_run(name)
    # the default engine (batched): its apeGLM modes are what the README's rows state
    dds = RDeseqDataSet(
        counts=counts, metadata=metadata, design=design, quiet=True, n_cpus=2, inference=BatchedRInference(n_cpus=2)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        dds.deseq2()
    stats = RDeseqStats(dds, contrast=contrast, quiet=True, n_cpus=2, inference=BatchedRInference(n_cpus=2))
    stats.summary()
    results = stats.results_df.copy()
    coeff = next(c for c in dds.varm["LFC"].columns if c.startswith(contrast[0]))
    stats.lfc_shrink(coeff=coeff)
    return {
        "name": name,
        "claims": README_CLAIMS[name],
        "dds": dds,
        "stats": stats,
        "results": results,
        "shrunk": stats.LFC[coeff] / np.log(2),
        "r_disp": reference(name, "dispersions"),
        "r_res": reference(name, "deseq2"),
        "r_shrunk": reference(name, "lfcshrink_apeglm")["log2FoldChange"],
        "r_size_factors": reference(name, "size_factors")["size_factor"],
    }


def ours_and_r(fitted: dict, column: str) -> tuple[pd.Series, pd.Series]:
    """Our values and R's of one per-gene column, both indexed by gene."""
    if column in DISPERSION_COLUMNS:
        return fitted["dds"].var[DISPERSION_COLUMNS[column]], fitted["r_disp"][column]
    return fitted["results"][column], fitted["r_res"][column]


def rel_diff(ours: pd.Series, r: pd.Series) -> pd.Series:
    """|ours - R| / |R| over the genes where R has a value."""
    has = r.notna()
    return (ours[has] - r[has]).abs() / r[has].abs()


def pearson(a: pd.Series, b: pd.Series) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.slow
@pytest.mark.parametrize("column", list(MEASURED["airway_dex"]))
def test_per_gene_values_match_r(fitted: dict, column: str) -> None:
    ours, r = ours_and_r(fitted, column)
    # also Cook's outliers: the same p-values set to NA (51 in airway_dex)
    assert ours.isna().equals(r.isna())
    diff = rel_diff(ours, r)
    median, largest = MEASURED[fitted["name"]][column]
    assert diff.median() <= 1.1 * median
    assert diff.max() <= 1.1 * largest


@pytest.mark.slow
def test_readme_dispersion_rows(fitted: dict) -> None:
    dds, r_disp, claims = fitted["dds"], fitted["r_disp"], fitted["claims"]
    np.testing.assert_allclose(dds.obs["size_factors"], fitted["r_size_factors"].loc[dds.obs_names], rtol=1e-14)
    assert rel_diff(dds.var["fitted_dispersions"], r_disp["dispFit"]).median() <= at_most(claims.disp_fit)
    assert rel_diff(dds.var["dispersions"], r_disp["dispersion"]).median() <= at_most(claims.dispersion)
    np.testing.assert_allclose(dds.uns["trend_coeffs"], RUNS[fitted["name"]][3], rtol=2e-4)
    assert float(dds.uns["prior_disp_var"]) == pytest.approx(float(claims.prior_var), abs=last_digit(claims.prior_var))


@pytest.mark.slow
def test_readme_genewise_dispersions_off_by_more_than_1_percent(fitted: dict) -> None:
    ours, r = ours_and_r(fitted, "dispGeneEst")
    off = rel_diff(ours, r) > 0.01
    assert off.sum() == fitted["claims"].genewise_off
    above_floor = off & ((ours >= 1e-6) | (r >= 1e-6))
    assert set(r.index[above_floor]) == GENEWISE_OFF_ABOVE_FLOOR[fitted["name"]]


@pytest.mark.slow
def test_readme_fold_change_and_wald_rows(fitted: dict) -> None:
    ours, r, claims = fitted["results"], fitted["r_res"], fitted["claims"]
    has_padj = r["padj"].notna()
    assert 1 - pearson(ours.loc[has_padj, "log2FoldChange"], r.loc[has_padj, "log2FoldChange"]) <= at_most(claims.lfc)
    assert 1 - pearson(ours.loc[has_padj, "stat"], r.loc[has_padj, "stat"]) <= at_most(claims.stat)


@pytest.mark.slow
def test_readme_independent_filtering_rows(fitted: dict) -> None:
    ours, r, claims = fitted["results"], fitted["r_res"], fitted["claims"]
    assert set(ours.index[ours["padj"].notna()]) == set(r.index[r["padj"].notna()])
    assert fitted["stats"].filter_threshold == pytest.approx(float(claims.threshold), abs=last_digit(claims.threshold))
    for alpha in (0.05, 0.1):  # README: Jaccard 1.000 at 0.05; R's README counts both
        assert set(ours.index[ours["padj"] < alpha]) == set(r.index[r["padj"] < alpha])


@pytest.mark.slow
def test_readme_apeglm_rows(fitted: dict) -> None:
    ours, r, claims = fitted["shrunk"], fitted["r_shrunk"], fitted["claims"]
    assert ours.isna().equals(r.isna())
    both = r.notna()
    assert pearson(ours[both], r[both]) >= float(claims.apeglm) - last_digit(claims.apeglm)
    assert (ours[both] - r[both]).abs().max() == pytest.approx(
        float(claims.apeglm_max), abs=last_digit(claims.apeglm_max)
    )
