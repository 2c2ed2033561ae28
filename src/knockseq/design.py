"""The model design of one contrast, built from the sample sheet and checked before fitting.

The design is given as sheet column names only (``design: [batch]``), never as a formula: every
name is checked to be a plain identifier and an existing column. The design matrix is built and
checked here from the column values; PyDESeq2 gets a formula assembled only from those checked
names, each quoted in backticks (:attr:`Design.formula`), and :mod:`knockseq.de` verifies that
the matrix PyDESeq2 builds from it equals the checked one. Nothing the user writes is evaluated.

Every factor, the tested variable and each covariate, is categorical with treatment coding. The
tested variable's reference level is the contrast's ``reference``, so the fitted coefficient of
the ``test`` level *is* the contrast (log2 test / reference): the Wald test and the apeGLM
shrinkage (which shrinks one coefficient) then answer the question asked, whatever the level
names sort to. Covariate baselines are their alphabetically first level, which only
reparametrises the nuisance part of the model. Numeric-looking covariates (``batch: 1, 2, 3``)
are factors too: continuous covariates are not supported.

Checks, each an :class:`~knockseq.errors.InputError` naming the column or level and the fix:
unknown or malformed column names; a ``where`` filter on a missing column or value; a test or
reference level without samples (after ``where``); fewer than 2 samples in a level of the tested
variable; a covariate fully confounded with the tested variable; a design matrix that is not full
rank; no residual degrees of freedom. A covariate with a single level among the samples used
(typically after ``where``, e.g. ``design: [cell_line]`` with ``where: {cell_line: MCF7}``) carries
no information and is dropped with a :class:`UserWarning` and a note in :attr:`Design.notes`,
because the design is still valid and the user's intent (adjust for it where it varies) is met.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from knockseq.errors import InputError, closest

#: A column name usable in the design: the config schema's pattern.
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: Fewest samples a level of the tested variable must have: with one sample, the level's mean
#: is fitted exactly and contributes nothing to dispersion estimation, and its fold change has
#: no replicate-based error estimate.
MIN_REPLICATES = 2


@dataclass
class Design:
    """Design of one contrast: the samples used, their factors and the design matrix.

    Attributes
    ----------
    samples : list of str
        Samples used, in sheet order (n_samples).
    metadata : pandas.DataFrame
        n_samples x (covariates + variable), indexed by sample; categorical columns whose first
        category is the baseline (the contrast's reference for ``variable``).
    matrix : pandas.DataFrame
        n_samples x n_coefficients float design matrix: ``Intercept``, then ``"<column>[T.<level>]"``
        per non-baseline level, covariates first, the tested variable last.
    variable, test, reference : str
        The tested column and the levels compared (log2 test / reference).
    covariates : list of str
        Covariate columns in the model (single-level ones removed).
    dropped : list of str
        Covariate columns dropped because they had a single level.
    formula : str
        Formula equivalent to :attr:`matrix`, from checked column names in backticks
        (``"~ `batch` + `condition`"``), as passed to PyDESeq2.
    coefficient : str
        Column of :attr:`matrix` whose coefficient is the contrast.
    notes : list of str
        What was changed and why (dropped covariates, duplicated names).
    """

    samples: list[str]
    metadata: pd.DataFrame
    matrix: pd.DataFrame
    variable: str
    test: str
    reference: str
    covariates: list[str]
    dropped: list[str]
    formula: str
    coefficient: str
    notes: list[str] = field(default_factory=list)

    def group_sizes(self) -> pd.Series:
        """Number of samples per level of the tested variable, indexed by level."""
        return self.metadata[self.variable].value_counts(sort=False)

    def compared(self) -> list[str]:
        """Samples (n_compared) of the test and reference levels, in sheet order: the contrast's
        own samples (a fit shared by a screen's contrasts holds every siRNA's)."""
        levels = self.metadata[self.variable].astype(str)
        return [s for s in self.samples if levels[s] in (self.test, self.reference)]


def build_design(
    samples: pd.DataFrame,
    contrast: Mapping[str, Any],
    covariates: Sequence[str] = (),
    *,
    sheet_path: str | PathLike | None = None,
) -> Design:
    """Build and check the design of one contrast.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet: a ``sample`` column (or index named ``sample``) and one column per
        sample attribute. Values are compared as strings.
    contrast : mapping
        ``name``, ``variable``, ``test``, ``reference`` and optional ``where``
        (``{column: value or [values]}``, keep samples matching every entry; absent or empty
        keeps every sample), as :meth:`knockseq.config.Contrast.as_dict` gives them.
    covariates : sequence of str
        Sheet columns to adjust for (``design:`` in the config). The tested variable, if listed,
        is ignored with a note.
    sheet_path : str or PathLike, optional
        The sample sheet's path, named in error messages.

    Returns
    -------
    Design

    Raises
    ------
    InputError
        For any of the problems listed in the module docstring.
    """
    name = contrast.get("name", "contrast")
    variable = contrast["variable"]
    test, reference = str(contrast["test"]), str(contrast["reference"])
    sheet = _sheet(samples)
    key = f"contrasts.{name}"

    _check_column(sheet, variable, f"{key}.variable", sheet_path)
    notes: list[str] = []
    covs: list[str] = []
    for cov in covariates:
        _check_column(sheet, cov, "design", sheet_path)
        if cov == variable:
            notes.append(f"'{cov}' is the tested variable; it is in the model once, last.")
        elif cov not in covs:
            covs.append(cov)
    if test == reference:
        raise InputError(
            f"contrast '{name}': test and reference are both '{test}'.",
            column=f"{key}.test",
            fix=f"set test and reference to two different levels of '{variable}'.",
        )

    used = subset_samples(sheet, contrast.get("where") or {}, name=name, sheet_path=sheet_path)
    factors = used[covs + [variable]]
    _check_complete(factors, sheet_path)

    groups = factors[variable].value_counts(sort=False)
    subset_note = " after the where filter" if contrast.get("where") else ""
    for role, level in (("test", test), ("reference", reference)):
        if level not in groups.index:
            raise InputError(
                f"contrast '{name}': the {role} level '{level}' of '{variable}' has no samples"
                f"{subset_note} (levels present: {_listing(sorted(groups.index))}).",
                path=sheet_path,
                column=variable,
                fix=(
                    f"set {key}.{role} to '{close}'"
                    if (close := closest(level, groups.index, typos=False))
                    else f"set {key}.{role} to a level present in column '{variable}'"
                )
                + (", or widen the where filter." if subset_note else "."),
            )
    for level, n in groups.items():
        if n < MIN_REPLICATES:
            who = ", ".join(factors.index[factors[variable] == level])
            raise InputError(
                f"contrast '{name}': level '{level}' of '{variable}' has {n} sample ({who}){subset_note}; "
                f"DESeq2 needs at least {MIN_REPLICATES} replicates per group to estimate dispersions.",
                path=sheet_path,
                column=variable,
                fix="add replicates of this group, or leave it out with a where filter.",
            )

    dropped = [c for c in covs if factors[c].nunique() == 1]
    for cov in dropped:
        note = (
            f"covariate '{cov}' has a single level ('{factors[cov].iloc[0]}') in the samples of "
            f"contrast '{name}' and was dropped from the design: it cannot explain any variation."
        )
        notes.append(note)
        warnings.warn(note, UserWarning, stacklevel=2)
    covs = [c for c in covs if c not in dropped]
    for cov in covs:
        _check_not_confounded(factors, cov, variable, sheet_path)

    levels = {c: sorted(factors[c].unique()) for c in covs}
    levels[variable] = [reference] + sorted(set(factors[variable]) - {reference})
    metadata = pd.DataFrame(
        {c: pd.Categorical(factors[c], categories=levels[c]) for c in covs + [variable]},
        index=factors.index,
    )
    matrix = design_matrix(metadata)
    _check_rank(matrix, "~ " + " + ".join(covs + [variable]), sheet_path)
    return Design(
        samples=list(metadata.index),
        metadata=metadata,
        matrix=matrix,
        variable=variable,
        test=test,
        reference=reference,
        covariates=covs,
        dropped=dropped,
        formula=model_formula(covs + [variable]),
        coefficient=f"{variable}[T.{test}]",
        notes=notes,
    )


def sample_design(
    samples: pd.DataFrame, columns: Sequence[str], *, sheet_path: str | PathLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Design over every sample of the sheet, without a contrast (for the design-aware VST).

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet.
    columns : sequence of str
        Factor columns; levels in sorted order, the first as baseline (which does not change
        fitted values).
    sheet_path : str or PathLike, optional
        Sample sheet path, for error messages.

    Returns
    -------
    metadata : pandas.DataFrame
        n_samples x n_columns, categorical.
    matrix : pandas.DataFrame
        n_samples x n_coefficients, see :func:`design_matrix`.
    formula : str
        See :func:`model_formula`.

    Raises
    ------
    InputError
        Unknown or malformed column, missing value, matrix not full rank.
    """
    sheet = _sheet(samples)
    columns = list(dict.fromkeys(columns))
    for column in columns:
        _check_column(sheet, column, "design", sheet_path)
    _check_complete(sheet[columns], sheet_path)
    metadata = pd.DataFrame(
        {c: pd.Categorical(sheet[c], categories=sorted(sheet[c].unique())) for c in columns},
        index=sheet.index,
    )
    matrix = design_matrix(metadata)
    _check_rank(matrix, "~ " + " + ".join(columns or ["1"]), sheet_path)
    return metadata, matrix, model_formula(columns)


def model_formula(columns: Sequence[str]) -> str:
    """Formula ``"~ `a` + `b`"`` (``"~ 1"`` for none) from already checked column names.

    The backticks make formulaic read each name as a column even when it is a Python keyword
    or the name of one of its transforms (``C``, ``log``).
    """
    return "~ " + (" + ".join(f"`{c}`" for c in columns) if columns else "1")


def design_matrix(metadata: pd.DataFrame) -> pd.DataFrame:
    """Treatment-coded design matrix of categorical factors.

    Parameters
    ----------
    metadata : pandas.DataFrame
        n_samples x n_factors, categorical columns; each column's first category is its
        baseline.

    Returns
    -------
    pandas.DataFrame
        n_samples x (1 + sum of (n_levels - 1)) floats: ``Intercept`` then one indicator
        column ``"<factor>[T.<level>]"`` per non-baseline level, factors in column order.
    """
    columns = {"Intercept": np.ones(len(metadata))}
    for factor in metadata.columns:
        values = metadata[factor]
        for level in values.cat.categories[1:]:
            columns[f"{factor}[T.{level}]"] = (values == level).to_numpy(dtype=float)
    return pd.DataFrame(columns, index=metadata.index)


def subset_samples(
    samples: pd.DataFrame,
    where: Mapping[str, Any],
    *,
    name: str = "contrast",
    sheet_path: str | PathLike | None = None,
) -> pd.DataFrame:
    """Rows of the sample sheet kept by a contrast's ``where`` filter.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet (``sample`` column or index).
    where : mapping
        ``{column: value or list of values}``; a sample is kept when it matches every entry.
        Values are compared as strings (``1`` matches a sheet value ``1``).
    name : str
        Contrast name, for error messages.
    sheet_path : str or PathLike, optional
        Sample sheet path, for error messages.

    Returns
    -------
    pandas.DataFrame
        The kept rows, indexed by sample, all values as strings, in sheet order.

    Raises
    ------
    InputError
        If a column is not in the sheet, or a value matches no sample.
    """
    sheet = _sheet(samples)
    keep = pd.Series(True, index=sheet.index)
    for column, wanted in where.items():
        _check_column(sheet, column, f"contrasts.{name}.where", sheet_path)
        values = [str(v) for v in (wanted if isinstance(wanted, (list, tuple)) else [wanted])]
        present = set(sheet[column])
        for value in values:
            if value not in present:
                raise InputError(
                    f"contrast '{name}': where filter {column} = '{value}' matches no sample "
                    f"(values present: {_listing(sorted(present))}).",
                    path=sheet_path,
                    column=column,
                    fix=f"use a value of column '{column}' in contrasts.{name}.where.",
                )
        keep &= sheet[column].isin(values)
    return sheet[keep]


def _sheet(samples: pd.DataFrame) -> pd.DataFrame:
    """The sheet indexed by sample, values as strings (missing stay missing)."""
    sheet = samples.set_index("sample") if "sample" in samples.columns else samples
    return sheet.apply(lambda col: col.map(lambda v: v if pd.isna(v) else str(v)))


def _check_column(sheet: pd.DataFrame, column: str, key: str, path: str | PathLike | None) -> None:
    """Raise unless ``column`` is a plain identifier naming a sheet column."""
    if not isinstance(column, str) or not IDENTIFIER.match(column):
        raise InputError(
            f"'{column}' in {key} is not a plain column name.",
            column=key,
            fix="give sheet column names only (a letter, then letters, digits or _), not formulas or expressions.",
        )
    if column not in sheet.columns:
        raise InputError(
            f"{key} names column '{column}', which the sample sheet does not have "
            f"(columns: {_listing(list(sheet.columns))}).",
            path=path,
            column=column,
            fix=f"add a '{column}' column to the sample sheet, or correct the name in {key}.",
        )


def _check_complete(factors: pd.DataFrame, path: str | PathLike | None) -> None:
    """Raise if a sample has no value in a design column."""
    for column in factors.columns:
        missing = factors.index[factors[column].isna() | (factors[column] == "")]
        if len(missing):
            raise InputError(
                f"sample '{missing[0]}' has no value in design column '{column}'.",
                path=path,
                row=missing[0],
                column=column,
                fix="fill in the value, or leave the sample out with a where filter.",
            )


def _check_not_confounded(factors: pd.DataFrame, covariate: str, variable: str, path: str | PathLike | None) -> None:
    """Raise if every level of ``covariate`` holds samples of one level of ``variable`` only.

    The tested effect is then a sum of covariate effects, so no data can separate the two.
    """
    per_level = factors.groupby(covariate, sort=True)[variable].unique()
    if (per_level.map(len) == 1).all():
        mapping = "; ".join(f"{lvl}: {vals[0]}" for lvl, vals in per_level.items())
        raise InputError(
            f"covariate '{covariate}' is fully confounded with '{variable}': each level of "
            f"'{covariate}' holds samples of a single '{variable}' level ({mapping}), so the "
            f"'{variable}' effect cannot be separated from '{covariate}'.",
            path=path,
            column=covariate,
            fix=f"add samples that put both '{variable}' groups in one '{covariate}' level, or "
            f"remove '{covariate}' from the config's design list, knowing that the comparison is "
            f"then not adjusted for it and a '{covariate}' effect can pass for a '{variable}' effect.",
        )


def _check_rank(matrix: pd.DataFrame, formula: str, path: str | PathLike | None) -> None:
    """Raise if the design matrix is not full column rank or leaves no residual freedom."""
    values = matrix.to_numpy()
    rank = np.linalg.matrix_rank(values)
    if rank < values.shape[1]:
        # The first column that adds no rank is a combination of the ones before it.
        first = next(j for j in range(1, values.shape[1] + 1) if np.linalg.matrix_rank(values[:, :j]) < j)
        culprit = matrix.columns[first - 1]
        raise InputError(
            f"the design {formula} is not full rank (rank {rank} of {values.shape[1]} "
            f"coefficients): coefficient '{culprit}' is a linear combination of the ones "
            "before it, so the model cannot be fitted.",
            path=path,
            column=culprit.split("[", 1)[0],
            fix="remove one of the design columns that describe the same grouping of samples.",
        )
    if values.shape[0] <= values.shape[1]:
        raise InputError(
            f"the design {formula} has {values.shape[1]} coefficients for {values.shape[0]} "
            "samples: no residual degrees of freedom are left to estimate dispersions.",
            path=path,
            fix="remove covariates from the config's design list, or add samples.",
        )


def _listing(values: Sequence[Any], limit: int = 10) -> str:
    """Comma list of at most ``limit`` values, quoted, with a count of the rest."""
    shown = ", ".join(f"'{v}'" for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
