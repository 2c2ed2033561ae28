"""Sample sheet and cross-field config checks: each mistake is one clear message."""

from __future__ import annotations

import pytest

from knockseq.config import Contrast, parse_contrasts, read_sample_sheet, select_samples
from knockseq.errors import InputError

SHEET = "sample\tcondition\tquant\tcell_line\n" + "\n".join(
    f"{c}_{i}_{cl}\t{c}\tq/{c}_{i}_{cl}.txt\t{cl}" for cl in ("MCF7", "T47D") for c in ("control", "knockdown") for i in (1, 2)
)


def write(tmp_path, text, name="samples.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def config(**contrast):
    spec = {"variable": "condition", "test": "knockdown", "reference": "control", "where": {}}
    spec.update(contrast)
    return {"design": [], "contrasts": {"kd": spec}}


def test_sheet_read_in_order(tmp_path):
    sheet = read_sample_sheet(write(tmp_path, SHEET))
    assert list(sheet["sample"][:3]) == ["control_1_MCF7", "control_2_MCF7", "knockdown_1_MCF7"]
    assert sheet.shape == (8, 4)


def test_missing_sheet(tmp_path):
    with pytest.raises(InputError) as err:
        read_sample_sheet(tmp_path / "nope.tsv")
    assert str(err.value) == f"{tmp_path / 'nope.tsv'}: sample sheet not found. Fix: set `samples:` in the config to an existing TSV file."


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
    assert str(err.value) == f"{path}, row 3, column 'condition': empty value. Fix: fill in `condition` for every sample."


def test_bad_sample_name(tmp_path):
    path = write(tmp_path, "sample\tcondition\tquant\nmy sample\tx\tf1\n")
    with pytest.raises(InputError, match=r"row 2, column 'sample': sample name 'my sample' has characters"):
        read_sample_sheet(path)


def test_contrast_with_where_subset(tmp_path):
    path = write(tmp_path, SHEET)
    sheet = read_sample_sheet(path)
    (contrast,) = parse_contrasts(config(where={"cell_line": "MCF7"}), sheet, path)
    assert contrast == Contrast("kd", "condition", "knockdown", "control", {"cell_line": ["MCF7"]})
    assert list(select_samples(sheet, contrast)["sample"]) == [
        "control_1_MCF7", "control_2_MCF7", "knockdown_1_MCF7", "knockdown_2_MCF7"
    ]


@pytest.mark.parametrize(
    "contrast, message",
    [
        ({"test": "siRNA"}, "`contrasts.kd.test` is 'siRNA', but no sample has condition = 'siRNA' (levels present: control, knockdown)."),
        ({"variable": "genotype"}, "`contrasts.kd.variable` is 'genotype', which is not a column of the sample sheet."),
        ({"where": {"cell": "MCF7"}}, "`contrasts.kd.where` filters on column 'cell', which the sample sheet does not have."),
        ({"where": {"cell_line": "HeLa"}}, "`contrasts.kd.where` asks for cell_line = HeLa, which no sample has (values present: MCF7, T47D)."),
        ({"reference": "knockdown"}, "`contrasts.kd` compares 'knockdown' with itself."),
    ],
)
def test_contrast_errors(tmp_path, contrast, message):
    path = write(tmp_path, SHEET)
    with pytest.raises(InputError) as err:
        parse_contrasts(config(**contrast), read_sample_sheet(path), path)
    assert message in str(err.value)


def test_level_absent_within_subset(tmp_path):
    text = SHEET.replace("knockdown\tq/knockdown_1_T47D", "control\tq/knockdown_1_T47D").replace(
        "knockdown\tq/knockdown_2_T47D", "control\tq/knockdown_2_T47D"
    )
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"no sample has condition = 'knockdown' within its `where` subset \(levels present: control\)"):
        parse_contrasts(config(where={"cell_line": ["T47D"]}), read_sample_sheet(path), path)


def test_design_covariate_must_be_a_column(tmp_path):
    path = write(tmp_path, SHEET)
    cfg = config()
    cfg["design"] = ["batch"]
    with pytest.raises(InputError, match="design covariate 'batch' is not a column of the sample sheet"):
        parse_contrasts(cfg, read_sample_sheet(path), path)
