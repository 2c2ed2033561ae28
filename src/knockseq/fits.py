"""Which contrasts share one DESeq2 fit.

A screen (ten siRNAs against one non-targeting control, ``design: [batch]``) asks ten questions
of one model: ``~ batch + sirna_target`` on the same samples. R answers them with one
``DESeq(dds)`` and one ``results(dds, contrast=)`` per question; :mod:`knockseq.de` does the same
with :func:`~knockseq.de.fit_design` and :func:`~knockseq.de.contrast_results`, and this module
decides which contrasts can share a fit.

Contrasts share a fit when their :class:`FitSpec` is equal: the same samples (after ``where``),
tested variable, reference level (the fitted baseline, so each contrast's coefficient is its own
log fold change and the apeGLM-shrunk coefficient is the contrast), covariates and fit options
(``min_count``, ``compat``, ``cooks``). The test level is not part of it, nor are ``alpha`` and
``shrink``, which act after the fit. The fit id (:attr:`FitSpec.fit_id`) is computed from the
spec alone, so it does not change when a contrast joins or leaves the group: adding a contrast
to a screen reuses the fit already on disk.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any

import pandas as pd

from knockseq.config import parse_contrasts
from knockseq.design import subset_samples

#: Characters kept from level names in a fit id; the hash tells ids apart, this keeps them readable.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


@dataclass(frozen=True)
class FitSpec:
    """What one DESeq2 fit depends on, besides the counts.

    Attributes
    ----------
    variable : str
        Tested sheet column.
    reference : str
        Its baseline level.
    samples : tuple of str
        Samples fitted, in sheet order.
    covariates : tuple of str
        Covariate columns as configured, without the tested variable; covariates with a single
        level among ``samples`` are dropped by :func:`knockseq.design.build_design` at fit time.
    min_count : int
        Pre-filter threshold (``de.min_count``).
    compat : str
        Statistical rules (``de.compat``).
    engine : str
        GLM implementation (``de.engine``).
    cooks : bool
        Cook's outlier replacement and filtering (``de.cooks``).
    """

    variable: str
    reference: str
    samples: tuple[str, ...]
    covariates: tuple[str, ...]
    min_count: int
    compat: str
    engine: str
    cooks: bool

    @property
    def fit_id(self) -> str:
        """``<variable>-<reference>-<first 8 hex digits of the spec's sha256>``, a file name."""
        key = json.dumps(self.as_dict(), sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        return f"{_UNSAFE.sub('_', self.variable)}-{_UNSAFE.sub('_', self.reference)}-{digest}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists for tuples), e.g. a Snakemake rule's params."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> FitSpec:
        """The spec back from :meth:`as_dict`."""
        return cls(
            variable=str(spec["variable"]),
            reference=str(spec["reference"]),
            samples=tuple(str(s) for s in spec["samples"]),
            covariates=tuple(str(c) for c in spec["covariates"]),
            min_count=int(spec["min_count"]),
            compat=str(spec["compat"]),
            engine=str(spec["engine"]),
            cooks=bool(spec["cooks"]),
        )


def fit_spec(
    contrast: Mapping[str, Any],
    samples: pd.DataFrame,
    design: Sequence[str],
    de: Mapping[str, Any],
    *,
    sheet_path: str | PathLike | None = None,
) -> FitSpec:
    """The fit a contrast needs.

    Parameters
    ----------
    contrast : mapping
        ``name``, ``variable``, ``test``, ``reference``, optional
        ``where``, as :func:`knockseq.design.build_design` takes it.
    samples : pandas.DataFrame
        The sample sheet.
    design : sequence of str
        Covariate columns (``design:`` in the config).
    de : mapping
        At least ``min_count``, ``compat``, ``engine`` and ``cooks`` (the config's ``de:`` section).
    sheet_path : str or PathLike, optional
        Sample sheet path, named in error messages.

    Returns
    -------
    FitSpec

    Raises
    ------
    InputError
        A ``where`` filter on a missing column or value.
    """
    name = str(contrast.get("name", "contrast"))
    variable = str(contrast["variable"])
    used = subset_samples(samples, contrast.get("where") or {}, name=name, sheet_path=sheet_path)
    return FitSpec(
        variable=variable,
        reference=str(contrast["reference"]),
        samples=tuple(used.index),
        covariates=tuple(dict.fromkeys(c for c in design if c != variable)),
        min_count=int(de["min_count"]),
        compat=str(de["compat"]),
        engine=str(de["engine"]),
        cooks=bool(de["cooks"]),
    )


def fit_groups(
    contrasts: Iterable[Mapping[str, Any]],
    samples: pd.DataFrame,
    design: Sequence[str],
    de: Mapping[str, Any],
    *,
    sheet_path: str | PathLike | None = None,
) -> dict[str, list[str]]:
    """Group contrasts by the fit they need.

    Parameters
    ----------
    contrasts : iterable of mapping
        Contrasts as :func:`fit_spec` takes them (e.g. ``Contrast.as_dict()``).
    samples, design, de, sheet_path
        As in :func:`fit_spec`.

    Returns
    -------
    dict
        Fit id -> names of the contrasts it serves, both in the order contrasts are given.
    """
    groups: dict[str, list[str]] = {}
    for contrast in contrasts:
        fit_id = fit_spec(contrast, samples, design, de, sheet_path=sheet_path).fit_id
        groups.setdefault(fit_id, []).append(str(contrast["name"]))
    return groups


def configured_fit_groups(
    config: Mapping[str, Any], samples: pd.DataFrame, sheet_path: str | PathLike
) -> dict[str, list[str]]:
    """:func:`fit_groups` of every contrast of a validated configuration.

    The fit job names them in its log line from this rather than from its params, so that
    adding a contrast to a group does not refit it.

    Parameters
    ----------
    config : mapping
        Configuration after schema validation (defaults filled).
    samples : pandas.DataFrame
        The sample sheet.
    sheet_path : str or PathLike
        Its path, named in error messages.

    Returns
    -------
    dict
        Fit id -> contrast names, in config order.
    """
    contrasts = [c.as_dict() for c in parse_contrasts(dict(config), samples, sheet_path)]
    return fit_groups(contrasts, samples, config["design"], config["de"], sheet_path=sheet_path)
