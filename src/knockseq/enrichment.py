"""Gene-set enrichment of a DE table: preranked GSEA (gseapy) and over-representation (hypergeometric).

Both start from the same gene-level view of the DE table: genes without a symbol are dropped and
a symbol carried by several gene ids (retired Ensembl ids keep their old symbol) is represented by
its most expressed id, the largest baseMean (:func:`one_id_per_symbol`), the rule of every step
that reads genes by symbol (knockdown check, GSEA, ORA, verdict). Choosing by baseMean, not by
the statistic tested, keeps the choice independent of the outcome: picking the id with the
largest |stat| would select for enrichment. (The R fgsea reference ranking kept the largest
|stat|; ``tests/test_enrichment.py`` counts the symbols where the two rules differ.) Each
gene-set collection is tested on its own, as GSEA does for MSigDB collections: a set's FDR then
does not depend on which other collections the config lists.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import os
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from knockseq.errors import InputError
from knockseq.genesets import GeneSetCollection, read_gene_sets
from knockseq.io import read_table, write_tsv

_LOG = logging.getLogger("knockseq")

if TYPE_CHECKING:
    from gseapy.gse import GSEASummary

#: The ``gsea.ranking`` choices (see :func:`ranking_values`).
RANKINGS = ("stat", "signed_log10_pvalue", "shrunk_lfc")

#: Provenance of each row's collection (name, version, sha256 of the file used), so a GSEA or ORA
#: table read on its own still says exactly which gene sets produced it.
PROVENANCE_COLUMNS = ["collection_version", "collection_sha256"]
GSEA_COLUMNS = [
    "gene_set",
    "collection",
    "NES",
    "ES",
    "pvalue",
    "fdr",
    "set_size",
    "matched_size",
    "coverage",
    "leading_edge",
    *PROVENANCE_COLUMNS,
]
ORA_COLUMNS = [
    "direction",
    "gene_set",
    "collection",
    "overlap",
    "set_size",
    "n_significant",
    "background",
    "pvalue",
    "fdr",
    "genes",
    *PROVENANCE_COLUMNS,
]


def one_id_per_symbol(de_table: pd.DataFrame) -> pd.DataFrame:
    """One row per symbol: the DE row of its most expressed gene id.

    The id with the largest ``baseMean`` represents the symbol (a missing baseMean counts as
    the smallest); ties keep the smaller gene_id. Rows without a ``gene_name`` (or a blank one)
    are dropped. Rows without statistics are kept: the symbol's gene may have been removed by
    the DE pre-filter, and that is then what every step reports for it.

    Parameters
    ----------
    de_table : DataFrame
        DE results (n_genes rows) with at least ``gene_id``, ``gene_name`` and ``baseMean``.

    Returns
    -------
    DataFrame
        The kept rows (n_symbols), indexed by the stripped symbol, ordered by symbol.
    """
    names = de_table["gene_name"].astype("string").str.strip()
    table = de_table[names.notna() & (names != "")].assign(gene_name=names)
    table = table.assign(_expression=table["baseMean"].astype(float).fillna(-np.inf))
    table = table.sort_values(["_expression", "gene_id"], ascending=[False, True], kind="mergesort")
    table = table.drop_duplicates("gene_name", keep="first").drop(columns="_expression")
    return table.set_index("gene_name").sort_index(kind="mergesort")


def gene_level(de_table: pd.DataFrame) -> pd.DataFrame:
    """The symbols with a Wald stat, one row each (:func:`one_id_per_symbol`), strongest first.

    Parameters
    ----------
    de_table : DataFrame
        DE results (n_genes rows) with at least ``gene_id``, ``gene_name``, ``baseMean`` and
        ``stat``.

    Returns
    -------
    DataFrame
        The rows of :func:`one_id_per_symbol` whose ``stat`` is not missing (n_symbols), indexed
        by symbol, ordered by decreasing |stat|, ties by gene_id, so that tied genes keep a
        reproducible order in the GSEA ranking and the ORA gene lists.
    """
    table = one_id_per_symbol(de_table)
    table = table[table["stat"].notna()].sort_values("gene_id", kind="mergesort")
    return table.iloc[np.argsort(-table["stat"].abs().to_numpy(), kind="mergesort")]


def ranking_values(de_table: pd.DataFrame, ranking: str) -> pd.Series:
    """The per-gene ranking metric chosen by ``gsea.ranking``, aligned to ``de_table``.

    ``stat``: the Wald statistic. ``signed_log10_pvalue``: sign(log2FoldChange) * -log10(pvalue),
    with p-values of 0 set to the smallest positive double so they rank first, not as infinity.
    ``shrunk_lfc``: the apeGLM-shrunk log2 fold change.
    """
    if ranking == "stat":
        return de_table["stat"]
    if ranking == "signed_log10_pvalue":
        pvalue = de_table["pvalue"].clip(lower=np.finfo(float).tiny)
        return np.sign(de_table["log2FoldChange"]) * -np.log10(pvalue)
    if ranking == "shrunk_lfc":
        if "log2FoldChange_shrunk" not in de_table or de_table["log2FoldChange_shrunk"].isna().all():
            raise InputError(
                "gsea ranking 'shrunk_lfc' needs shrunk log2 fold changes, and the DE table has none.",
                column="gsea.ranking",
                fix="set de: {shrink: true}, or use ranking: stat.",
            )
        return de_table["log2FoldChange_shrunk"]
    raise InputError(
        f"unknown GSEA ranking '{ranking}'.", column="gsea.ranking", fix=f"use one of: {', '.join(RANKINGS)}."
    )


def gsea_ranking(de_table: pd.DataFrame, ranking: str) -> pd.Series:
    """Ranked list for preranked GSEA: symbol -> metric, one gene id per symbol, sorted decreasing.

    Each symbol is its :func:`gene_level` gene whatever the ranking metric, so every ranking
    uses the same gene for a symbol. Ties in the metric keep :func:`gene_level`'s order
    (|stat|, then gene_id) through a stable sort, so the order is reproducible.

    Parameters
    ----------
    de_table : DataFrame
        DE results (n_genes rows).
    ranking : {"stat", "signed_log10_pvalue", "shrunk_lfc"}
        ``gsea.ranking``, see :func:`ranking_values`.

    Returns
    -------
    Series
        n_ranked values indexed by symbol, named ``ranking``; symbols whose metric is missing
        are left out.
    """
    genes = gene_level(de_table.assign(_metric=ranking_values(de_table, ranking)))
    genes = genes[genes["_metric"].notna()]
    ranks = genes["_metric"].astype(float).rename(ranking)
    return ranks.iloc[np.argsort(-ranks.to_numpy(), kind="mergesort")]


def run_gsea(
    de_table: pd.DataFrame,
    gene_sets: GeneSetCollection | Mapping[str, list[str]],
    *,
    ranking: str,
    permutations: int,
    min_size: int,
    max_size: int,
    seed: int,
    method: str,
    threads: int = 1,
) -> pd.DataFrame:
    """Preranked GSEA of a DE table against every gene-set collection.

    Parameters
    ----------
    de_table : DataFrame
        ``results/de/{contrast}.tsv`` as a frame (``gene_id``, ``gene_name``, ``stat``, ...).
    gene_sets : GeneSetCollection or mapping of str to list of str
        The sets; a plain mapping is treated as one collection named ``gene_sets``.
    ranking : {"stat", "signed_log10_pvalue", "shrunk_lfc"}
        Ranking metric, see :func:`ranking_values`.
    permutations : int
        Gene-set permutations of gseapy's null distribution (p-values resolve down to about
        1 / permutations; 0 is reported when no permutation was as extreme).
    min_size, max_size : int
        A set is tested when this many of its genes (inclusive) are in the ranking.
    seed : int
        Seed of gseapy's permutations: equal inputs and seed give equal results.
    threads : int
        Threads gseapy may use.
    method : {"permutation", "multilevel"}
        gseapy's significance procedure: ``permutation`` is classic GSEA (gene-set permutations,
        FDR q-value as in the Broad's GSEA); ``multilevel`` is gseapy's port of
        fgseaMultilevel (p-values below 1 / permutations, Benjamini-Hochberg FDR), which is
        what R's fgsea reports.

    Returns
    -------
    DataFrame
        :data:`GSEA_COLUMNS`, one row per set of every available collection. ``set_size`` is the
        set's size in its source, ``matched_size`` how many of its genes are ranked,
        ``coverage`` their share; sets outside the size limits have NA statistics. ``fdr`` is
        gseapy's FDR q-value within the collection; ``leading_edge`` the comma-joined leading-edge
        symbols. Sorted by pvalue (NA last), gene_set, collection.
    """
    return run_prerank(
        gsea_ranking(de_table, ranking),
        gene_sets,
        permutations=permutations,
        min_size=min_size,
        max_size=max_size,
        seed=seed,
        threads=threads,
        method=method,
    )


def run_prerank(
    ranks: pd.Series,
    gene_sets: GeneSetCollection | Mapping[str, list[str]],
    *,
    permutations: int,
    min_size: int,
    max_size: int,
    seed: int,
    method: str,
    threads: int = 1,
) -> pd.DataFrame:
    """Preranked GSEA of a ready ranking (symbol -> value); see :func:`run_gsea` for the rest.

    ``ranks`` must have unique symbols and no missing values; it is ordered by decreasing value
    here with a stable sort and handed to gseapy unsorted (``ascending=None``), because gseapy's
    own sort is not stable and would shuffle tied genes.
    """
    if ranks.index.has_duplicates or ranks.isna().any():
        raise ValueError("ranks must have unique symbols and no missing values")
    ranks = ranks.astype(float).iloc[np.argsort(-ranks.to_numpy(dtype=float), kind="mergesort")]
    present = set(ranks.index)
    rows = []
    for collection, sets in _collections(gene_sets).items():
        matched = {name: [g for g in genes if g in present] for name, genes in sets.items()}
        testable = {n: g for n, g in matched.items() if min_size <= len(g) <= max_size and len(g) < len(ranks)}
        results = _gseapy_prerank(ranks, testable, permutations, min_size, max_size, seed, threads, method)
        for name, genes in sets.items():
            rows.append(
                {
                    "gene_set": name,
                    "collection": collection,
                    "NES": np.nan,
                    "ES": np.nan,
                    "pvalue": np.nan,
                    "fdr": np.nan,
                    "leading_edge": pd.NA,
                    **results.get(name, {}),
                    "set_size": len(genes),
                    "matched_size": len(matched[name]),
                    "coverage": len(matched[name]) / len(genes),
                }
            )
    table = _with_provenance(pd.DataFrame(rows, columns=GSEA_COLUMNS), gene_sets)
    return table.sort_values(["pvalue", "gene_set", "collection"], na_position="last", kind="mergesort").reset_index(
        drop=True
    )


def run_ora(
    de_table: pd.DataFrame,
    gene_sets: GeneSetCollection | Mapping[str, list[str]],
    *,
    alpha: float,
    min_abs_lfc: float,
    min_size: int,
    max_size: int,
) -> pd.DataFrame:
    """Over-representation of significantly down- and up-regulated genes (one-sided hypergeometric).

    The background is every symbol whose gene (:func:`gene_level`) has a padj (genes DESeq2
    tested and did not filter out: only they could have been called significant). A gene is
    ``up`` when padj < ``alpha`` and log2FoldChange > ``min_abs_lfc``, ``down`` when padj <
    ``alpha`` and log2FoldChange < -``min_abs_lfc``.

    Parameters
    ----------
    de_table : DataFrame
        DE results with ``gene_id``, ``gene_name``, ``stat``, ``padj``, ``log2FoldChange``.
    gene_sets : GeneSetCollection or mapping of str to list of str
        The sets (a mapping is one collection named ``gene_sets``).
    alpha : float
        padj cut-off for a significant gene.
    min_abs_lfc : float
        Minimum |log2FoldChange| of a significant gene.
    min_size, max_size : int
        A set is tested when this many of its genes (inclusive) are in the background.

    Returns
    -------
    DataFrame
        :data:`ORA_COLUMNS`: per direction and set, ``overlap`` (significant genes in the set),
        ``set_size`` (set genes in the background), ``n_significant`` and ``background`` (the
        other two margins of the test), ``pvalue`` P(X >= overlap), ``fdr`` (Benjamini-Hochberg
        within direction and collection) and ``genes`` (the overlap, comma-joined, strongest
        first). Sets outside the size limits have NA statistics. Sorted by direction, pvalue,
        gene_set, collection.
    """
    from scipy import stats  # here, not at the top: every job importing this module would pay 0.6 s

    genes = gene_level(de_table)
    background = genes[genes["padj"].notna()]
    significant = background["padj"] < alpha
    selected = {
        "down": background.index[significant & (background["log2FoldChange"] < -min_abs_lfc)],
        "up": background.index[significant & (background["log2FoldChange"] > min_abs_lfc)],
    }
    position = {gene: i for i, gene in enumerate(background.index)}
    rows = []
    for direction, chosen in selected.items():
        chosen_set = set(chosen)
        for collection, sets in _collections(gene_sets).items():
            block = []
            for name, genes in sets.items():
                in_background = sorted((g for g in set(genes) if g in position), key=position.__getitem__)
                hits = [g for g in in_background if g in chosen_set]
                tested = min_size <= len(in_background) <= max_size
                block.append(
                    {
                        "direction": direction,
                        "gene_set": name,
                        "collection": collection,
                        "overlap": len(hits),
                        "set_size": len(in_background),
                        "n_significant": len(chosen_set),
                        "background": len(position),
                        "pvalue": stats.hypergeom.sf(len(hits) - 1, len(position), len(in_background), len(chosen_set))
                        if tested
                        else np.nan,
                        "genes": ",".join(hits),
                    }
                )
            pvalues = np.array([r["pvalue"] for r in block], dtype=float)
            fdr = np.full(len(block), np.nan)
            ok = ~np.isnan(pvalues)
            if ok.any():
                fdr[ok] = stats.false_discovery_control(pvalues[ok], method="bh")
            for row, q in zip(block, fdr):
                row["fdr"] = q
            rows.extend(block)
    table = _with_provenance(pd.DataFrame(rows, columns=ORA_COLUMNS), gene_sets)
    return table.sort_values(
        ["direction", "pvalue", "gene_set", "collection"], na_position="last", kind="mergesort"
    ).reset_index(drop=True)


def write_ora_tables(
    tables: Mapping[str, str | os.PathLike],
    gmt: str | os.PathLike,
    provenance: str | os.PathLike,
    *,
    alpha: float,
    min_abs_lfc: float,
    min_size: int,
    max_size: int,
) -> None:
    """:func:`run_ora` of each DE table of one dataset against its gene sets, each table written.

    Parameters
    ----------
    tables : mapping
        ``results/de/{contrast}.tsv`` -> ``results/ora/{contrast}.tsv``.
    gmt, provenance : str or PathLike
        The dataset's ``results/gene_sets/gene_sets.gmt`` and ``provenance.json``.
    alpha, min_abs_lfc, min_size, max_size
        As :func:`run_ora`.
    """
    gene_sets = read_gene_sets(gmt, provenance)
    for de_path, ora_path in tables.items():
        table = run_ora(
            read_table(de_path), gene_sets, alpha=alpha, min_abs_lfc=min_abs_lfc, min_size=min_size, max_size=max_size
        )
        write_tsv(table, ora_path)
        significant = table.drop_duplicates("direction").set_index("direction")["n_significant"]
        _LOG.info(
            "%s: ORA of %d down- and %d up-regulated genes",
            de_path,
            significant.get("down", 0),
            significant.get("up", 0),
        )


def _collections(gene_sets: GeneSetCollection | Mapping[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Collection name -> its sets."""
    if isinstance(gene_sets, GeneSetCollection):
        return gene_sets.by_collection()
    return {"gene_sets": dict(gene_sets)}


def _with_provenance(table: pd.DataFrame, gene_sets: GeneSetCollection | Mapping[str, list[str]]) -> pd.DataFrame:
    """Fill :data:`PROVENANCE_COLUMNS` from the collection's provenance (NA for a plain mapping)."""
    if isinstance(gene_sets, GeneSetCollection):
        records = {entry["name"]: entry for entry in gene_sets.provenance}
        for column in PROVENANCE_COLUMNS:
            key = column.removeprefix("collection_")
            table[column] = table["collection"].map({name: record.get(key) for name, record in records.items()})
    return table


def _gseapy_prerank(
    ranks: pd.Series,
    sets: dict[str, list[str]],
    permutations: int,
    min_size: int,
    max_size: int,
    seed: int,
    threads: int,
    method: str,
) -> dict[str, dict]:
    """gseapy's preranked GSEA on a ranking sorted decreasing: set name -> ES, NES, pvalue, fdr, leading_edge.

    Calls gseapy's compiled core (``gseapy.gse.fgsea_rs`` for ``multilevel``, with gseapy's own
    defaults for the rest; ``prerank_rs`` for ``permutation``, with classic GSEA's weight 1, as
    ``gseapy.prerank``'s default), as ``gseapy.prerank`` does after
    its input checks and before its result table: ``run_prerank`` has already done the checks
    (ties ordered, sets matched exactly), and the table's Python loops cost 0.2 s against the
    core's 0.8 s on the hallmark sets. ``tests/test_enrichment.py`` checks that both give the
    same numbers and leading edges (gseapy is pinned).
    """
    if not sets:
        return {}
    core = gseapy_core()
    genes = [str(gene) for gene in ranks.index]
    values = ranks.to_numpy(dtype=float).tolist()
    if method == "multilevel":
        result = core.fgsea_rs(
            genes, values, sets, min_size=min_size, max_size=max_size, nperm=permutations, threads=threads, seed=seed
        )
    else:
        result = core.prerank_rs(genes, values, sets, 1.0, min_size, max_size, permutations, threads, seed)
    return {
        summary.term: {
            "ES": summary.es,
            "NES": summary.nes,
            "pvalue": summary.pval,
            "fdr": summary.fdr,
            "leading_edge": ",".join(_leading_edge(summary, genes)),
        }
        for summary in result.summaries
    }


@functools.cache
def gseapy_core() -> ModuleType:
    """gseapy's compiled core, ``gseapy.gse``, loaded without running ``gseapy/__init__.py``.

    Importing ``gseapy.gse`` the usual way first runs the package's ``__init__``, which imports
    matplotlib's pyplot, scipy.stats, scipy.cluster and requests for gseapy's plots and Enrichr
    client: 1.2 s of CPU against the core's 0.2 s on the hallmark sets, paid by every GSEA job.
    The extension module itself imports nothing of the package.
    """
    package = importlib.util.find_spec("gseapy")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("gseapy is not installed: pip install -r requirements.lock")
    for folder in package.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "gse" + suffix)
            if os.path.exists(path):
                loader = importlib.machinery.ExtensionFileLoader("gseapy.gse", path)
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gseapy.gse", loader))
                loader.exec_module(module)
                return module
    raise ModuleNotFoundError(f"gseapy's compiled core (gse{importlib.machinery.EXTENSION_SUFFIXES[0]}) is missing")


def _leading_edge(summary: GSEASummary, genes: list[str]) -> list[str]:
    """The leading edge of one set, as gseapy's result table takes it.

    The set's genes ranked before the running score's extreme for a positive ES, after it (from
    the bottom up) for a negative one; ``genes`` is the whole ranking (n_ranked symbols).
    """
    running = np.asarray(summary.run_es)
    if running.size <= 1:
        return []
    if summary.es >= 0:
        extreme = int(running.argmax())
        return [genes[i] for i in summary.hits if i <= extreme]
    extreme = int(running.argmin())
    return [genes[i] for i in summary.hits if i >= extreme][::-1]
