"""Run settings: the sample sheet and the cross-field checks of the configuration.

The JSON schemas in ``workflow/schemas/`` check each field on its own (types, enums, defaults);
this module checks what a schema cannot: that the sheet is readable and consistent, and that
every contrast, covariate and ``where`` filter refers to columns and levels that exist. All of it
runs when the Snakefile is parsed, so a mistake stops the run before any rule starts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from knockseq.errors import InputError

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
    """

    name: str
    variable: str
    test: str
    reference: str
    where: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form, as passed to the DE step and written to outputs."""
        return {
            "name": self.name,
            "variable": self.variable,
            "test": self.test,
            "reference": self.reference,
            "where": {k: list(v) for k, v in self.where.items()},
        }


def read_sample_sheet(path: str | os.PathLike, *, counts_table: bool = False) -> pd.DataFrame:
    """Read and check a sample sheet.

    Parameters
    ----------
    path : str or PathLike
        Tab-separated sheet with a header line.
    counts_table : bool
        True when the config names one ``counts`` table, so no ``quant`` column is needed.

    Returns
    -------
    pandas.DataFrame
        One row per sample (n_samples x n_columns), every cell a string, in file order.

    Raises
    ------
    InputError
        Missing or empty file, a required column missing, an empty required cell, a badly formed
        or duplicated sample name.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("sample sheet not found.", path=path, fix="set `samples:` in the config to an existing TSV file.")
    try:
        sheet = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except pd.errors.EmptyDataError:
        raise InputError("the sample sheet is empty.", path=path, fix="add a header line and one row per sample.") from None
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
                raise InputError("empty value.", path=path, row=line, column=col, fix=f"fill in `{col}` for every sample.")
        if not SAMPLE_NAME.match(row["sample"]):
            raise InputError(
                f"sample name '{row['sample']}' has characters other than letters, digits, '.', '_' and '-'.",
                path=path,
                row=line,
                column="sample",
                fix="rename the sample.",
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
    return sheet.reset_index(drop=True)


def parse_contrasts(config: dict[str, Any], sheet: pd.DataFrame, sheet_path: str | os.PathLike) -> list[Contrast]:
    """Build the configured contrasts and check them against the sample sheet.

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
        A contrast names a column or level that the sheet does not have, or ``test`` equals
        ``reference``; a ``design`` covariate is not a sheet column.
    """
    for cov in config.get("design", []):
        if cov not in sheet.columns:
            raise InputError(
                f"design covariate '{cov}' is not a column of the sample sheet (columns: {', '.join(sheet.columns)}).",
                path=sheet_path,
                column=cov,
                fix="add the column to the sheet or remove it from `design:`.",
            )
    contrasts = []
    for name, spec in config["contrasts"].items():
        where = {col: [str(v) for v in (vals if isinstance(vals, list) else [vals])] for col, vals in spec.get("where", {}).items()}
        contrast = Contrast(name, spec.get("variable", "condition"), str(spec["test"]), str(spec["reference"]), where)
        key = f"contrasts.{name}"
        for col, values in where.items():
            if col not in sheet.columns:
                raise InputError(
                    f"`{key}.where` filters on column '{col}', which the sample sheet does not have.",
                    path=sheet_path,
                    column=col,
                    fix=f"use one of: {', '.join(sheet.columns)}.",
                )
            missing = sorted(set(values) - set(sheet[col]))
            if missing:
                raise InputError(
                    f"`{key}.where` asks for {col} = {', '.join(missing)}, which no sample has "
                    f"(values present: {', '.join(sorted(set(sheet[col])))}).",
                    path=sheet_path,
                    column=col,
                    fix="correct the value in the config or the sheet.",
                )
        if contrast.variable not in sheet.columns:
            raise InputError(
                f"`{key}.variable` is '{contrast.variable}', which is not a column of the sample sheet.",
                path=sheet_path,
                column=contrast.variable,
                fix=f"use one of: {', '.join(sheet.columns)}.",
            )
        if contrast.test == contrast.reference:
            raise InputError(
                f"`{key}` compares '{contrast.test}' with itself.", column=contrast.variable, fix="set different `test` and `reference` levels."
            )
        subset = select_samples(sheet, contrast)
        present = set(subset[contrast.variable])
        for role in ("test", "reference"):
            level = getattr(contrast, role)
            if level not in present:
                scope = " within its `where` subset" if where else ""
                raise InputError(
                    f"`{key}.{role}` is '{level}', but no sample has {contrast.variable} = '{level}'{scope} "
                    f"(levels present: {', '.join(sorted(present))}).",
                    path=sheet_path,
                    column=contrast.variable,
                    fix="correct the level in the config or the sheet.",
                )
        contrasts.append(contrast)
    return contrasts


def select_samples(sheet: pd.DataFrame, contrast: Contrast) -> pd.DataFrame:
    """Rows of ``sheet`` in the contrast's ``where`` subset.

    Samples of other levels of the tested variable stay in: like R's DESeq2, they inform the
    dispersion estimates even though the contrast compares two levels only.

    Returns
    -------
    pandas.DataFrame
        A copy of the selected rows (n_selected x n_columns), in sheet order.
    """
    keep = pd.Series(True, index=sheet.index)
    for col, values in contrast.where.items():
        keep &= sheet[col].isin(values)
    return sheet.loc[keep].copy()
