"""The strict reading of config files: repeated keys, bad YAML, non-mappings, templates."""

from __future__ import annotations

import pytest

from knockseq.configfile import read_config_file
from knockseq.errors import InputError


def read_error(tmp_path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_config_file(path)
    return str(error.value).removeprefix(f"{path}, ").removeprefix(f"{path}: ")


def test_a_key_repeated_at_any_depth_is_named_with_both_lines(tmp_path):
    text = "samples: s.tsv\ncontrasts:\n  kd: {test: a, reference: b}\n  other: {test: a, reference: b}\n  kd:\n    test: b\n"
    assert read_error(tmp_path, text).startswith(
        "row 5: key `kd` is written twice in one mapping (lines 3 and 5); YAML would keep only the last one."
    )
    assert read_error(tmp_path, "de: {compat: r, compat: pydeseq2}\n").startswith(
        "row 1: key `compat` is written twice in one mapping (lines 1 and 1)"
    )


def test_the_same_key_in_two_mappings_is_fine(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: {x: 1}\nb: {x: 2}\n")
    assert read_config_file(path) == {"a": {"x": 1}, "b": {"x": 2}}


def test_bad_yaml_names_its_line(tmp_path):
    assert read_error(tmp_path, "samples: s.tsv\ncontrasts:\n\tkd: 1\n").startswith("row 3: not valid YAML: ")


@pytest.mark.parametrize(("text", "holds"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "nothing")])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text, holds):
    assert read_error(tmp_path, text) == (
        f"the file holds {holds}, not a mapping of options. Fix: write one option per line at the top level "
        "(samples: ..., contrasts: ...), as config/config.yaml does."
    )


def test_yaml_tags_that_build_objects_are_not_loaded(tmp_path):
    assert read_error(tmp_path, "samples: !!python/object/apply:os.system ['true']\n").startswith(
        "row 1: not valid YAML"
    )


def test_a_yte_template_is_refused(tmp_path):
    assert read_error(tmp_path, "__use_yte__: true\nsamples: s.tsv\n").startswith(
        "`__use_yte__` asks Snakemake to evaluate the file as a YTE template"
    )
