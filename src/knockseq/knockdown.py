"""Was the knockdown effective? Expression of the siRNA targets in one contrast.

For each target gene (symbol or gene id) :func:`assess_knockdown` reports its fold change, p-value,
the percentage of control expression remaining and its normalised counts, and gives it a status:

- ``effective``: ``percent_remaining <= effective_max_remaining`` (default 50) **and**
  ``pvalue < alpha`` (default 0.05): at least halved, and not by chance;
- ``weak``: not effective, but ``percent_remaining <= weak_max_remaining`` (default 80) with
  ``pvalue < alpha`` (a real but modest drop), or ``percent_remaining <= effective_max_remaining``
  without significance (a large drop the replicates cannot confirm);
- ``failed``: anything else, including a target without a fold change (all-zero or removed by
  the DE pre-filter) and a significant drop leaving more than ``weak_max_remaining`` percent.

Each target is a hypothesis named before the experiment, so its test is its own Wald p-value
(``pvalue``), not the ``padj`` that corrects for testing every gene of the transcriptome and that
independent filtering may leave empty. The contrast's status is its worst target's (every
target must be down), which needs no correction across targets either.

The headline ``percent_remaining`` is ``100 * 2 ** log2FoldChange``: the model's estimate, which
accounts for size factors and the design's covariates (pairing, batch). The unshrunk
(maximum-likelihood) fold change is used because apeGLM shrinks towards 0 and would understate a
real knockdown of a noisy gene. ``percent_remaining_counts`` (``100 * mean normalised count of
test samples / that of reference samples``) is reported beside it as a model-free check; the two
differ when covariates matter or samples are unbalanced.

A contrast without targets is a treatment (a drug, estradiol, fulvestrant): its status is
``not assessed`` and the verdict rests on the ER gene sets alone.

The contrast's status is its **worst** target's. The usual targets, PPP3CA and PPP3CB, encode
redundant catalytic subunits of calcineurin: either one left intact can carry the phosphatase
activity, so the experiment tests loss of calcineurin only if every targeted paralog is down.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from knockseq.design import subset_samples
from knockseq.enrichment import one_id_per_symbol
from knockseq.errors import InputError
from knockseq.geneids import examples, id_kind

#: The thresholds of the config's ``knockdown:`` section (their defaults live in the schema).
THRESHOLD_KEYS = ("effective_max_remaining", "weak_max_remaining", "alpha")

#: Statuses from worst to best.
STATUSES = ("failed", "weak", "effective")

#: Which p-value decides a target's significance, as the knockdown JSON states it.
TARGET_TEST = (
    "each target is one pre-named hypothesis: its own Wald p-value (pvalue < alpha), not the transcriptome-wide "
    "padj; the contrast takes its worst target's status, so no correction across targets is needed"
)

#: Status of a contrast that names no targets (a treatment).
NOT_ASSESSED = "not assessed"


def assess_knockdown(
    de_table: pd.DataFrame,
    normalized_counts: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: Mapping[str, Any],
    targets: Sequence[str],
    thresholds: Mapping[str, float],
) -> dict[str, Any]:
    """Knockdown efficiency of the target genes in one contrast.

    Parameters
    ----------
    de_table : pandas.DataFrame
        The contrast's results (``results/de/{contrast}.tsv``): at least gene_id, gene_name,
        log2FoldChange, pvalue, padj; one row per gene.
    normalized_counts : pandas.DataFrame
        ``results/de/{contrast}.normalized_counts.tsv``: gene_id, gene_name, then one column per
        sample of the contrast (columns of other samples are ignored).
    samples : pandas.DataFrame
        The sample sheet.
    contrast : mapping
        ``name``, ``variable`` (default ``condition``), ``test``, ``reference``, ``where``.
    targets : sequence of str
        Gene symbols (matched case-sensitively against gene_name) or gene ids; empty for a
        treatment.
    thresholds : mapping
        :data:`THRESHOLD_KEYS` (percentages, and the p-value cut-off), as the config's ``knockdown:``
        section gives them; other keys of that section (``targets``) are ignored.

    Returns
    -------
    dict
        ``contrast``, ``status`` (worst target's, or ``not assessed`` without targets),
        ``thresholds``, ``headline`` (how percent_remaining is computed), ``test`` (which
        p-value decides), ``note`` and ``targets``: one dict per target with ``gene`` (as
        configured), gene_id, gene_name, log2FoldChange, pvalue, padj, percent_remaining, percent_remaining_counts,
        mean_normalized_test, mean_normalized_reference, status, normalized_counts
        (``{sample: value}``) and ``note`` (or None). Missing numbers are None.

    Raises
    ------
    InputError
        Inconsistent thresholds, or a target absent from the table.
    """
    limits = _thresholds(thresholds)
    name = str(contrast.get("name", "contrast"))
    if not targets:
        return {
            "contrast": name,
            "status": NOT_ASSESSED,
            "thresholds": limits,
            "headline": None,
            "test": None,
            "note": "the contrast names no knockdown targets (a treatment): knockdown not assessed.",
            "targets": [],
        }
    variable = contrast["variable"]
    sheet = subset_samples(samples, contrast.get("where") or {}, name=name)
    used = [s for s in sheet.index if s in normalized_counts.columns]
    test = [s for s in used if sheet.loc[s, variable] == str(contrast["test"])]
    reference = [s for s in used if sheet.loc[s, variable] == str(contrast["reference"])]
    counts = normalized_counts.set_index("gene_id")

    reports = []
    for target in targets:
        row, note = _match(de_table, target, name)
        gene_counts = counts.loc[row["gene_id"], used].astype(float)
        lfc, pvalue = _number(row["log2FoldChange"]), _number(row["pvalue"])
        remaining = None if lfc is None else 100 * 2**lfc
        mean_test, mean_ref = float(gene_counts[test].mean()), float(gene_counts[reference].mean())
        if lfc is None:
            note = _join(note, "no fold change (gene has no counts or was removed by the DE pre-filter)")
        reports.append(
            {
                "gene": target,
                "gene_id": row["gene_id"],
                "gene_name": _text(row["gene_name"]),
                "log2FoldChange": lfc,
                "pvalue": pvalue,
                "padj": _number(row["padj"]),
                "percent_remaining": remaining,
                "percent_remaining_counts": 100 * mean_test / mean_ref if mean_ref > 0 else None,
                "mean_normalized_test": mean_test,
                "mean_normalized_reference": mean_ref,
                "status": target_status(remaining, pvalue, limits),
                "normalized_counts": {s: float(v) for s, v in gene_counts.items()},
                "note": note,
            }
        )
    return {
        "contrast": name,
        "status": min((r["status"] for r in reports), key=STATUSES.index),
        "thresholds": limits,
        "headline": "percent_remaining = 100 * 2^log2FoldChange (unshrunk model estimate)",
        "test": TARGET_TEST,
        "note": None,
        "targets": reports,
    }


def check_targets(counts: pd.DataFrame, targets: Mapping[str, Sequence[str]], source: str) -> pd.DataFrame:
    """Find every contrast's knockdown targets in the count table, before any model is fitted.

    Parameters
    ----------
    counts : pandas.DataFrame
        ``results/counts/counts.tsv``: ``gene_id``, ``gene_name``, then one column per sample.
    targets : mapping
        Contrast name -> its targets (symbols or gene ids; empty for a treatment).
    source : str
        The count table's path, for messages.

    Returns
    -------
    pandas.DataFrame
        One row per contrast, target and matching gene id (n_matches x 4): ``contrast``,
        ``target``, ``gene_id``, ``gene_name``; a symbol shared by several ids has a row each.

    Raises
    ------
    InputError
        For the first target that is neither a gene id nor a gene name of the table, with the
        closest gene names (difflib) or, failing those, the kind of names the data have.
    """
    rows = []
    for contrast, genes in targets.items():
        for target in genes:
            hits = counts[(counts["gene_id"] == target) | (counts["gene_name"] == target)]
            if hits.empty:
                raise absent_target(target, contrast, counts["gene_name"], source)
            rows += [(contrast, target, gene_id, name) for gene_id, name in zip(hits["gene_id"], hits["gene_name"])]
    return pd.DataFrame(rows, columns=["contrast", "target", "gene_id", "gene_name"])


def absent_target(target: str, contrast: str, gene_names: pd.Series, source: str) -> InputError:
    """The error for a knockdown target the data do not have: close symbols, or the data's name kind."""
    names = gene_names.dropna().astype(str).unique().tolist()
    close = [n for n in names if n.lower() == target.lower()]
    close += [n for n in difflib.get_close_matches(target, names, n=5, cutoff=0.8) if n not in close]
    if close:
        hint = f" Close gene names: {', '.join(close)}."
    elif names:
        hint = f" The data's gene names look like {id_kind(names)} (e.g. {examples(names)})."
    else:
        hint = " The data have no gene names (set `annotation:` to name the genes by symbol)."
    return InputError(
        f"knockdown target '{target}' of contrast '{contrast}' is neither a gene id nor a gene name of {source}.{hint}",
        column=f"contrasts.{contrast}.targets",
        fix="give the target's symbol exactly as the data name it (case matters) or its gene id, in the "
        "contrast's targets (or knockdown.targets).",
    )


def target_status(percent_remaining: float | None, pvalue: float | None, thresholds: Mapping[str, float]) -> str:
    """Status of one target, by the rules in the module docstring.

    Parameters
    ----------
    percent_remaining : float or None
        ``100 * 2 ** log2FoldChange``; None when there is no fold change.
    pvalue : float or None
        The target's own Wald p-value; None when not tested (counts as not significant).
    thresholds : mapping
        ``effective_max_remaining``, ``weak_max_remaining``, ``alpha``.

    Returns
    -------
    str
        One of :data:`STATUSES`.
    """
    if percent_remaining is None:
        return "failed"
    significant = pvalue is not None and pvalue < thresholds["alpha"]
    large = percent_remaining <= thresholds["effective_max_remaining"]
    if large and significant:
        return "effective"
    if large or (significant and percent_remaining <= thresholds["weak_max_remaining"]):
        return "weak"
    return "failed"


def _thresholds(given: Mapping[str, float]) -> dict[str, float]:
    """The thresholds of ``given`` (checked when the config is parsed: ordered percentages)."""
    return {k: float(given[k]) for k in THRESHOLD_KEYS}


def _match(de_table: pd.DataFrame, target: str, contrast: str) -> tuple[pd.Series, str | None]:
    """The DE row of ``target`` (gene_id or exact symbol), and a note if the symbol was ambiguous.

    A symbol shared by several gene ids (retired ids keep their old symbol) resolves as in every
    step (:func:`knockseq.enrichment.one_id_per_symbol`): to the most expressed id, the one an
    siRNA effect would be measured on.
    """
    by_id = de_table[de_table["gene_id"] == target]
    if len(by_id):
        return by_id.iloc[0], None
    hits = de_table[de_table["gene_name"] == target]
    if hits.empty:
        raise absent_target(target, contrast, de_table["gene_name"], "the DE results")
    if len(hits) == 1:
        return hits.iloc[0], None
    best = one_id_per_symbol(hits).reset_index().iloc[0]
    others = ", ".join(g for g in hits["gene_id"] if g != best["gene_id"])
    note = f"'{target}' matches {len(hits)} gene ids; used the most expressed, {best['gene_id']}"
    return best, f"{note} (others: {others})"


def _number(value: Any) -> float | None:
    """``value`` as a float, None if missing."""
    return None if value is None or pd.isna(value) else float(value)


def _text(value: Any) -> str | None:
    """``value`` as a string, None if missing."""
    return None if value is None or pd.isna(value) else str(value)


def _join(note: str | None, more: str) -> str:
    """Append ``more`` to an optional note."""
    return more if note is None else f"{note}; {more}"
