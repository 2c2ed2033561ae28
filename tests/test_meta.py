"""Random-effects pooling against R's metafor 3.8.1 (tests/data/meta/make_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT

from knockseq.meta import random_effects

DATA = PROJECT / "tests/data/meta"
FIELDS = ("k", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "i2", "q", "q_pvalue")


@pytest.mark.parametrize("case", ["heterogeneous", "homogeneous", "opposite", "five"])
def test_reml_random_effects_equal_metafor(case):
    inputs = pd.read_csv(DATA / "inputs.tsv", sep="\t")
    reference = pd.read_csv(DATA / "reference.tsv", sep="\t", index_col="case").loc[case]
    rows = inputs[inputs["case"] == case]
    result = random_effects(rows["yi"].to_numpy(), rows["sei"].to_numpy() ** 2).as_dict()
    for field in FIELDS:
        # tau2 is where Fisher scoring stops (a step below 1e-5), as metafor's
        assert result[field] == pytest.approx(reference[field], rel=1e-6, abs=1e-9), field


def test_one_estimate_is_itself_and_bad_inputs_are_refused():
    one = random_effects(np.array([-0.7]), np.array([0.04]))
    assert (one.k, one.estimate, one.se, one.tau2, one.i2) == (1, -0.7, 0.2, 0.0, 0.0)
    assert one.ci_low == pytest.approx(-0.7 - 1.959963984540054 * 0.2) and np.isnan(one.q)
    for estimates, variances in (([], []), ([1.0, 2.0], [0.1]), ([1.0], [0.0]), ([np.nan], [0.1])):
        with pytest.raises(ValueError):
            random_effects(np.array(estimates), np.array(variances))
