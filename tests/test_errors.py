"""Several mistakes reported together, and the suggestion a message makes for a near miss."""

from __future__ import annotations

import pytest

from knockseq.errors import InputError, InputErrors, closest, raise_all


def test_several_mistakes_are_numbered_in_one_error_that_is_an_input_error():
    nested = InputErrors([InputError("b.", row=2), InputError("c.")])
    error = InputErrors([InputError("a.", path="x.tsv", fix="do y."), nested])
    assert isinstance(error, InputError) and len(error.errors) == 3
    assert str(error) == "3 problems:\n1. x.tsv: a. Fix: do y.\n2. row 2: b.\n3. c."


def test_raise_all_raises_one_error_as_itself_and_nothing_for_none():
    raise_all([])
    with pytest.raises(InputError) as one:
        raise_all([InputError("a.")])
    assert type(one.value) is InputError
    with pytest.raises(InputErrors):
        raise_all([InputError("a."), InputError("b.")])


@pytest.mark.parametrize(
    ("word", "choices", "typos", "expected"),
    [
        ("Knockdown", ["control", "knockdown"], False, "knockdown"),
        ("knockdown1", ["knockdown_1", "knockdown_2"], False, "knockdown_1"),
        ("siRNA_2", ["siRNA_1", "siRNA_3"], False, None),
        ("knockdwn", ["control", "knockdown"], True, "knockdown"),
        ("samples.tvs", ["samples.tsv", "README.md"], True, "samples.tsv"),
        ("zzz", ["control"], True, None),
    ],
)
def test_closest(word, choices, typos, expected):
    assert closest(word, choices, typos=typos) == expected
