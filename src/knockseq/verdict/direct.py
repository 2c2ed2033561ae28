"""The direct ER targets of one contrast: is the ER program expressed, did its targets move, how far.

:func:`direct_target_evidence` is the ``direct_targets`` step. It records, without any threshold
(thresholds belong to the verdict, so changing one reruns the verdict alone):

- **expression**: CPM of ESR1 and of every ER core gene, mean over the reference samples and over
  the test samples. A knockdown of ESR1 itself is judged in its controls; estradiol given to
  hormone-starved cells raises GREB1/PGR/TFF1 from a low reference, so the verdict reads the
  markers in either group (:func:`er_program`).
- **two CAMERA tests** of the ER core set (:mod:`knockseq.camera`), as limma runs them by default
  (a negative estimated correlation does not shrink the variance): the mean Wald statistic, and
  the ranks of the Wald statistics. A set mean can be carried by two extreme genes; the ranks
  cannot, so the direct call needs both.
- **effect**: the core genes' mean (unshrunk) log2 fold change with a 95% interval, the interval
  that says whether "unchanged" has power (:func:`mean_effect`).

Across the contrasts of a run the verdict adjusts the direct-target p-values (BH,
:func:`adjust_across_contrasts`): a screen of 50 siRNAs then has one false discovery rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from knockseq.camera import camera
from knockseq.design import sample_design
from knockseq.enrichment import gene_level, one_id_per_symbol
from knockseq.genesets import ER_CORE_SET, er_core_genes
from knockseq.io import write_json
from knockseq.multitest import p_adjust_bh

if TYPE_CHECKING:
    from knockseq.de import DEResult

#: The gene whose own mRNA is reported beside the targets, and which must be expressed.
ESR1 = "ESR1"
#: ER core genes expressed only where ER is active (the classic estrogen-response markers): an
#: ER program shows at least one of them. The other core genes (CTSD, IGFBP4, CXCL12, XBP1 ...)
#: are expressed in many tissues without ER (airway smooth muscle: IGFBP4 3,900 CPM).
ER_MARKERS = ("GREB1", "PGR", "TFF1")
#: Fewest ER core genes with a Wald statistic for the direct-target test: below this the set's
#: mean says little and the correlation estimate is meaningless.
MIN_DIRECT_GENES = 5
#: Coverage of the direct targets' interval.
LEVEL = 0.95


def write_direct_targets(result: DEResult, samples: pd.DataFrame, path: str | PathLike) -> None:
    """Write :func:`direct_target_evidence` of a contrast's DE result as JSON, atomically.

    Parameters
    ----------
    result : knockseq.de.DEResult
        The contrast's results, with the normalised counts of every sample of its fit (their
        residuals estimate the inter-gene correlation).
    samples : pandas.DataFrame
        The sample sheet indexed by sample, as a fit holds it (``FitResult.sheet``).
    path : str or PathLike
        ``results/direct_targets/{contrast}.json``.
    """
    evidence = direct_target_evidence(result.table, result.normalized_counts, samples.reset_index(), result.metadata)
    write_json(evidence, path)


def direct_target_evidence(
    de_table: pd.DataFrame,
    normalized_counts: pd.DataFrame,
    samples: pd.DataFrame,
    de_settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``direct_targets`` step of one contrast.

    Parameters
    ----------
    de_table : pandas.DataFrame
        The contrast's DE table (gene_id, gene_name, baseMean, log2FoldChange, stat, padj),
        n_genes rows.
    normalized_counts : pandas.DataFrame
        ``results/de/{contrast}.normalized_counts.tsv``: gene_id, gene_name, then one column per
        sample of the fit (every gene of the count table, so column sums are library sizes
        divided by size factors).
    samples : pandas.DataFrame
        The sample sheet.
    de_settings : mapping
        ``results/de/{contrast}.json``: ``contrast``, ``variable``, ``test``, ``reference`` and
        ``design`` (covariates), which give the groups and the model whose residuals estimate
        the inter-gene correlation.

    Returns
    -------
    dict
        ``contrast``, ``set``, ``status`` (``tested``, or ``not_tested`` with a ``note``),
        ``genes`` (per ER core gene: gene_id, baseMean, log2FoldChange, lfcSE, stat, pvalue,
        padj, None where not tested; or ``in_data: false``), ``expression`` (:func:`expression_evidence`) and, when
        tested, ``camera`` and ``camera_ranks`` (:class:`~knockseq.camera.CameraResult` fields),
        ``pvalue`` (the larger of the two), ``direction`` (``down``/``up`` when both agree, else
        ``mixed``) and ``effect`` (:func:`mean_effect`).
    """
    genes = gene_level(de_table)
    symbols = one_id_per_symbol(de_table)
    core = er_core_genes()
    columns = [c for c in normalized_counts.columns if c not in ("gene_id", "gene_name")]
    sheet = samples.set_index("sample").loc[columns]
    variable = de_settings["variable"]
    groups = {
        "reference": [s for s in columns if sheet.at[s, variable] == str(de_settings["reference"])],
        "test": [s for s in columns if sheet.at[s, variable] == str(de_settings["test"])],
    }
    result: dict[str, Any] = {
        "contrast": de_settings["contrast"],
        "set": ER_CORE_SET,
        "genes": [gene_evidence(symbols, symbol) for symbol in core],
        "expression": expression_evidence(de_table, normalized_counts, groups, [ESR1, *core]),
    }
    present = [g for g in core if g in genes.index]
    if len(present) < MIN_DIRECT_GENES:
        result.update(
            status="not_tested",
            note=f"only {len(present)} of the {len(core)} ER core genes have a statistic "
            f"(at least {MIN_DIRECT_GENES} are needed); check the gene ids map to human symbols.",
        )
        return result
    _, matrix, _ = sample_design(sheet.reset_index(), [*de_settings["design"], variable])
    expression = np.log2(normalized_counts.set_index("gene_id")[columns].astype(float) + 1)
    log_expression = expression.loc[genes["gene_id"].to_numpy()].set_axis(genes.index)
    statistic = genes["stat"].astype(float)
    mean_test = camera(statistic, log_expression, matrix.to_numpy(), present)
    rank_test = camera(statistic, log_expression, matrix.to_numpy(), present, use_ranks=True)
    result.update(
        status="tested",
        camera=mean_test.as_dict(),
        camera_ranks=rank_test.as_dict(),
        pvalue=max(mean_test.pvalue, rank_test.pvalue),
        direction=mean_test.direction if mean_test.direction == rank_test.direction else "mixed",
        effect=mean_effect(genes.loc[present, "log2FoldChange"].astype(float), mean_test.correlation),
    )
    return result


def expression_evidence(
    de_table: pd.DataFrame,
    normalized_counts: pd.DataFrame,
    groups: Mapping[str, list[str]],
    symbols: list[str],
) -> dict[str, Any]:
    """Counts per million of some genes, mean over each group's samples.

    Size factors cancel within a sample, so the CPM of a normalised count equals that of the
    raw count. A symbol shared by several gene ids is the id every step uses for it
    (:func:`knockseq.enrichment.one_id_per_symbol`, the most expressed).

    Parameters
    ----------
    de_table : pandas.DataFrame
        The DE table (gene_id, gene_name, baseMean), for the id of each symbol.
    normalized_counts : pandas.DataFrame
        gene_id, gene_name and one column per sample; every gene of the count table.
    groups : mapping
        ``reference`` and ``test`` -> their sample names.
    symbols : list of str
        The genes to report.

    Returns
    -------
    dict
        ``unit`` (``CPM``), ``n_samples`` (group -> count) and ``genes``: symbol ->
        ``{"reference": cpm, "test": cpm}``, or None for a symbol absent from the data.
    """
    ids = one_id_per_symbol(de_table)["gene_id"]
    counts = normalized_counts.set_index("gene_id").drop(columns="gene_name")
    cpm = counts / counts.sum(axis=0) * 1e6
    genes: dict[str, Any] = {}
    for symbol in symbols:
        if symbol not in ids.index:
            genes[symbol] = None
            continue
        row = cpm.loc[ids[symbol]]
        genes[symbol] = {group: float(row[names].mean()) for group, names in groups.items()}
    return {"unit": "CPM", "n_samples": {group: len(names) for group, names in groups.items()}, "genes": genes}


def er_program(expression: Mapping[str, Any], min_esr1_cpm: float, min_marker_cpm: float) -> dict[str, Any]:
    """Is there an ER program to judge? ESR1 in the reference samples, a marker in either group.

    Parameters
    ----------
    expression : mapping
        :func:`expression_evidence`'s result.
    min_esr1_cpm, min_marker_cpm : float
        The config's ``verdict.min_esr1_cpm`` and ``verdict.min_marker_cpm``.

    Returns
    -------
    dict
        ``expressed`` (bool), ``esr1_cpm`` (reference mean; 0 when ESR1 is not in the data),
        ``markers`` (marker -> the larger of its reference and test means, None when absent),
        ``best_marker``, and the two thresholds.
    """
    genes = expression["genes"]
    esr1 = genes.get(ESR1)
    esr1_cpm = 0.0 if esr1 is None else esr1["reference"]
    markers = {m: None if genes.get(m) is None else max(genes[m].values()) for m in ER_MARKERS}
    levels = {m: v for m, v in markers.items() if v is not None}
    best = max(levels, key=levels.get) if levels else None
    expressed = esr1_cpm >= min_esr1_cpm and best is not None and levels[best] >= min_marker_cpm
    return {
        "expressed": bool(expressed),
        "esr1_cpm": esr1_cpm,
        "esr1_in_data": esr1 is not None,
        "markers": markers,
        "best_marker": best,
        "min_esr1_cpm": min_esr1_cpm,
        "min_marker_cpm": min_marker_cpm,
    }


def mean_effect(log2fc: pd.Series, correlation: float | None, level: float = LEVEL) -> dict[str, Any]:
    """Mean log2 fold change of the set's genes with a t interval corrected for their correlation.

    The interval is CAMERA's reasoning on the fold-change scale: the genes' spread gives the
    variance of their mean (a one-sample t over genes, which holds both their sampling noise and
    how much they differ), and co-regulated genes vary together across samples, which inflates
    that variance by ``VIF = 1 + (m - 1) * max(correlation, 0)``.

    Parameters
    ----------
    log2fc : pandas.Series
        Unshrunk log2 fold change of the m set genes (m >= 2).
    correlation : float or None
        CAMERA's estimated inter-gene correlation (None: 0).
    level : float
        Coverage.

    Returns
    -------
    dict
        ``mean_log2FoldChange``, ``se``, ``df`` (m - 1), ``vif``, ``level``, ``ci_low``,
        ``ci_high`` and ``n_genes``.
    """
    m = len(log2fc)
    vif = 1 + (m - 1) * max(correlation or 0.0, 0.0)
    mean = float(log2fc.mean())
    se = float(log2fc.std(ddof=1) * np.sqrt(vif / m))
    half = float(stdtrit(m - 1, 0.5 + level / 2)) * se
    return {
        "mean_log2FoldChange": mean,
        "se": se,
        "df": m - 1,
        "vif": float(vif),
        "level": level,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "n_genes": m,
    }


def adjust_across_contrasts(evidence: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """BH adjustment of the direct-target p-values of every contrast of a run.

    Parameters
    ----------
    evidence : mapping
        Contrast -> :func:`direct_target_evidence`'s result.

    Returns
    -------
    dict
        Contrast -> its adjusted p-value (an FDR), None where the targets were not tested (not
        counted in the adjustment).
    """
    names = list(evidence)
    pvalues = np.array([evidence[n]["pvalue"] if evidence[n]["status"] == "tested" else np.nan for n in names])
    adjusted = p_adjust_bh(pvalues)
    return {n: None if np.isnan(q) else float(q) for n, q in zip(names, adjusted)}


def gene_evidence(symbols: pd.DataFrame, symbol: str) -> dict[str, Any]:
    """One gene's DE numbers, from :func:`knockseq.enrichment.one_id_per_symbol`'s table.

    ``in_data`` is False for a symbol absent from the data; a gene the DE pre-filter removed is
    in the data with its statistics None.
    """
    if symbol not in symbols.index:
        return {"gene": symbol, "in_data": False}
    row = symbols.loc[symbol]
    return {
        "gene": symbol,
        "in_data": True,
        "gene_id": row["gene_id"],
        **{key: number(row.get(key)) for key in ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")},
    }


def number(value: Any) -> float | None:
    """A float for JSON, None when missing or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return None
    return float(value) if np.isfinite(value) else None
