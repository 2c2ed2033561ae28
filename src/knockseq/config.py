"""Run settings: the sample sheet and the cross-field checks of the configuration.

The JSON schemas in ``workflow/schemas/`` check each field on its own (types, enums, defaults;
for the config through :func:`knockseq.schema.check_schema`);
this module checks what a schema cannot: that the sheet is readable and consistent, that every
contrast, covariate and ``where`` filter refers to columns and levels that exist (through
:func:`knockseq.design.build_design`, where those checks live), and that the knockdown thresholds
are ordered. All of it runs when the Snakefile is parsed, so a mistake stops the run before any
rule starts.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from knockseq.design import build_design
from knockseq.errors import InputError, raise_all
from knockseq.readers.matrix import EXCEL_SEP_LINE
from knockseq.schema import check_schema

#: Columns every sample sheet has.
REQUIRED_COLUMNS = ("sample", "condition")
#: Sample names become column names in every output, so they are kept to a safe alphabet.
SAMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Contrast:
    """One comparison: ``test`` vs ``reference`` levels of ``variable`` within ``where``.

    Attributes
    ----------
    name : str
        Contrast name, used in every output path (``results/de/{name}.tsv``).
    variable : str
        Sample-sheet column tested.
    test : str
        Numerator level: log2FoldChange > 0 means higher in ``test``.
    reference : str
        Denominator level.
    where : dict
        ``{column: [values]}`` restricting the samples used; empty means all samples.
    targets : tuple of str
        Genes the perturbation targets (the contrast's own ``targets``, else the run-wide
        ``knockdown.targets``); empty for a treatment, whose knockdown is "not assessed".
    """

    name: str
    variable: str
    test: str
    reference: str
    where: dict[str, list[str]]
    targets: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form, as passed to the DE step and written to outputs."""
        return {
            "name": self.name,
            "variable": self.variable,
            "test": self.test,
            "reference": self.reference,
            "where": {k: list(v) for k, v in self.where.items()},
            "targets": list(self.targets),
        }


def config_defaults(schema: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """Every option's default, as the config schema fills them in.

    For callers outside the workflow (tests, notebooks) that need the values a run would use,
    without restating them: the schema is their only home.

    Parameters
    ----------
    schema : str or PathLike
        ``workflow/schemas/config.schema.yaml``.
    **options
        Top-level options to set before validation, e.g. ``gene_sets=[{"msigdb": "h",
        "version": "2024.1.Hs"}]``: their own nested defaults are filled in too.

    Returns
    -------
    dict
        A validated configuration with every defaulted section filled; ``samples`` is empty
        and ``contrasts`` holds one placeholder contrast ``example`` (test ``b`` vs ``a``) unless
        ``options`` set them.
    """
    config: dict[str, Any] = {"samples": "", "contrasts": {"example": {"test": "b", "reference": "a"}}, **options}
    return check_schema(config, schema)


def read_sample_sheet(path: str | os.PathLike, *, counts_table: bool = False) -> pd.DataFrame:
    """Read and check a sample sheet.

    Parameters
    ----------
    path : str or PathLike
        Tab-separated sheet with a header line. A comma-separated one (a header without tabs)
        and Excel's ``sep=X`` first line are read too; a byte-order mark, Windows line endings
        and spaces around fields are ignored.
    counts_table : bool
        True when the config names one ``counts`` table, so no ``quant`` column is needed;
        otherwise every ``quant`` path must exist (relative to the working directory, the
        folder Snakemake runs in).

    Returns
    -------
    pandas.DataFrame
        One row per sample (n_samples x n_columns), every cell a string, in file order.

    Raises
    ------
    InputError
        Missing or empty file, a row with more fields than the header, a required column
        missing, an empty required cell, a badly formed or duplicated sample name, a ``quant``
        path that does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "sample sheet not found.", path=path, fix="set `samples:` in the config to an existing TSV file."
        )
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0].strip()
    excel = EXCEL_SEP_LINE.match(first)
    skip = 1 if excel else 0
    sep = excel.group(1) if excel else "," if "\t" not in first and "," in first else "\t"
    try:
        sheet = pd.read_csv(io.StringIO(text), sep=sep, skiprows=skip, dtype=str, keep_default_na=False, comment=None)
    except pd.errors.EmptyDataError:
        raise InputError(
            "the sample sheet is empty.", path=path, fix="add a header line and one row per sample."
        ) from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if not found:
            raise InputError(f"cannot be read as a table ({error}).", path=path) from None
        expected, line, saw = map(int, found.groups())
        raise InputError(
            f"has {saw} fields where the header has {expected}.",
            path=path,
            row=line + skip,
            fix="remove the extra fields, or name their column in the header.",
        ) from None
    # pandas renames a repeated header name ("batch", "batch.1"): which one a user meant is unknown.
    header = [name.strip() for name in next(csv.reader([text.splitlines()[skip]], delimiter=sep))]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise InputError(
            f"the header names column {', '.join(map(repr, repeated))} more than once.",
            path=path,
            row=1 + skip,
            column=repeated[0],
            fix="give every column its own name, or remove the copy.",
        )
    sheet.columns = [c.strip() for c in sheet.columns]
    required = list(REQUIRED_COLUMNS) + ([] if counts_table else ["quant"])
    for col in required:
        if col not in sheet.columns:
            fix = (
                "add it (tab-separated header line)."
                if col != "quant"
                else "add a `quant` column with each sample's quantifier output, or set `counts:` in the config."
            )
            raise InputError(
                f"required column missing (columns found: {', '.join(sheet.columns)}).", path=path, column=col, fix=fix
            )
    if sheet.empty:
        raise InputError("the sample sheet has a header but no samples.", path=path, fix="add one row per sample.")
    sheet = sheet.apply(lambda s: s.str.strip())
    for i, row in sheet.iterrows():
        line = i + 2  # header is line 1
        for col in required:
            if row[col] == "":
                raise InputError(
                    "empty value.", path=path, row=line, column=col, fix=f"fill in `{col}` for every sample."
                )
        if not SAMPLE_NAME.match(row["sample"]):
            raise InputError(
                f"sample name '{row['sample']}' has characters other than letters, digits, '.', '_' and '-'.",
                path=path,
                row=line,
                column="sample",
                fix=f"rename the sample, e.g. to '{re.sub(r'[^A-Za-z0-9_.-]+', '_', row['sample']).strip('_.-')}'.",
            )
    dup = sheet["sample"].duplicated(keep="first")
    if dup.any():
        i = int(dup.idxmax())
        first = int(sheet.index[sheet["sample"] == sheet.at[i, "sample"]][0])
        raise InputError(
            f"duplicate sample name '{sheet.at[i, 'sample']}' (first on row {first + 2}).",
            path=path,
            row=i + 2,
            column="sample",
            fix="give every sample a unique name.",
        )
    if not counts_table:
        for i, quant in sheet["quant"].items():
            if not Path(quant).exists():
                raise InputError(
                    f"{quant} does not exist.",
                    path=path,
                    row=i + 2,
                    column="quant",
                    fix="correct the path (relative to the folder snakemake runs in), or check that the quantifier "
                    "finished.",
                )
    return sheet.reset_index(drop=True)


def parse_contrasts(config: dict[str, Any], sheet: pd.DataFrame, sheet_path: str | os.PathLike) -> list[Contrast]:
    """Build the configured contrasts and run every cross-field check of the configuration.

    Each contrast is checked against the sample sheet by :func:`knockseq.design.build_design`,
    the one home of those checks (columns, ``where`` values, levels, replicates, confounding,
    rank), which the DE step runs again on the data it fits; the knockdown thresholds are
    checked against each other here.

    Parameters
    ----------
    config : dict
        Configuration after schema validation (defaults filled).
    sheet : pandas.DataFrame
        Sample sheet from :func:`read_sample_sheet`.
    sheet_path : str or PathLike
        Path of the sheet, for messages.

    Returns
    -------
    list of Contrast
        In config order.

    Raises
    ------
    InputError
        Any problem :func:`knockseq.design.build_design` finds in a contrast or the ``design``
        list, or ``knockdown.effective_max_remaining`` above ``knockdown.weak_max_remaining``;
        every contrast's, together (:class:`~knockseq.errors.InputErrors`).
    """
    problems: list[InputError] = []
    try:
        _check_knockdown_thresholds(config["knockdown"])
    except InputError as error:
        problems.append(error)
    contrasts = []
    for name, spec in config["contrasts"].items():
        where = {
            col: [str(v) for v in (vals if isinstance(vals, list) else [vals])] for col, vals in spec["where"].items()
        }
        # knockdown.targets has no schema default: without it, a contrast without its own
        # targets is a treatment.
        targets = spec["targets"] if "targets" in spec else config["knockdown"].get("targets", [])
        contrast = Contrast(name, spec["variable"], str(spec["test"]), str(spec["reference"]), where, tuple(targets))
        try:
            build_design(sheet, contrast.as_dict(), config["design"], sheet_path=sheet_path)
        except InputError as error:
            problems.append(error)
        contrasts.append(contrast)
    raise_all(problems)
    return contrasts


def _check_knockdown_thresholds(knockdown: dict[str, Any]) -> None:
    """Raise unless ``0 < effective_max_remaining <= weak_max_remaining <= 100``."""
    effective, weak = float(knockdown["effective_max_remaining"]), float(knockdown["weak_max_remaining"])
    if not 0 < effective <= weak <= 100:
        raise InputError(
            f"knockdown thresholds must satisfy 0 < effective_max_remaining ({effective:g}) <= "
            f"weak_max_remaining ({weak:g}) <= 100.",
            column="knockdown.effective_max_remaining",
            fix="set effective_max_remaining at or below weak_max_remaining.",
        )
