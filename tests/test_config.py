"""Sample sheet and cross-field config checks: each mistake is one clear message."""

from __future__ import annotations

import pytest
from conftest import PROJECT

from knockseq.config import Contrast, config_defaults, parse_contrasts, read_sample_sheet
from knockseq.design import build_design
from knockseq.errors import InputError

SHEET = "sample\tcondition\tquant\tcell_line\n" + "\n".join(
    f"{c}_{i}_{cl}\t{c}\tq/{c}_{i}_{cl}.txt\t{cl}"
    for cl in ("MCF7", "T47D")
    for c in ("control", "knockdown")
    for i in (1, 2)
)


@pytest.fixture(autouse=True)
def quant_files(tmp_path, monkeypatch):
    """SHEET's quant files, in the working directory (quant paths are relative to it, as in a run)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q").mkdir()
    for line in SHEET.splitlines()[1:]:
        (tmp_path / line.split("\t")[2]).touch()


def write(tmp_path, text, name="samples.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def config(**contrast):
    """A validated configuration with one contrast ``kd`` (options as the schema fills them)."""
    cfg = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")
    spec = {"variable": "condition", "test": "knockdown", "reference": "control", "where": {}}
    spec.update(contrast)
    cfg["contrasts"] = {"kd": spec}
    cfg["knockdown"]["targets"] = ["PPP3CA", "PPP3CB"]
    return cfg


def test_sheet_read_in_order(tmp_path):
    sheet = read_sample_sheet(write(tmp_path, SHEET))
    assert list(sheet["sample"][:3]) == ["control_1_MCF7", "control_2_MCF7", "knockdown_1_MCF7"]
    assert sheet.shape == (8, 4)


def test_missing_sheet(tmp_path):
    with pytest.raises(InputError) as err:
        read_sample_sheet(tmp_path / "nope.tsv")
    assert (
        str(err.value)
        == f"{tmp_path / 'nope.tsv'}: sample sheet not found. Fix: set `samples:` in the config to an existing TSV file."
    )


def test_empty_sheet(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(InputError, match="the sample sheet is empty"):
        read_sample_sheet(path)


def test_missing_required_column(tmp_path):
    path = write(tmp_path, "sample\tquant\na\tx\n")
    with pytest.raises(InputError) as err:
        read_sample_sheet(path)
    assert str(err.value) == (
        f"{path}, column 'condition': required column missing (columns found: sample, quant). "
        "Fix: add it (tab-separated header line)."
    )


def test_quant_column_needed_without_counts_table(tmp_path):
    path = write(tmp_path, "sample\tcondition\na\tx\n")
    with pytest.raises(InputError, match="column 'quant': required column missing"):
        read_sample_sheet(path)
    assert list(read_sample_sheet(path, counts_table=True)["sample"]) == ["a"]


def test_duplicate_sample_names_the_row(tmp_path):
    path = write(tmp_path, "sample\tcondition\tquant\na\tx\tf1\nb\tx\tf2\na\ty\tf3\n")
    with pytest.raises(InputError) as err:
        read_sample_sheet(path)
    assert str(err.value) == (
        f"{path}, row 4, column 'sample': duplicate sample name 'a' (first on row 2). Fix: give every sample a unique name."
    )


def test_empty_cell_names_row_and_column(tmp_path):
    path = write(tmp_path, "sample\tcondition\tquant\na\tx\tf1\nb\t\tf2\n")
    with pytest.raises(InputError) as err:
        read_sample_sheet(path)
    assert (
        str(err.value) == f"{path}, row 3, column 'condition': empty value. Fix: fill in `condition` for every sample."
    )


def test_bad_sample_name(tmp_path):
    path = write(tmp_path, "sample\tcondition\tquant\nmy sample\tx\tf1\n")
    with pytest.raises(InputError, match=r"row 2, column 'sample': sample name 'my sample' has characters"):
        read_sample_sheet(path)


def test_contrasts_are_built_in_config_order(tmp_path):
    path = write(tmp_path, SHEET)
    cfg = config(where={"cell_line": "MCF7"})
    cfg["contrasts"]["screen"] = {**cfg["contrasts"]["kd"], "where": {}, "targets": ["PPP3CA"]}
    cfg["contrasts"]["drug"] = {**cfg["contrasts"]["kd"], "where": {}, "targets": []}
    assert parse_contrasts(cfg, read_sample_sheet(path), path) == [
        # No targets of its own: the run-wide knockdown.targets.
        Contrast("kd", "condition", "knockdown", "control", {"cell_line": ["MCF7"]}, ("PPP3CA", "PPP3CB")),
        Contrast("screen", "condition", "knockdown", "control", {}, ("PPP3CA",)),
        Contrast("drug", "condition", "knockdown", "control", {}, ()),  # a treatment
    ]
    del cfg["knockdown"]["targets"]
    assert parse_contrasts(cfg, read_sample_sheet(path), path)[0].targets == ()


@pytest.mark.parametrize(
    "contrast, covariates",
    [
        ({"test": "siRNA"}, []),
        ({"variable": "genotype"}, []),
        ({"where": {"cell": "MCF7"}}, []),
        ({"where": {"cell_line": "HeLa"}}, []),
        ({"reference": "knockdown"}, []),
        ({}, ["batch"]),
        ({"where": {"cell_line": "MCF7"}, "test": "MCF7"}, []),
    ],
)
def test_contrast_errors_are_the_design_checks(tmp_path, contrast, covariates):
    # Each message is asserted once, in tests/test_design.py; parse time raises the same error.
    path = write(tmp_path, SHEET)
    cfg = config(**contrast)
    cfg["design"] = covariates
    sheet = read_sample_sheet(path)
    with pytest.raises(InputError) as expected:
        build_design(sheet, {"name": "kd", **cfg["contrasts"]["kd"]}, covariates, sheet_path=path)
    with pytest.raises(InputError) as err:
        parse_contrasts(cfg, sheet, path)
    assert str(err.value) == str(expected.value)


def test_knockdown_thresholds_must_be_ordered(tmp_path):
    path = write(tmp_path, SHEET)
    cfg = config()
    cfg["knockdown"].update(effective_max_remaining=90)
    with pytest.raises(InputError) as err:
        parse_contrasts(cfg, read_sample_sheet(path), path)
    assert str(err.value) == (
        "column 'knockdown.effective_max_remaining': knockdown thresholds must satisfy 0 < "
        "effective_max_remaining (90) <= weak_max_remaining (80) <= 100. Fix: set "
        "effective_max_remaining at or below weak_max_remaining."
    )


def test_configuration_docs_and_config_yaml_are_generated_from_the_schema():
    import config_docs
    import docgen

    name, script = "options", config_docs.SCRIPT
    doc = config_docs.DOC.read_text()
    assert docgen.current(doc, name, script) == docgen.wrapped(config_docs.reference(), name, script), (
        f"docs/configuration.md is out of date: run python {script} --write"
    )
    assert config_docs.CONFIG.read_text() == config_docs.config_yaml(), (
        f"config/config.yaml is out of date: run python {script} --write"
    )


def test_every_option_is_documented_in_the_schema():
    import config_docs

    undocumented = [
        key
        for key, node in config_docs.options(config_docs.schema())
        if not (node.get("description") or node.get("title"))
    ]
    assert undocumented == []


def test_allowed_values_in_code_are_the_schemas():
    import config_docs

    from knockseq.counts import STRANDEDNESS
    from knockseq.de.backend import COMPAT_MODES
    from knockseq.engine.inference import ENGINES
    from knockseq.enrichment import RANKINGS
    from knockseq.genesets import BUILTINS
    from knockseq.readers import FORMATS
    from knockseq.tximport import COUNTS_FROM_ABUNDANCE

    options = dict(config_docs.options(config_docs.schema()))
    assert options["format"]["enum"] == ["auto", *FORMATS]
    assert options["strandedness"]["enum"] == list(STRANDEDNESS)
    assert options["counts_from_abundance"]["enum"] == list(COUNTS_FROM_ABUNDANCE)
    assert options["de.compat"]["enum"] == list(COMPAT_MODES)
    assert options["de.engine"]["enum"] == list(ENGINES)
    assert options["gsea.ranking"]["enum"] == list(RANKINGS)
    assert options["gene_sets"]["items"]["oneOf"][0]["properties"]["builtin"]["enum"] == list(BUILTINS)
