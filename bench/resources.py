"""Peak memory and wall time of the ``fit`` and ``vst`` steps against samples x genes.

Each point runs in a fresh Python process (so peak RSS is that step's alone): two groups of
``samples / 2``, negative binomial counts with DESeq2's mean-dispersion shape (``0.01 + 1 / mean``,
log-normal means, seed 0), ``compat: r``, default pre-filter, one CPU. The numbers are what
``knockseq.resources`` is calibrated on (``docs/resources.md``).

Usage: ``.venv/bin/python bench/resources.py [--points 6x20000 24x20000 96x20000 24x60000]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd


def synthetic(n_samples: int, n_genes: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``counts.tsv``-shaped table (n_genes rows) and a two-group sheet (n_samples rows)."""
    rng = np.random.default_rng(seed)
    mean = rng.lognormal(mean=5, sigma=2, size=n_genes)[:, None] * rng.uniform(0.7, 1.3, n_samples)[None, :]
    dispersion = 0.01 + 1 / mean
    values = rng.negative_binomial(1 / dispersion, 1 / (1 + mean * dispersion))
    samples = [f"s{i:03d}" for i in range(n_samples)]
    counts = pd.DataFrame(values, columns=samples)
    ids = [f"G{i:05d}" for i in range(n_genes)]
    counts.insert(0, "gene_name", ids)
    counts.insert(0, "gene_id", ids)
    sheet = pd.DataFrame({"sample": samples, "condition": ["control", "knockdown"] * (n_samples // 2)})
    return counts, sheet


def measure(step: str, n_samples: int, n_genes: int) -> dict[str, float]:
    """Seconds and peak RSS (MiB) of one step in this process, and the RSS before it."""
    from knockseq.de import fit_design, vst
    from knockseq.fits import FitSpec

    counts, sheet = synthetic(n_samples, n_genes)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if step == "fit":
        spec = FitSpec("condition", "control", tuple(sheet["sample"]), (), 10, "r", "batched", True)
        fit_design(counts, sheet, spec, n_cpus=1)
    else:
        vst(counts, sheet, ["condition"], blind=True, compat="r", engine="batched")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step": step, "samples": n_samples, "genes": n_genes, "seconds": seconds, "peak_mib": peak, "before_mib": before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", default=["6x20000", "24x20000", "96x20000", "24x60000"])
    parser.add_argument("--child", nargs=3, metavar=("STEP", "SAMPLES", "GENES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        warnings.simplefilter("ignore")
        print(json.dumps(measure(args.child[0], int(args.child[1]), int(args.child[2]))))
        return
    print("| step | samples | genes | seconds | peak RSS MiB | RSS before the step MiB |\n|---|---|---|---|---|---|")
    for step in ("vst", "fit"):
        for point in args.points:
            n_samples, n_genes = point.split("x")
            out = subprocess.run(
                [sys.executable, __file__, "--child", step, n_samples, n_genes], capture_output=True, text=True, check=True
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {step} | {row['samples']} | {row['genes']} | {row['seconds']:.1f} | {row['peak_mib']:.0f} | {row['before_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
