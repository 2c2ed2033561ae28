"""Benjamini-Hochberg adjustment as R's ``p.adjust(method = "BH")``: NA stays NA and does not count.

Used by independent filtering (:mod:`knockseq.engine.filtering`) and by the verdict, which adjusts
the direct-target p-values across the contrasts of a run; it imports numpy only, so light jobs
can use it without the DE engine.
"""

from __future__ import annotations

import numpy as np


def decreasing_order(pvalue: np.ndarray) -> np.ndarray:
    """Indices of the non-NA p-values, largest first (ties in index order)."""
    tested = np.flatnonzero(~np.isnan(pvalue))
    return tested[np.argsort(-pvalue[tested], kind="stable")]


def bh_in_order(pvalue: np.ndarray, decreasing: np.ndarray) -> np.ndarray:
    """BH adjustment of ``pvalue[decreasing]`` (:func:`decreasing_order` order): n_genes values, NaN elsewhere."""
    adjusted = np.full(len(pvalue), np.nan)
    n = len(decreasing)
    if n:
        ranks = np.arange(n, 0, -1)
        adjusted[decreasing] = np.minimum(1.0, np.minimum.accumulate(n / ranks * pvalue[decreasing]))
    return adjusted


def p_adjust_bh(pvalue: np.ndarray) -> np.ndarray:
    """``p.adjust(p, "BH")`` of n_genes p-values: NA stays NA and does not count towards n."""
    return bh_in_order(pvalue, decreasing_order(pvalue))
