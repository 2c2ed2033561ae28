"""Time knockseq's R-compatible DESeq2 (``compat: r``) against stock PyDESeq2 on airway.

Runs ``deseq2()`` + Wald test + independent filtering (``summary()``) on airway ``~ cell + dex``
(64,102 genes x 8 samples, no pre-filtering), alternating the two modes so that load from other
processes hits both alike, and prints each run and the medians.

Usage: ``.venv/bin/python bench/rcompat_time.py [--repeats 3] [--n-cpus 2]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.ds import DeseqStats

from knockseq.engine import RDeseqDataSet, RDeseqStats

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "airway"


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Airway counts (samples x genes) and sample table, factor levels as in R."""
    counts = pd.read_csv(SHARED / "counts.tsv.gz", sep="\t", index_col=0)
    metadata = pd.read_csv(SHARED / "samples.tsv", sep="\t", index_col=0).loc[counts.columns]
    metadata["dex"] = pd.Categorical(metadata["dex"], categories=["untrt", "trt"])
    metadata["cell"] = pd.Categorical(metadata["cell"])
    return counts.T, metadata


def run(mode: str, counts: pd.DataFrame, metadata: pd.DataFrame, n_cpus: int) -> float:
    """Seconds for one full fit and results table in ``mode`` ("r" or "pydeseq2")."""
    dataset, stats = (RDeseqDataSet, RDeseqStats) if mode == "r" else (DeseqDataSet, DeseqStats)
    start = time.perf_counter()
    dds = dataset(counts=counts, metadata=metadata, design="~cell + dex", quiet=True, n_cpus=n_cpus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds.deseq2()
        stats(dds, contrast=["dex", "trt", "untrt"], alpha=0.1, quiet=True, n_cpus=n_cpus).summary()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-cpus", type=int, default=2)
    args = parser.parse_args()
    counts, metadata = load()
    times: dict[str, list[float]] = {"pydeseq2": [], "r": []}
    for i in range(args.repeats):
        for mode in ("pydeseq2", "r") if i % 2 == 0 else ("r", "pydeseq2"):
            times[mode].append(run(mode, counts, metadata, args.n_cpus))
            print(f"run {i + 1} {mode:8s} {times[mode][-1]:6.1f} s", flush=True)
    stock, r = (statistics.median(times[m]) for m in ("pydeseq2", "r"))
    print(f"median: pydeseq2 {stock:.1f} s, r {r:.1f} s, r / pydeseq2 = {r / stock:.2f}")


if __name__ == "__main__":
    main()
