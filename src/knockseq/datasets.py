"""One run over one dataset or several: each dataset's settings, sheet, contrasts and fits.

A config without ``datasets:`` is one unnamed dataset, written to ``results/...`` as always. With
``datasets:`` each NAME is a dataset written to ``results/NAME/...`` with the same layout inside:
its settings are the run-wide ones (every top-level option) with the dataset's own over them,
sections such as ``de:`` merged option by option, so ``de: {shrink: false}`` in one dataset changes
only that option there. ``compare:`` names groups of ``dataset/contrast`` that ask the same
question; the run-wide summary pools them (:mod:`knockseq.compare`).

Everything here runs when the Snakefile is parsed, so a mistake in any dataset stops the run
before a job starts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from knockseq.config import Contrast, parse_contrasts, read_sample_sheet
from knockseq.errors import InputError, raise_all
from knockseq.fits import fit_groups, fit_spec
from knockseq.schema import check_paths, check_schema

#: Options of the run as a whole, never of one dataset.
RUN_ONLY = ("datasets", "compare", "gene_sets_cache", "resources")
#: Options of one dataset, never run-wide defaults when ``datasets:`` is set.
DATASET_ONLY = ("samples", "counts", "contrasts")
#: Sections a dataset merges option by option over the run-wide ones.
MERGED = ("knockdown", "de", "gsea", "ora", "verdict", "plots")
#: Folders of ``results/`` that belong to the run, so no dataset may take their name.
RESERVED = ("summary",)


@dataclass
class Dataset:
    """One dataset of a run, checked.

    Attributes
    ----------
    name : str
        Its name, ``""`` for a run without ``datasets:``.
    config : dict
        Its settings: a complete single-dataset configuration (defaults filled).
    samples : pandas.DataFrame
        Its sample sheet (n_samples rows).
    contrasts : dict of str to Contrast
        Its contrasts by name, in config order.
    fits : dict of str to list of str
        Fit id -> names of the contrasts sharing that fit.
    """

    name: str
    config: dict[str, Any]
    samples: pd.DataFrame
    contrasts: dict[str, Contrast]
    fits: dict[str, list[str]]

    @property
    def results(self) -> str:
        """Its results folder, with a trailing slash: ``results/`` or ``results/NAME/``."""
        return f"results/{self.name}/" if self.name else "results/"

    @property
    def logs(self) -> str:
        """Its log folder, with a trailing slash: ``logs/`` or ``logs/NAME/``."""
        return f"logs/{self.name}/" if self.name else "logs/"

    def fit_of(self, contrast: str) -> str:
        """The fit id of one of its contrasts."""
        return next(fit for fit, names in self.fits.items() if contrast in names)

    def fit_params(self, fit: str) -> dict[str, Any]:
        """What fit ``fit`` depends on (the spec of its first contrast; the same for all)."""
        first = self.contrasts[self.fits[fit][0]].as_dict()
        return fit_spec(first, self.samples, self.config["design"], self.config["de"]).as_dict()


def dataset_settings(config: dict[str, Any], schema: str, *, source: str = "the config") -> dict[str, dict[str, Any]]:
    """Every dataset's complete settings, checked against the schema.

    Parameters
    ----------
    config : dict
        The configuration, already checked by :func:`knockseq.schema.check_schema` (defaults
        filled); each dataset's block is replaced by its complete settings.
    schema : str
        ``workflow/schemas/config.schema.yaml``.
    source : str
        Where the config came from, named in messages.

    Returns
    -------
    dict
        Dataset name -> its settings, a single-dataset configuration: ``{"": config}`` without
        ``datasets:``.

    Raises
    ------
    InputError
        Without ``datasets:``: ``samples`` or ``contrasts`` missing. With it: a run-only option
        inside a dataset, a dataset-only option at the top level, a reserved dataset name, or a
        dataset's settings that break the schema (its key named ``datasets.NAME.KEY``).
    """
    if "datasets" not in config:
        for key in ("samples", "contrasts"):
            if key not in config:
                raise InputError(
                    f"`{key}` is missing.",
                    path=source,
                    fix=f"add `{key}:`, or list the run's datasets under `datasets:`.",
                )
        return {"": config}
    top = [key for key in DATASET_ONLY if key in config and config[key] is not None]
    if top:
        raise InputError(
            f"`{top[0]}` is set at the top level, and `datasets:` is set too.",
            path=source,
            fix=f"move `{top[0]}:` into each dataset under `datasets:` (each dataset has its own).",
        )
    for name, block in config["datasets"].items():
        if name in RESERVED:
            raise InputError(
                f"dataset name {name!r} is taken by the run's own results/{name}/ folder.",
                path=source,
                fix="rename the dataset.",
            )
        # In place, as the schema fills defaults: every job then reads a dataset's complete
        # settings from the run's config (dataset_config).
        config["datasets"][name] = _merged(config, block, name, schema, source)
    return dict(config["datasets"])


def dataset_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One dataset's complete settings inside a job (:func:`dataset_settings` filled them in).

    The fit job needs them to name the contrasts a fit serves without making them its parameters.
    """
    return config["datasets"][name] if name else config


def load_datasets(config: dict[str, Any], schema: str, *, source: str = "the config") -> dict[str, Dataset]:
    """Every dataset of the run with its sheet, contrasts and fits, checked.

    Parameters
    ----------
    config, schema, source
        As for :func:`dataset_settings`.

    Returns
    -------
    dict
        Dataset name -> :class:`Dataset`, in config order (``""`` for a run without datasets).

    Raises
    ------
    InputError
        Any problem of :func:`dataset_settings`, of a dataset's input paths, sheet or contrasts
        (the message names the dataset), or a ``compare:`` member that does not exist.
    """
    datasets = {}
    problems: list[InputError] = []
    for name, settings in dataset_settings(config, schema, source=source).items():
        found: list[InputError] = []
        # Independent checks all run; a sheet that cannot be read leaves nothing to check contrasts on.
        try:
            check_paths(settings, source)
        except InputError as error:
            found.append(error)
        try:
            sheet = read_sample_sheet(settings["samples"], counts_table=settings["counts"] is not None)
            contrasts = {c.name: c for c in parse_contrasts(settings, sheet, settings["samples"])}
            fits = fit_groups(
                [c.as_dict() for c in contrasts.values()],
                sheet,
                settings["design"],
                settings["de"],
                sheet_path=settings["samples"],
            )
        except InputError as error:
            found.append(error)
        for single in [single for error in found for single in getattr(error, "errors", [error])]:
            if name:
                single.message = f"dataset '{name}': {single.message}"
            problems.append(single)
        if not found:
            datasets[name] = Dataset(name, settings, sheet, contrasts, fits)
    raise_all(problems)
    compare_groups(config.get("compare") or {}, datasets, source)
    return datasets


def compare_groups(
    compare: Mapping[str, list[str]], datasets: Mapping[str, Dataset], source: str = "the config"
) -> dict[str, list[tuple[str, str]]]:
    """The ``compare:`` groups as (dataset, contrast) pairs, each member checked to exist.

    Raises
    ------
    InputError
        ``compare:`` without ``datasets:``, or a member naming an unknown dataset or contrast
        (with the names there are).
    """
    if compare and "" in datasets:
        raise InputError(
            "`compare:` is set without `datasets:`.",
            path=source,
            fix="list the run's datasets under `datasets:`, or remove `compare:`.",
        )
    groups = {}
    for group, members in compare.items():
        pairs = []
        for member in members:
            key = f"compare.{group}"
            # The schema checked the DATASET/CONTRAST form and that no member is listed twice.
            dataset, contrast = member.split("/")
            if dataset not in datasets:
                raise InputError(
                    f"`{key}` lists {member!r}, but there is no dataset {dataset!r}.",
                    path=source,
                    fix=f"use one of the datasets: {', '.join(datasets)}.",
                )
            if contrast not in datasets[dataset].contrasts:
                raise InputError(
                    f"`{key}` lists {member!r}, but dataset {dataset!r} has no contrast {contrast!r}.",
                    path=source,
                    fix=f"use one of its contrasts: {', '.join(datasets[dataset].contrasts)}.",
                )
            pairs.append((dataset, contrast))
        groups[group] = pairs
    return groups


def _merged(config: dict[str, Any], block: dict[str, Any], name: str, schema: str, source: str) -> dict[str, Any]:
    """A dataset's settings, checked against the schema (keys named ``datasets.NAME.KEY``)."""
    for key in RUN_ONLY:
        if key in block:
            raise InputError(
                f"`datasets.{name}.{key}` is an option of the whole run.",
                path=source,
                fix=f"set `{key}:` at the top level of the config, outside `datasets:`.",
            )
    return check_schema(_overlay(config, block), schema, source=source, prefix=f"datasets.{name}.")


def _overlay(config: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """The run-wide options (the run's own gene-set cache and cluster resources included), the
    dataset's block over them."""
    settings = {k: copy.deepcopy(v) for k, v in config.items() if k not in ("datasets", "compare")}
    for key, value in block.items():
        if key in MERGED and isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **copy.deepcopy(value)}
        else:
            settings[key] = copy.deepcopy(value)
    return settings
