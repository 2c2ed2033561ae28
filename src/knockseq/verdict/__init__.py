"""The verdict: are estrogen-receptor (ER) target genes suppressed in this contrast?

Two independent readouts must agree before knockseq says ``suppressed`` or ``activated``:

- the **genome-wide signature**: MSigDB's HALLMARK_ESTROGEN_RESPONSE_EARLY and _LATE (200 genes
  each), tested by preranked GSEA with an FDR over the hallmark collection;
- the **direct ER targets**: the bundled ER core set (``data/er_core.md``, genes whose induction
  was traced to ERalpha itself), tested with CAMERA's mean and rank tests
  (:mod:`knockseq.verdict.direct`), adjusted across the run's contrasts.

A broad change in growth or secretion shifts the 200-gene hallmark sets without touching ER's
direct targets; requiring both is what makes the call specific. Before either is read the
contrast must be able to answer: an ER set testable, the ER program expressed, both readouts
present; and ``unchanged`` needs an interval narrow enough to exclude a real change. The rule is
:data:`knockseq.verdict.rule.RULE`; :func:`decide` gathers the evidence and writes it beside the
call, with the words of :mod:`knockseq.verdict.text`.

Modules: :mod:`~knockseq.verdict.rule` (the decision), :mod:`~knockseq.verdict.direct` (the
``direct_targets`` step), :mod:`~knockseq.verdict.evidence` (hallmark sets, ESR1, knockdown),
:mod:`~knockseq.verdict.text` (sentences).
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import pandas as pd

from knockseq.io import read_json, read_table, write_json
from knockseq.verdict.direct import ESR1, adjust_across_contrasts, direct_target_evidence, er_program
from knockseq.verdict.evidence import (
    EARLY,
    ER_SETS,
    HALLMARK_ER_SETS,
    LATE,
    esr1_evidence,
    knockdown_evidence,
    set_evidence,
    signature_call,
    specificity,
)
from knockseq.verdict.rule import REASONS, RULE, STRENGTHS, VERDICTS, Calls, decide_call
from knockseq.verdict.text import plain_sentence, reason_text, summary_line

__all__ = [
    "EARLY",
    "ER_SETS",
    "ESR1",
    "HALLMARK_ER_SETS",
    "LATE",
    "REASONS",
    "RULE",
    "STRENGTHS",
    "VERDICTS",
    "adjust_across_contrasts",
    "decide",
    "direct_target_evidence",
    "summary_line",
    "write_dataset_verdicts",
    "write_verdict",
]

#: The config's ``verdict:`` keys the decision reads (their defaults live in the schema).
THRESHOLD_KEYS = ("fdr", "global_shift_share", "min_esr1_cpm", "min_marker_cpm", "min_effect")

_LOG = logging.getLogger("knockseq")

_SOFTWARE = ("knockseq", "pydeseq2", "gseapy", "pandas", "numpy", "scipy")


def decide(
    gsea: pd.DataFrame,
    knockdown: dict[str, Any],
    de_table: pd.DataFrame,
    provenance: list[dict[str, Any]],
    direct: dict[str, Any],
    *,
    direct_fdr: float | None,
    n_adjusted: int,
    thresholds: Mapping[str, float],
    de_settings: dict[str, Any],
) -> dict[str, Any]:
    """Decide whether ER targets are suppressed, activated, unchanged, or the data cannot say.

    Parameters
    ----------
    gsea : pandas.DataFrame
        Output of :func:`knockseq.enrichment.run_gsea` (``gene_set``, ``collection``, ``NES``,
        ``fdr`` ...).
    knockdown : dict
        ``results/knockdown/{contrast}.json`` (``status``, ``targets``, ``thresholds``).
    de_table : pandas.DataFrame
        The contrast's DE table, for ESR1's own change.
    provenance : list of dict
        Gene-set provenance (:attr:`knockseq.genesets.GeneSetCollection.provenance`).
    direct : dict
        :func:`~knockseq.verdict.direct.direct_target_evidence`'s result.
    direct_fdr : float or None
        ``direct['pvalue']`` adjusted across the run's contrasts
        (:func:`~knockseq.verdict.direct.adjust_across_contrasts`); None when not tested.
    n_adjusted : int
        Contrasts in that adjustment.
    thresholds : mapping
        The config's ``verdict:`` section (:data:`THRESHOLD_KEYS`).
    de_settings : dict
        ``results/de/{contrast}.json``: the contrast's levels, and the statistics the verdict
        rests on (recorded as ``de``).

    Returns
    -------
    dict
        What ``workflow/schemas/verdict.schema.yaml`` describes: ``verdict``, ``strength`` and
        ``strength_meaning``, ``sentence``, ``reasons`` and ``reason_codes``, ``summary``, the
        evidence (``er_program``, ``gene_sets``, ``signature``, ``direct_targets``,
        ``specificity``, ``esr1``, ``knockdown``) and ``rule``, ``thresholds``, ``provenance``,
        ``software``, ``de``.
    """
    limits = {key: float(thresholds[key]) for key in THRESHOLD_KEYS}
    fdr = limits["fdr"]
    sets = {name: set_evidence(gsea, name, fdr) for name in ER_SETS}
    signature = signature_call(sets)
    spec = specificity(gsea, signature, fdr, limits["global_shift_share"])
    program = er_program(direct["expression"], limits["min_esr1_cpm"], limits["min_marker_cpm"])
    direct = {**direct, "fdr": direct_fdr, "n_contrasts_adjusted": n_adjusted, "call": None, "powered": None}
    carried_by_few = False
    if direct["status"] == "tested":
        agree = direct["direction"] != "mixed"
        direct["call"] = direct["direction"] if agree and direct_fdr < fdr else "ns"
        ranks_hold = agree and direct["camera_ranks"]["pvalue"] < fdr
        carried_by_few = direct["camera"]["pvalue"] < fdr and not ranks_hold
        effect = direct["effect"]
        direct["powered"] = bool(-limits["min_effect"] < effect["ci_low"] and effect["ci_high"] < limits["min_effect"])
    decision = decide_call(
        Calls(
            signature=signature,
            direct=direct["call"],
            knockdown=knockdown["status"],
            global_shift=spec.get("global_shift", False),
            er_expressed=program["expressed"],
            powered=bool(direct["powered"]),
            direct_carried_by_few=carried_by_few,
        )
    )
    codes = list(decision.reasons)
    if any(entry.get("status") == "unavailable" for entry in provenance):
        codes.append("collection_unavailable")
    if de_settings.get("dispersion_trend") not in (None, "parametric"):
        codes.append("dispersion_trend")
    result = {
        "contrast": de_settings["contrast"],
        "test": de_settings["test"],
        "reference": de_settings["reference"],
        "verdict": decision.verdict,
        "strength": decision.strength,
        "strength_meaning": STRENGTHS[decision.strength],
        "er_call": decision.er_call,
        "reason_codes": codes,
        "rule": RULE,
        "thresholds": limits,
        "er_program": program,
        "gene_sets": sets,
        "signature": {"call": signature, "sets": [n for n in HALLMARK_ER_SETS if sets[n]["status"] == "tested"]},
        "direct_targets": direct,
        "specificity": spec,
        "esr1": esr1_evidence(de_table, knockdown["thresholds"]["alpha"]),
        "knockdown": knockdown_evidence(knockdown),
        "provenance": provenance,
        "software": software_versions(),
        "de": de_settings,
    }
    result["reasons"] = [reason_text(code, result) for code in codes]
    result["sentence"] = plain_sentence(result)
    result["summary"] = summary_line(result)
    return result


def write_dataset_verdicts(
    contrasts: Mapping[str, Mapping[str, str | os.PathLike]],
    provenance: str | os.PathLike,
    thresholds: Mapping[str, float],
) -> None:
    """Decide and write the verdict of every contrast of one dataset.

    The direct-target p-values of the dataset's contrasts are adjusted together
    (:func:`~knockseq.verdict.direct.adjust_across_contrasts`), so one contrast's verdict reads
    every contrast's direct-target file.

    Parameters
    ----------
    contrasts : mapping
        Contrast name -> paths of its inputs ``gsea`` (``results/gsea/{contrast}.tsv``),
        ``knockdown``, ``table`` and ``metadata`` (``results/de/{contrast}.json``), ``direct``
        (``results/direct_targets/{contrast}.json``), and of its output ``verdict``.
    provenance : str or PathLike
        The dataset's ``results/gene_sets/provenance.json``.
    thresholds : mapping
        The dataset's ``verdict:`` section (:data:`THRESHOLD_KEYS`).
    """
    direct = {name: read_json(paths["direct"]) for name, paths in contrasts.items()}
    fdr = adjust_across_contrasts(direct)
    n_adjusted = sum(value is not None for value in fdr.values())
    sets = read_json(provenance)
    for name, paths in contrasts.items():
        verdict = decide(
            read_table(paths["gsea"]),
            read_json(paths["knockdown"]),
            read_table(paths["table"]),
            sets,
            direct[name],
            direct_fdr=fdr[name],
            n_adjusted=n_adjusted,
            thresholds=thresholds,
            de_settings=read_json(paths["metadata"]),
        )
        write_verdict(verdict, paths["verdict"])
        # One job decides every contrast: its log names each, so a failure follows the last one done.
        _LOG.info("%s", verdict["summary"])


def write_verdict(verdict: dict[str, Any], path: str | os.PathLike) -> None:
    """Write the verdict dict as ``results/verdict/{contrast}.json`` (atomic, key-sorted)."""
    write_json(verdict, path)


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages behind a verdict."""
    versions = {"python": platform.python_version()}
    for package in _SOFTWARE:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
