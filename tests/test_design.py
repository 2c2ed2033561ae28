"""Design building and the checks that run before any fit, with their exact messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from knockseq.design import build_design, design_matrix, model_formula, sample_design, subset_samples
from knockseq.errors import InputError

E2 = {"name": "e2", "variable": "condition", "test": "E2", "reference": "control"}
T47D_WT = {"name": "wt", "variable": "condition", "test": "E2", "reference": "vehicle", "where": {"mutation": "WT"}}
KD = {"name": "kd", "variable": "condition", "test": "kd", "reference": "ctrl"}


@pytest.fixture(scope="module")
def mcf7() -> pd.DataFrame:
    return pd.read_csv(shared_path("data/mcf7_e2/samples.tsv"), sep="\t")


@pytest.fixture(scope="module")
def t47d() -> pd.DataFrame:
    return pd.read_csv(shared_path("data/t47d_e2/samples.tsv"), sep="\t")


@pytest.fixture(scope="module")
def airway() -> pd.DataFrame:
    return pd.read_csv(shared_path("data/airway/samples.tsv"), sep="\t")


def paired(**extra) -> pd.DataFrame:
    """Four donors, each with a control and a knockdown sample."""
    return pd.DataFrame(
        {
            "sample": [f"s{i}" for i in range(1, 9)],
            "condition": ["ctrl", "kd"] * 4,
            "donor": ["d1", "d1", "d2", "d2", "d3", "d3", "d4", "d4"],
            **extra,
        }
    )


def message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


def test_reference_is_the_baseline_whatever_the_level_names_sort_to(airway):
    design = build_design(airway, {"name": "dex", "variable": "dex", "test": "trt", "reference": "untrt"}, ["cell"])
    assert list(design.metadata["dex"].cat.categories) == ["untrt", "trt"]
    assert design.coefficient == "dex[T.trt]"
    assert design.formula == "~ `cell` + `dex`"
    assert list(design.matrix.columns) == [
        "Intercept",
        "cell[T.N061011]",
        "cell[T.N080611]",
        "cell[T.N61311]",
        "dex[T.trt]",
    ]
    assert design.matrix["dex[T.trt]"].tolist() == [0, 1] * 4
    assert design.samples == airway["sample"].tolist()
    assert design.group_sizes().to_dict() == {"untrt": 4, "trt": 4}


def test_tested_variable_listed_as_covariate_enters_once(airway):
    design = build_design(airway, {"variable": "dex", "test": "trt", "reference": "untrt"}, ["dex", "cell"])
    assert design.covariates == ["cell"]
    assert design.formula == "~ `cell` + `dex`"
    assert design.notes == ["'dex' is the tested variable; it is in the model once, last."]


def test_numeric_covariate_is_a_factor():
    sheet = paired(batch=[1, 1, 2, 2, 3, 3, 1, 1])
    design = build_design(sheet, KD, ["batch"])
    assert list(design.matrix.columns) == ["Intercept", "batch[T.2]", "batch[T.3]", "condition[T.kd]"]


def test_mcf7_batch_is_fully_confounded(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, E2, ["batch"], sheet_path="samples.tsv")
    assert message(excinfo) == (
        "samples.tsv, column 'batch': covariate 'batch' is fully confounded with 'condition': each level "
        "of 'batch' holds samples of a single 'condition' level (Plate 1A index E: E2; Plate 1C index F: "
        "E2; Plate 1D index H: E2; Plate 2B index H: control), so the 'condition' effect cannot be "
        "separated from 'batch'. Fix: add samples that put both 'condition' groups in one 'batch' level, "
        "or remove 'batch' from the config's design list, knowing that the comparison is then not "
        "adjusted for it and a 'batch' effect can pass for a 'condition' effect."
    )


def test_mcf7_without_covariates_is_fine(mcf7):
    design = build_design(mcf7, E2)
    assert design.group_sizes().to_dict() == {"E2": 3, "control": 3}


def test_one_replicate_group(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7.iloc[[0, 3, 4, 5]], E2)
    assert message(excinfo) == (
        "column 'condition': contrast 'e2': level 'E2' of 'condition' has 1 sample (SRR21043404); DESeq2 "
        "needs at least 2 replicates per group to estimate dispersions. Fix: add replicates of this "
        "group, or leave it out with a where filter."
    )


def test_design_not_full_rank_names_the_redundant_column():
    # site groups donors d1+d2 vs d3+d4, so it is a sum of donor columns
    sheet = paired(site=["A"] * 4 + ["B"] * 4)
    with pytest.raises(InputError) as excinfo:
        build_design(sheet, KD, ["donor", "site"])
    assert message(excinfo) == (
        "column 'site': the design ~ donor + site + condition is not full rank (rank 5 of 6 "
        "coefficients): coefficient 'site[T.B]' is a linear combination of the ones before it, so the "
        "model cannot be fitted. Fix: remove one of the design columns that describe the same grouping "
        "of samples."
    )


def test_no_residual_degrees_of_freedom():
    sheet = pd.DataFrame(
        {"sample": ["s1", "s2", "s3", "s4"], "condition": ["c", "c", "k", "k"], "lane": ["A", "B", "A", "C"]}
    )
    with pytest.raises(InputError) as excinfo:
        build_design(sheet, {**KD, "test": "k", "reference": "c"}, ["lane"])
    assert message(excinfo) == (
        "the design ~ lane + condition has 4 coefficients for 4 samples: no residual degrees of freedom "
        "are left to estimate dispersions. Fix: remove covariates from the config's design list, or add "
        "samples."
    )


def test_absent_reference_level(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, {**E2, "reference": "vehicle"})
    assert message(excinfo) == (
        "column 'condition': contrast 'e2': the reference level 'vehicle' of 'condition' has no samples "
        "(levels present: 'E2', 'control'). Fix: set contrasts.e2.reference to a level present in column "
        "'condition'."
    )


def test_absent_test_level_after_where(t47d):
    contrast = {
        "name": "wt",
        "variable": "mutation",
        "test": "D538G",
        "reference": "WT",
        "where": {"mutation": "WT"},
    }
    with pytest.raises(InputError) as excinfo:
        build_design(t47d, contrast)
    assert message(excinfo) == (
        "column 'mutation': contrast 'wt': the test level 'D538G' of 'mutation' has no samples after the "
        "where filter (levels present: 'WT'). Fix: set contrasts.wt.test to a level present in column "
        "'mutation', or widen the where filter."
    )


def test_same_test_and_reference(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, {**E2, "reference": "E2"})
    assert message(excinfo) == (
        "column 'contrasts.e2.test': contrast 'e2': test and reference are both 'E2'. Fix: set test and "
        "reference to two different levels of 'condition'."
    )


def test_variable_not_a_column(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, {**E2, "variable": "genotype"}, sheet_path="samples.tsv")
    assert message(excinfo) == (
        "samples.tsv, column 'genotype': contrasts.e2.variable names column 'genotype', which the sample "
        "sheet does not have (columns: 'condition', 'e2_nM', 'batch', 'plate', 'index', "
        "'source_condition'). Fix: add a 'genotype' column to the sample sheet, or correct the name in "
        "contrasts.e2.variable."
    )


def test_where_on_missing_column(t47d):
    with pytest.raises(InputError) as excinfo:
        build_design(t47d, {**T47D_WT, "where": {"mutant": "WT"}})
    assert message(excinfo) == (
        "column 'mutant': contrasts.wt.where names column 'mutant', which the sample sheet does not have "
        "(columns: 'treatment', 'condition', 'mutation', 'replicate'). Fix: add a 'mutant' column to the "
        "sample sheet, or correct the name in contrasts.wt.where."
    )


def test_where_on_missing_value(t47d):
    with pytest.raises(InputError) as excinfo:
        build_design(t47d, {**T47D_WT, "where": {"mutation": "wt"}})
    assert message(excinfo) == (
        "column 'mutation': contrast 'wt': where filter mutation = 'wt' matches no sample (values present: "
        "'D538G', 'WT', 'Y537S'). Fix: use a value of column 'mutation' in contrasts.wt.where."
    )


def test_where_keeps_matching_samples_in_sheet_order(t47d):
    kept = subset_samples(t47d, {"mutation": ["WT", "D538G"], "condition": "E2"})
    assert kept.index.tolist() == [f"E2_WT_rep{i}" for i in range(1, 5)] + [f"E2_D538G_rep{i}" for i in range(1, 5)]
    assert subset_samples(paired(batch=[1, 1, 2, 2, 1, 1, 2, 2]), {"batch": 2}).index.tolist() == [
        "s3",
        "s4",
        "s7",
        "s8",
    ]


def test_single_level_covariate_is_dropped_with_a_warning(t47d):
    with pytest.warns(UserWarning, match="covariate 'mutation' has a single level"):
        design = build_design(t47d, T47D_WT, ["mutation"])
    assert design.covariates == [] and design.dropped == ["mutation"]
    assert design.formula == "~ `condition`"
    assert design.samples == [f"{t}_WT_rep{i}" for t in ("veh", "E2") for i in range(1, 5)]
    assert design.notes == [
        "covariate 'mutation' has a single level ('WT') in the samples of contrast 'wt' and was dropped "
        "from the design: it cannot explain any variation."
    ]


@pytest.mark.parametrize("column", ["batch + condition", "C(batch)", "1batch", "batch)"])
def test_only_plain_column_names(mcf7, column):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, E2, [column])
    assert message(excinfo) == (
        f"column 'design': '{column}' in design is not a plain column name. Fix: give sheet column names "
        "only (a letter, then letters, digits or _), not formulas or expressions."
    )


def test_unknown_covariate(mcf7):
    with pytest.raises(InputError) as excinfo:
        build_design(mcf7, E2, ["donor"])
    assert message(excinfo) == (
        "column 'donor': design names column 'donor', which the sample sheet does not have (columns: "
        "'condition', 'e2_nM', 'batch', 'plate', 'index', 'source_condition'). Fix: add a 'donor' column "
        "to the sample sheet, or correct the name in design."
    )


def test_missing_covariate_value():
    sheet = paired()
    sheet.loc[2, "donor"] = None
    with pytest.raises(InputError) as excinfo:
        build_design(sheet, KD, ["donor"])
    assert message(excinfo) == (
        "row s3, column 'donor': sample 's3' has no value in design column 'donor'. Fix: fill in the "
        "value, or leave the sample out with a where filter."
    )


def test_formula_quotes_names_so_keywords_and_transforms_stay_columns():
    assert model_formula(["in", "C"]) == "~ `in` + `C`"
    assert model_formula([]) == "~ 1"
    from formulaic_contrasts import FormulaicContrasts

    sheet = paired(C=["x", "y"] * 4)
    sheet["in"] = ["a"] * 4 + ["b"] * 4
    metadata, matrix, formula = sample_design(sheet, ["in", "C"])
    built = FormulaicContrasts(metadata, formula).design_matrix
    assert list(built.columns) == list(matrix.columns) == ["Intercept", "in[T.b]", "C[T.y]"]
    assert np.array_equal(built.to_numpy(dtype=float), matrix.to_numpy())


def test_design_matrix_treatment_coding():
    metadata = pd.DataFrame({"f": pd.Categorical(["b", "a", "c"], categories=["b", "a", "c"])}, index=["x", "y", "z"])
    matrix = design_matrix(metadata)
    assert matrix.to_dict("list") == {
        "Intercept": [1.0, 1.0, 1.0],
        "f[T.a]": [0.0, 1.0, 0.0],
        "f[T.c]": [0.0, 0.0, 1.0],
    }
